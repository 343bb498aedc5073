// Learner settings from environment variables (what deploy/ sets), with optional `--flag value`
// overrides for running one by hand. Every problem names the variable it came from.

import { z } from 'zod';
import {
  GrpcTlsConfigError,
  type GrpcTlsSettings,
  grpcTlsFromEnv,
} from '../../lib/services/grpc-security.ts';
import { ConfigError, parseServiceFlags } from '../../lib/services/service-flags.ts';

/** Variable name of each setting; `--<flag>` on the command line overrides it. */
export const LEARNER_ENV_VARS = {
  wmAddress: ['O2O_LEARNER_WM_ADDRESS', 'wm-address'],
  simAddress: ['O2O_LEARNER_SIM_ADDRESS', 'sim-address'],
  checkpointEvery: ['O2O_LEARNER_CHECKPOINT_EVERY', 'checkpoint-every'],
  offlineCheckpointEvery: ['O2O_LEARNER_OFFLINE_CHECKPOINT_EVERY', 'offline-checkpoint-every'],
  onlineMode: ['O2O_LEARNER_ONLINE_MODE', 'online-mode'],
  progressMs: ['O2O_LEARNER_PROGRESS_MS', 'progress-ms'],
  simWaitMs: ['O2O_LEARNER_SIM_WAIT_MS', 'sim-wait-ms'],
  wmWaitMs: ['O2O_LEARNER_WM_WAIT_MS', 'wm-wait-ms'],
  ackWaitMs: ['O2O_LEARNER_ACK_WAIT_MS', 'ack-wait-ms'],
  listen: ['O2O_LISTEN', 'listen'],
  natsUrl: ['O2O_NATS_URL', 'nats-url'],
  runRoot: ['O2O_RUN_ROOT', 'run-root'],
  seed: ['O2O_SEED', 'seed'],
} as const;

type Key = keyof typeof LEARNER_ENV_VARS;

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

export const configSchema = z.strictObject({
  /** The world-model service (host:port), or 'in-process' to load the model file directly. */
  wmAddress: z.union([z.literal('in-process'), hostPort]).default('in-process'),
  /** Lockstep simulator (host:port); empty: the first idle one announcing the run's env on NATS. */
  simAddress: z.union([z.literal(''), hostPort]).default(''),
  /** Online steps between checkpoints. */
  checkpointEvery: intIn(1, 100_000_000).default(10_000),
  /** Offline updates between checkpoints (rounded to whole evaluation intervals); as `o2o experiment`'s. */
  offlineCheckpointEvery: intIn(1, 100_000_000).default(5_000),
  onlineMode: z.enum(['lockstep', 'actor']).default('lockstep'),
  /** Interval of PhaseProgress messages. */
  progressMs: intIn(100, 600_000).default(2_000),
  /** How long to wait for simulators to appear on NATS. */
  simWaitMs: intIn(100, 3_600_000).default(60_000),
  /** How long a phase waits for an unreachable world-model service (backoff retries) before it fails. */
  wmWaitMs: intIn(100, 3_600_000).default(120_000),
  /**
   * JetStream ack wait of the phase requests: after a crash, the request is redelivered (to the restarted
   * learner) this long after the last keep-alive. Keep-alives go out every third of it.
   */
  ackWaitMs: intIn(1_000, 3_600_000).default(60_000),
  listen: hostPort.default('127.0.0.1:0'),
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  runRoot: z.string().min(1).default('runs'),
  seed: intIn(0, Number.MAX_SAFE_INTEGER).default(0),
});

/** The schema's settings plus gRPC TLS (O2O_TLS_*, lib/services/grpc-security.ts). */
export type LearnerConfig = z.output<typeof configSchema> & { grpcTls: GrpcTlsSettings };

export { ConfigError };

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv.slice(2),
): LearnerConfig {
  const flags = parseServiceFlags(
    argv,
    Object.values(LEARNER_ENV_VARS).map(([, flag]) => flag),
  );
  const raw: Partial<Record<Key, string>> = {};
  const source = new Map<Key, string>();
  for (const [key, [variable, flag]] of Object.entries(LEARNER_ENV_VARS) as [
    Key,
    readonly [string, string],
  ][]) {
    const fromFlag = flags.get(flag);
    const value = fromFlag ?? env[variable];
    if (value !== undefined) {
      raw[key] = value;
      source.set(key, fromFlag !== undefined ? `--${flag}` : variable);
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = i.path[0] as Key | undefined;
      const where = key === undefined ? 'config' : (source.get(key) ?? LEARNER_ENV_VARS[key][0]);
      return `${where}: ${i.message}`;
    });
    throw new ConfigError(problems.join('; '));
  }
  try {
    return { ...parsed.data, grpcTls: grpcTlsFromEnv(env) };
  } catch (err) {
    if (err instanceof GrpcTlsConfigError) throw new ConfigError(err.message);
    throw err;
  }
}
