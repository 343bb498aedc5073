// Settings of the world-model service, from environment variables (shared O2O_* names plus O2O_WM_*)
// with optional `--flag value` overrides; every failure names the variable it came from.

import { z } from 'zod';
import {
  GrpcTlsConfigError,
  type GrpcTlsSettings,
  grpcTlsFromEnv,
} from '../../lib/services/grpc-security.ts';
import { ConfigError, parseServiceFlags } from '../../lib/services/service-flags.ts';

export const IMPLEMENTATIONS = ['native', 'tfjs', 'onnx'] as const;
export type ImplementationName = (typeof IMPLEMENTATIONS)[number];

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = z.object({
  natsUrl: z.string().min(1),
  /** gRPC bind address host:port (port 0: chosen by the OS). */
  listen: z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected host:port'),
  runRoot: z.string().min(1),
  seed: intIn(0, 2 ** 31 - 1),
  impl: z.enum(IMPLEMENTATIONS),
  /** Model to load at start, relative to runRoot. */
  model: z.string().min(1).optional(),
  maxBatchRows: intIn(1, 1 << 20),
  maxWaitMs: z.coerce.number().min(0).max(10_000),
  maxQueueRows: intIn(1, 1 << 24),
  /** Largest gRPC message accepted or sent, bytes. */
  maxMessageBytes: intIn(1 << 16, 1 << 30),
  /** Consume world-model phase requests from NATS (needs a reachable server). */
  phaseWorker: z.boolean(),
});

/** The schema's settings plus gRPC TLS (O2O_TLS_*, lib/services/grpc-security.ts). */
export type WorldModelServiceConfig = z.infer<typeof configSchema> & { grpcTls: GrpcTlsSettings };

/** Each setting's environment variable and `--flag`. */
const SOURCES: Record<keyof z.infer<typeof configSchema>, { env: string; flag: string; fallback?: string }> =
  {
    natsUrl: { env: 'O2O_NATS_URL', flag: 'nats-url', fallback: 'nats://127.0.0.1:4222' },
    listen: { env: 'O2O_LISTEN', flag: 'listen', fallback: '127.0.0.1:0' },
    runRoot: { env: 'O2O_RUN_ROOT', flag: 'run-root', fallback: 'runs' },
    seed: { env: 'O2O_SEED', flag: 'seed', fallback: '0' },
    impl: { env: 'O2O_WM_IMPL', flag: 'impl', fallback: 'native' },
    model: { env: 'O2O_WM_MODEL', flag: 'model' },
    maxBatchRows: { env: 'O2O_WM_MAX_BATCH', flag: 'max-batch', fallback: '4096' },
    maxWaitMs: { env: 'O2O_WM_MAX_WAIT_MS', flag: 'max-wait-ms', fallback: '2' },
    maxQueueRows: { env: 'O2O_WM_MAX_QUEUE', flag: 'max-queue', fallback: '65536' },
    maxMessageBytes: {
      env: 'O2O_WM_MAX_MESSAGE_BYTES',
      flag: 'max-message-bytes',
      fallback: String(64 << 20),
    },
    phaseWorker: { env: 'O2O_WM_PHASE_WORKER', flag: 'phase-worker', fallback: 'true' },
  };

export { ConfigError };

function parseBool(raw: string, where: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${where}: expected true/false, got '${raw}'`);
}

/** Reads the configuration; throws ConfigError naming the variable (or flag) that was wrong. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = [],
): WorldModelServiceConfig {
  const flags = parseServiceFlags(
    argv,
    Object.values(SOURCES).map((src) => src.flag),
  );
  const out: Record<string, unknown> = {};
  for (const [key, src] of Object.entries(SOURCES) as [
    keyof typeof SOURCES,
    (typeof SOURCES)[keyof typeof SOURCES],
  ][]) {
    const fromFlag = flags.get(src.flag);
    const fromEnv = env[src.env]?.trim();
    const raw = fromFlag ?? (fromEnv === '' ? undefined : fromEnv) ?? src.fallback;
    const where = fromFlag !== undefined ? `--${src.flag}` : src.env;
    if (raw === undefined) continue;
    const field = configSchema.shape[key];
    const value = key === 'phaseWorker' ? parseBool(raw, where) : raw;
    const parsed = field.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`${where}='${raw}': ${issue?.message ?? 'invalid value'}`);
    }
    out[key] = parsed.data;
  }
  try {
    return { ...configSchema.parse(out), grpcTls: grpcTlsFromEnv(env) };
  } catch (e) {
    if (e instanceof GrpcTlsConfigError) throw new ConfigError(e.message);
    throw e;
  }
}
