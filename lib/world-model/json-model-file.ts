// The control world models' files: small JSON documents with a format tag and, like the VAE's safetensors
// header, string metadata (what the model was fitted for: trained-for.ts), written to a temporary file and
// renamed (never half-written), read back through a schema whose first failure names the field.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/** The metadata field every control's file schema takes (absent in files written before it existed). */
export const jsonModelMetadata = z.record(z.string(), z.string()).optional();

export function writeJsonModel(path: string, body: object, metadata: Record<string, string>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const withMetadata = Object.keys(metadata).length === 0 ? body : { ...body, metadata };
  writeFileSync(tmp, `${JSON.stringify(withMetadata)}\n`);
  renameSync(tmp, path);
}

/** The parsed file; errors read "<path>: not a <what>: <field>: <problem>" (or the JSON error). */
export function readJsonModel<T extends z.ZodType>(path: string, schema: T, what: string): z.output<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not a ${what} (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: not a ${what}: ${issue.path.join('.') || '(file)'}: ${issue.message}`);
  }
  return parsed.data;
}
