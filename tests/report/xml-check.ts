// A small XML well-formedness check for the SVG figures: one root element, every tag closed in order,
// attributes quoted and unique, only the five predefined entities or character references.
export function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at offset ${i}: ${JSON.stringify(xml.slice(Math.max(0, i - 30), i + 30))}`);
  };
  const checkText = (text: string) => {
    if (text.includes('<')) fail('stray <');
    for (const m of text.matchAll(/&([^;\s]*);?/g)) {
      if (!/^(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(m[1]!) || !m[0].endsWith(';'))
        fail(`bad entity ${m[0]}`);
    }
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) {
      if (xml.slice(i).trim() !== '') fail('text after the root element');
      break;
    }
    const text = xml.slice(i, lt);
    if (stack.length === 0 && text.trim() !== '') fail('text outside the root element');
    checkText(text);
    i = lt;
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end === -1) fail('unterminated declaration');
      i = end + 2;
      continue;
    }
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end === -1) fail('unterminated comment');
      i = end + 3;
      continue;
    }
    const gt = xml.indexOf('>', i);
    if (gt === -1) fail('unterminated tag');
    const tag = xml.slice(i + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) fail(`closing </${name}> does not match`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([A-Za-z_][\w:.-]*)/.exec(body);
      if (!m) fail('bad element name');
      const name = m![1]!;
      let rest = body.slice(name.length);
      const names = new Set<string>();
      const attr = /^\s+([A-Za-z_][\w:.-]*)="([^"<]*)"/;
      for (let a = attr.exec(rest); a; a = attr.exec(rest)) {
        if (names.has(a[1]!)) fail(`duplicate attribute ${a[1]}`);
        names.add(a[1]!);
        checkText(a[2]!);
        rest = rest.slice(a[0].length);
      }
      if (rest.trim() !== '') fail(`malformed attributes in <${name}>`);
      if (stack.length === 0) roots++;
      if (roots > 1) fail('more than one root element');
      if (!selfClosing) stack.push(name);
    }
    i = gt + 1;
  }
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error('no root element');
}
