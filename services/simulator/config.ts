// Simulator settings from environment variables (what deploy/ sets), with optional `--flag value`
// overrides for running one by hand. Every problem names the variable it came from.

import { hostname, networkInterfaces } from 'node:os';
import { z } from 'zod';
import { parseEnvOptionsJson } from '../../lib/envs/env-options-text.ts';
import { isEnvId } from '../../lib/envs/registry.ts';
import {
  GrpcTlsConfigError,
  type GrpcTlsSettings,
  grpcTlsFromEnv,
} from '../../lib/services/grpc-security.ts';
import { ConfigError, parseServiceFlags } from '../../lib/services/service-flags.ts';
import { addEnvOptionsIssue } from '../../lib/services/spec-fields.ts';

/** Variable name of each setting; `--<flag>` on the command line overrides it. */
export const SIMULATOR_ENV_VARS = {
  envId: ['O2O_SIM_ENV', 'env'],
  envOptions: ['O2O_SIM_ENV_OPTIONS', 'env-options'],
  numEnvs: ['O2O_SIM_NUM_ENVS', 'num-envs'],
  simulatorId: ['O2O_SIM_ID', 'id'],
  heartbeatMs: ['O2O_SIM_HEARTBEAT_MS', 'heartbeat-ms'],
  windowBatches: ['O2O_SIM_WINDOW', 'window'],
  batchSteps: ['O2O_SIM_BATCH_STEPS', 'batch-steps'],
  listen: ['O2O_LISTEN', 'listen'],
  advertise: ['O2O_SIM_ADVERTISE', 'advertise'],
  natsUrl: ['O2O_NATS_URL', 'nats-url'],
  runRoot: ['O2O_RUN_ROOT', 'run-root'],
  seed: ['O2O_SEED', 'seed'],
} as const;

type Key = keyof typeof SIMULATOR_ENV_VARS;

/** Rows per transition batch at most: keeps a batch of the widest env (Ant) far below the 64 MiB message limit. */
export const MAX_BATCH_ROWS = 16_384;

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = z
  .strictObject({
    envId: z.string().refine(isEnvId, { message: 'not a known environment id' }).default('Hopper-v5'),
    /** The env's options as a JSON object, e.g. {"includeCfrcExtInObservation":false}; empty: the defaults. */
    envOptions: z
      .string()
      .default('')
      .transform((text, ctx) => {
        try {
          return parseEnvOptionsJson(text, 'env options');
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    numEnvs: intIn(1, 1024).default(1),
    simulatorId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_", "-" (at most 128)')
      .default(`${hostname()}-${process.pid}`),
    heartbeatMs: intIn(20, 600_000).default(1000),
    /** Unacknowledged transition batches held in actor mode; stepping pauses when this many are waiting. */
    windowBatches: intIn(1, 100_000).default(32),
    /** Vector steps per transition batch in actor mode (rows = batchSteps · numEnvs). */
    batchSteps: intIn(1, 100_000).default(32),
    listen: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')
      .default('127.0.0.1:0'),
    /**
     * Address announced in heartbeats and the ready line: `host` or `host:port` (port: the bound one).
     * Default: the bind address, or this machine's first non-loopback IPv4 address when binding to all
     * interfaces (a container's or pod's own IP). In k8s: O2O_SIM_ADVERTISE=$(POD_IP).
     */
    advertise: z
      .string()
      .regex(/^[^\s:/]+(:\d{1,5})?$/, 'expected host or host:port')
      .optional(),
    /** 'none' runs without NATS (no heartbeats). */
    natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
    runRoot: z.string().min(1).default('runs'),
    seed: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
  .refine((c) => c.batchSteps * c.numEnvs <= MAX_BATCH_ROWS, {
    message: `O2O_SIM_BATCH_STEPS × O2O_SIM_NUM_ENVS must be at most ${MAX_BATCH_ROWS} rows`,
    path: ['batchSteps'],
  })
  .superRefine((c, ctx) => addEnvOptionsIssue({ env: c.envId, envOptions: c.envOptions }, ctx));

/** The schema's settings plus gRPC TLS (O2O_TLS_*, lib/services/grpc-security.ts). */
export type SimulatorConfig = z.output<typeof configSchema> & { grpcTls: GrpcTlsSettings };

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/** The address other machines should use to reach a server bound to `bound` (host:port). */
export function advertisedAddress(bound: string, advertise: string | undefined): string {
  const colon = bound.lastIndexOf(':');
  const host = bound.slice(0, colon);
  const port = bound.slice(colon + 1);
  if (advertise !== undefined) return advertise.includes(':') ? advertise : `${advertise}:${port}`;
  if (!WILDCARD_HOSTS.has(host)) return bound;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return `${a.address}:${port}`;
  }
  return `${hostname()}:${port}`;
}

export { ConfigError };

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv.slice(2),
): SimulatorConfig {
  const flags = parseServiceFlags(
    argv,
    Object.values(SIMULATOR_ENV_VARS).map(([, flag]) => flag),
  );
  const raw: Partial<Record<Key, string>> = {};
  for (const [key, [variable, flag]] of Object.entries(SIMULATOR_ENV_VARS) as [
    Key,
    readonly [string, string],
  ][]) {
    const value = flags.get(flag) ?? env[variable];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as Key | undefined;
      const [variable, flag] = key === undefined ? ['config', ''] : SIMULATOR_ENV_VARS[key];
      const source = key !== undefined && flags.has(flag) ? `--${flag}` : variable;
      return `${source}=${JSON.stringify(key === undefined ? '' : raw[key])}: ${issue.message}`;
    });
    throw new ConfigError(`simulator config: ${problems.join('; ')}`);
  }
  try {
    return { ...parsed.data, grpcTls: grpcTlsFromEnv(env) };
  } catch (err) {
    if (err instanceof GrpcTlsConfigError) throw new ConfigError(`simulator config: ${err.message}`);
    throw err;
  }
}
