// Flag parsing for subcommands: node's parseArgs for the syntax, zod for the values, so that a bad
// flag fails with a message naming the flag and what was wrong with it.
import { parseArgs } from 'node:util';
import { z } from 'zod';

export class UsageError extends Error {}

export interface CommandSpec<S extends z.ZodType> {
  /**
   * Flags as parseArgs options; every value arrives as a string (or boolean for type 'boolean'), as an
   * array of them for a flag that may be `multiple`.
   */
  flags: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  schema: S;
  help: string;
}

export function parseFlags<S extends z.ZodType>(argv: string[], spec: CommandSpec<S>): z.infer<S> | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...spec.flags, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${spec.help}`);
  }
  if (parsed.values['help'] === true) return 'help';
  const result = spec.schema.safeParse({ ...parsed.values, _: parsed.positionals });
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const where = i.path.length > 0 ? `--${i.path.join('.')}` : 'arguments';
      return `${where}: ${i.message}`;
    });
    throw new UsageError(`${problems.join('; ')}\n\n${spec.help}`);
  }
  return result.data;
}

/** A flag holding a whole number >= min, given as decimal digits. */
export function integerFlag(name: string, min: number) {
  return z
    .string()
    .regex(/^\d+$/, `${name} must be a non-negative integer`)
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n >= min, `${name} must be an integer >= ${min}`);
}

/**
 * `--env-option KEY=VALUE`, repeatable: Gymnasium's make() keyword arguments in camelCase. A value is read
 * as JSON when it is JSON (numbers, booleans, [min, max]), as a string otherwise; the env checks them.
 */
export const envOptionsFlag = z
  .array(z.string().regex(/^[A-Za-z][A-Za-z0-9]*=.+$/, 'expected KEY=VALUE, e.g. contactCostWeight=0'))
  .transform((pairs) => {
    const options: Record<string, unknown> = {};
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      const raw = pair.slice(at + 1);
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      options[pair.slice(0, at)] = value;
    }
    return options;
  });

/** For a flag schema's superRefine: what `check` throws (an env refusing options) as an issue at --env-option. */
export function addEnvOptionFlagIssue(ctx: z.RefinementCtx, check: () => void): void {
  try {
    check();
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['env-option'], message: (err as Error).message });
  }
}
