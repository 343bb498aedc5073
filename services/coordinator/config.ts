// Coordinator settings from environment variables, with `--flag value` overrides; every problem names
// the variable (or flag) it came from.

import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, parseServiceFlags } from '../../lib/services/service-flags.ts';

/** The spec `npm start` runs when none is given. */
export const DEFAULT_SPEC_PATH = fileURLToPath(new URL('./specs/default.yaml', import.meta.url));

export const COORD_ENV_VARS = {
  spec: ['O2O_COORD_SPEC', 'spec'],
  runDir: ['O2O_COORD_RUN_DIR', 'run-dir'],
  resume: ['O2O_COORD_RESUME', 'resume'],
  progressMs: ['O2O_COORD_PROGRESS_MS', 'progress-ms'],
  natsUrl: ['O2O_NATS_URL', 'nats-url'],
  runRoot: ['O2O_RUN_ROOT', 'run-root'],
} as const;

type Key = keyof typeof COORD_ENV_VARS;

export const configSchema = z.strictObject({
  /** Experiment spec file (YAML or JSON); ignored on resume, where state.json holds the spec. */
  spec: z.string().min(1).default(DEFAULT_SPEC_PATH),
  /** Run directory, relative to the run root (or absolute inside it); default <spec name>-<time>. */
  runDir: z.string().min(1).optional(),
  resume: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .default(false),
  progressMs: z.coerce.number().int().min(0).max(3_600_000).default(2000),
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  runRoot: z.string().min(1).default('runs'),
});

export type CoordinatorConfig = z.output<typeof configSchema>;

export { ConfigError };

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv.slice(2),
): CoordinatorConfig {
  const byFlag = new Map<string, Key>(
    (Object.entries(COORD_ENV_VARS) as [Key, readonly [string, string]][]).map(([k, [, f]]) => [f, k]),
  );
  const raw: Partial<Record<Key, string>> = {};
  const source = new Map<Key, string>();
  for (const [key, [variable]] of Object.entries(COORD_ENV_VARS) as [Key, readonly [string, string]][]) {
    const v = env[variable];
    if (v !== undefined && v.trim() !== '') {
      raw[key] = v.trim();
      source.set(key, variable);
    }
  }
  for (const [name, value] of parseServiceFlags(argv, byFlag.keys())) {
    const key = byFlag.get(name)!;
    raw[key] = value;
    source.set(key, `--${name}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0] as Key | undefined;
    const where = key === undefined ? '(config)' : (source.get(key) ?? COORD_ENV_VARS[key][0]);
    throw new ConfigError(`${where}: ${issue.message}`);
  }
  return parsed.data;
}
