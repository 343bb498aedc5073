// How the launcher treats a service that dies during a run: restart it (same settings, same address)
// after an exponentially growing pause, at most `maxRestarts` times per service per run, then give up and
// stop the run with an error naming the service, its last exit and the policy. Work in flight is not lost
// by a restart: phase requests are acked only after their result is published, so JetStream redelivers
// an unfinished one to the restarted service, which resumes from its checkpoint (learner) or redoes it.

export interface RestartPolicy {
  /** Restarts allowed per service during one run (0: the first unexpected exit fails the run). */
  maxRestarts: number;
  /** Pause before the first restart (ms); doubled for each further restart of the same service. */
  initialBackoffMs: number;
  /** Longest pause between restarts (ms). */
  maxBackoffMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 3,
  initialBackoffMs: 1_000,
  maxBackoffMs: 15_000,
};

/** Variables `o2o run` reads the policy from. */
export const RESTART_ENV_VARS = {
  maxRestarts: 'O2O_RUN_MAX_RESTARTS',
  initialBackoffMs: 'O2O_RUN_RESTART_BACKOFF_MS',
  maxBackoffMs: 'O2O_RUN_RESTART_MAX_BACKOFF_MS',
} as const satisfies Record<keyof RestartPolicy, string>;

export class RestartPolicyError extends Error {}

const LIMITS: Record<keyof RestartPolicy, [number, number]> = {
  maxRestarts: [0, 1000],
  initialBackoffMs: [0, 3_600_000],
  maxBackoffMs: [0, 3_600_000],
};

/** Checks a policy (partial: the rest from the defaults); errors name the field (or its variable). */
export function restartPolicy(
  partial: Partial<RestartPolicy> = {},
  names: Partial<Record<keyof RestartPolicy, string>> = {},
): RestartPolicy {
  const policy = { ...DEFAULT_RESTART_POLICY, ...partial };
  for (const key of Object.keys(LIMITS) as (keyof RestartPolicy)[]) {
    const [min, max] = LIMITS[key];
    const v = policy[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RestartPolicyError(
        `${names[key] ?? `restart.${key}`}: expected an integer in ${min}..${max}, got ${v}`,
      );
    }
  }
  if (policy.maxBackoffMs < policy.initialBackoffMs) {
    throw new RestartPolicyError(
      `${names.maxBackoffMs ?? 'restart.maxBackoffMs'}: ${policy.maxBackoffMs} is below the initial backoff ${policy.initialBackoffMs}`,
    );
  }
  return policy;
}

/** The policy from O2O_RUN_* variables (unset ones: defaults). */
export function restartPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RestartPolicy {
  const partial: Partial<RestartPolicy> = {};
  for (const [key, variable] of Object.entries(RESTART_ENV_VARS) as [keyof RestartPolicy, string][]) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw)) {
      throw new RestartPolicyError(
        `${variable}: expected a non-negative integer, got ${JSON.stringify(raw)}`,
      );
    }
    partial[key] = n;
  }
  return restartPolicy(partial, RESTART_ENV_VARS);
}

/** Pause before restart number `restart` (1-based) of one service. */
export function restartDelayMs(policy: RestartPolicy, restart: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, restart - 1));
}

export function describeRestartPolicy(p: RestartPolicy): string {
  return `at most ${p.maxRestarts} restart(s) per service, ${p.initialBackoffMs} ms backoff doubling up to ${p.maxBackoffMs} ms`;
}
