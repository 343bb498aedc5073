// Keeps secrets (NATS tokens and passwords, TLS private keys, bearer tokens, credentials in URLs) out of
// span attributes, span events and logs. Applied by every exporter in lib/telemetry, and meant for any
// configuration object a service logs.

export const REDACTED = '[REDACTED]';

// Keys whose values are secrets whatever they contain (matched on the last dotted/underscored segment
// too, so `nats.token`, `O2O_NATS_TOKEN` and `tlsKey` are all caught).
const SECRET_KEY =
  /(^|[._-])(pass|passwd|auth|authorization|api[._-]?key|private[._-]?key|credentials?|creds|cookie|nkey|jwt)$|tls[._-]?key|key[._-]?pem|password|secret|token/i;

// Keys that match the pattern above but are not secret (token counts).
const NOT_SECRET_KEY = /tokens?[._-]?(count|total)$/i;

/** True when a configuration or attribute key names a secret. */
export function isSecretKey(key: string): boolean {
  let secret = keyVerdicts.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
    // Attribute keys repeat on every span: remember the verdict (bounded, keys are few in practice).
    if (keyVerdicts.size < 10_000) keyVerdicts.set(key, secret);
  }
  return secret;
}
const keyVerdicts = new Map<string, boolean>();

const MAY_HOLD_SECRET = /[:=@]|-----BEGIN|Bearer|Basic/;
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@:]+(:[^/\s@]*)?@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const KEY_VALUE =
  /\b(token|password|passwd|pass|secret|auth|authorization|api[_-]?key)(["']?\s*[=:]\s*["']?)(?!Bearer\b|Basic\b|\[REDACTED\])[^\s&"',;}]+/gi;

// Secret values this process knows (its NATS token, passwords), replaced wherever they appear, even in
// free text such as an error message that quotes one.
const knownSecrets = new Set<string>();

/** Registers a secret value so redactString removes it from any text. Values under 4 characters are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 4) knownSecrets.add(value);
}

/** Registers the values of every environment variable whose name is secret-like (O2O_NATS_TOKEN, ...). */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    // Flags and paths under secret-like names (O2O_NATS_TLS=true) are not worth scrubbing everywhere.
    if (value === undefined || value.length < 6 || /^(true|false|none|null|\d+)$/i.test(value)) continue;
    if (isSecretKey(name)) registerSecret(value);
  }
}

/** Removes secrets embedded in free text (URLs with user:pass@, PEM private keys, `token=...`). */
export function redactString(text: string): string {
  for (const secret of knownSecrets) if (text.includes(secret)) text = text.split(secret).join(REDACTED);
  // Every pattern below needs one of these; most span names and attribute values have none.
  if (!MAY_HOLD_SECRET.test(text)) return text;
  return text
    .replace(PEM_BLOCK, REDACTED)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(KEY_VALUE, `$1$2${REDACTED}`);
}

/**
 * A copy of `value` with secrets removed: values under secret-looking keys become `[REDACTED]`, strings
 * are scrubbed with redactString, arrays and plain objects are walked (cycles are cut).
 */
export function redact<T>(value: T): T {
  return redactValue(value, new WeakSet()) as T;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen));
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message) };
  }
  if (ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactValue(v, seen);
  }
  return out;
}

/** Redacts one OpenTelemetry attribute map (values are primitives or arrays of primitives). */
export function redactAttributes<A extends Record<string, unknown>>(attrs: A): A {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (isSecretKey(k) && v !== undefined && v !== null && v !== '') out[k] = REDACTED;
    else if (typeof v === 'string') out[k] = redactString(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? redactString(x) : x));
    else out[k] = v;
  }
  return out as A;
}
