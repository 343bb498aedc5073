// What the actor-mode tests share: a simulator process environment for fast turnover (small batches and
// window, 200 ms heartbeats), a tiny TD3 agent for InvertedPendulum-v5, and a run config that stops on
// the test's own condition long before its step budget.
import type { MujocoEnv } from '../../lib/envs/mujoco-env.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import type { ActorModeConfig } from '../../services/learner/actor-mode.ts';

export const ACTOR_ENV_ID = 'InvertedPendulum-v5';

export function actorSimEnv(o: {
  natsUrl: string;
  id: string;
  batchSteps: number;
  runRoot?: string;
}): Record<string, string> {
  return {
    O2O_NATS_URL: o.natsUrl,
    ...(o.runRoot === undefined ? {} : { O2O_RUN_ROOT: o.runRoot }),
    O2O_SIM_ENV: ACTOR_ENV_ID,
    O2O_SIM_ID: o.id,
    O2O_SIM_HEARTBEAT_MS: '200',
    O2O_SIM_BATCH_STEPS: String(o.batchSteps),
    O2O_SIM_WINDOW: '4',
  };
}

export function tinyAgent(env: MujocoEnv, hidden: number[], seed: number): Td3Agent {
  return new Td3Agent({
    obsDim: env.observationSpace.shape[0],
    actDim: env.actionSpace.shape[0],
    maxAction: env.actionSpace.high[0]!,
    hidden,
    seed,
  });
}

/** Small batches, early updates, frequent snapshots; the tests stop through `stopping`, not the budget. */
export function actorTestConfig(
  o: Pick<ActorModeConfig, 'seed'> & Partial<ActorModeConfig>,
): ActorModeConfig {
  return {
    totalSteps: 200_000,
    startSteps: 0,
    warmupSteps: 100,
    updateToData: 0.25,
    policySyncEvery: 50,
    explorationNoise: 0.1,
    batchSize: 32,
    replayCapacity: o.totalSteps ?? 200_000,
    evalEvery: 100_000,
    evalEpisodes: 1,
    discoverEveryMs: 100,
    ...o,
  };
}
