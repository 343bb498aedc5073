// Observation and action sizes of the Gymnasium v5 MuJoCo environments, used to check that a dataset
// declared for an env has rows of the right width. Kept here (not imported from lib/envs) so that
// reading a dataset never loads the simulator.

export interface EnvDims {
  obsDim: number;
  actDim: number;
  /** Actions lie in [-actionBound, actionBound] (the actuators' ctrlrange). */
  actionBound: number;
}

export const ENV_DIMS: Readonly<Record<string, EnvDims>> = {
  'Hopper-v5': { obsDim: 11, actDim: 3, actionBound: 1 },
  'Walker2d-v5': { obsDim: 17, actDim: 6, actionBound: 1 },
  'HalfCheetah-v5': { obsDim: 17, actDim: 6, actionBound: 1 },
  'Ant-v5': { obsDim: 105, actDim: 8, actionBound: 1 },
  'InvertedPendulum-v5': { obsDim: 4, actDim: 1, actionBound: 3 },
  'InvertedDoublePendulum-v5': { obsDim: 9, actDim: 1, actionBound: 1 },
};

export function envDims(envId: string): EnvDims | undefined {
  return Object.hasOwn(ENV_DIMS, envId) ? ENV_DIMS[envId] : undefined;
}

/** `Hopper-v5` → 5; null when the id carries no `-v<N>` suffix. */
export function envVersionOf(envId: string): number | null {
  const match = /-v(\d+)$/.exec(envId);
  return match ? Number(match[1]) : null;
}
