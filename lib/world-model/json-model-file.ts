// The control world models' files: small JSON documents with a format tag, written to a temporary file and
// renamed (never half-written), read back through a schema whose first failure names the field.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { z } from 'zod';

export function writeJsonModel(path: string, body: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(body)}\n`);
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
