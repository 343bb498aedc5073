// The standalone SVG document around a chart: size, white background, title and a legend.
import { el, escapeXml, num, text } from './xml.ts';

export interface LegendEntry {
  label: string;
  colour: string;
  dashed?: boolean;
  /** 'line' (default) or 'box' (bars). */
  mark?: 'line' | 'box';
}

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Legend rows at (x, y), one entry per row. Returns the markup and the height used. */
export function legend(x: number, y: number, entries: readonly LegendEntry[]): string {
  return entries
    .map((e, i) => {
      const cy = y + i * 18;
      const mark =
        e.mark === 'box'
          ? el('rect', { x, y: cy - 6, width: 18, height: 10, fill: e.colour })
          : el('line', {
              x1: x,
              x2: x + 18,
              y1: cy - 1,
              y2: cy - 1,
              stroke: e.colour,
              'stroke-width': 2.5,
              'stroke-dasharray': e.dashed ? '5 3' : undefined,
            });
      return mark + text({ x: x + 24, y: cy + 3, 'font-size': 11, fill: '#111' }, e.label);
    })
    .join('');
}

export function svgDocument(width: number, height: number, title: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" `,
    `viewBox="0 0 ${num(width)} ${num(height)}" font-family="${FONT}" role="img">`,
    `<title>${escapeXml(title)}</title>`,
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    text(
      { x: width / 2, y: 20, 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold', fill: '#111' },
      title,
    ),
    body,
    '</svg>\n',
  ].join('');
}
