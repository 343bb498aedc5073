// D4RL's locomotion datasets (hopper/walker2d/halfcheetah/ant-*-v2) were recorded on Gym's v2 envs through
// mujoco-py; the paper learned on them. Their rows differ from what our v5 envs (lib/envs) record in ways
// that can be undone row by row, and this module does that:
//   - Hopper-v2, Walker2d-v2 and Ant-v2 pay the healthy reward (1) on every step, also the one that ends
//     the episode; v5 pays it only while healthy, so a terminal row (the body left the healthy range) gets
//     1 less. Their observations are v5's.
//   - Ant-v2 observes 111 values: qpos[2:] (13), qvel (14), then the contact forces of all 14 bodies, the
//     world first, clipped to [-1, 1] (they read zero under mujoco-py ≥ 2.0), and charges
//     0.5e-3·Σ(those forces)², which its next observation holds. Its counterpart here is Ant-v5 without
//     contact forces in the observation and without contact cost: the first 27 values, the cost added back.
//   - HalfCheetah-v2 rows are HalfCheetah-v5's (no healthy reward, no termination).
// What cannot be undone is the simulator: MuJoCo 1.5/2.0 under mujoco-py stepped those rows, MuJoCo 3
// steps ours, and Walker2d-v2's left foot had friction 1.9 where v5 gives both feet 0.9. So the rows
// match our envs' rewards and observations by definition, and their dynamics only as far as the models
// and MuJoCo versions agree.
import type { TransitionColumns } from './derive-transitions.ts';
import { leadingColumns, trailingSumOfSquares } from './row-columns.ts';

/** Rows as this module reads them: the transition columns and which rows ended the episode in a terminal state. */
export type RecordedRows = TransitionColumns & { terminals: Uint8Array };

interface GymV2Env {
  /** The v5 env (and its options) the rows become. */
  target: string;
  targetOptions?: Readonly<Record<string, unknown>>;
  obsDim: number;
  /** Leading observation values kept (the rest are Ant-v2's contact forces). */
  keptDims: number;
  /** v2's contact cost weight on the dropped values, added back to the reward. */
  droppedCostWeight: number;
  /** The healthy reward v2 paid on terminal rows and v5 does not. */
  terminalHealthyReward: number;
}

export const GYM_V2_ENVS: Readonly<Record<string, GymV2Env>> = {
  'Hopper-v2': {
    target: 'Hopper-v5',
    obsDim: 11,
    keptDims: 11,
    droppedCostWeight: 0,
    terminalHealthyReward: 1,
  },
  'Walker2d-v2': {
    target: 'Walker2d-v5',
    obsDim: 17,
    keptDims: 17,
    droppedCostWeight: 0,
    terminalHealthyReward: 1,
  },
  'HalfCheetah-v2': {
    target: 'HalfCheetah-v5',
    obsDim: 17,
    keptDims: 17,
    droppedCostWeight: 0,
    terminalHealthyReward: 0,
  },
  'Ant-v2': {
    target: 'Ant-v5',
    targetOptions: Object.freeze({ includeCfrcExtInObservation: false, contactCostWeight: 0 }),
    obsDim: 111,
    keptDims: 27,
    droppedCostWeight: 0.5e-3,
    terminalHealthyReward: 1,
  },
};

export const GYM_V2_IDS = Object.keys(GYM_V2_ENVS);

function gymV2(v2Id: string): GymV2Env {
  const v2 = Object.hasOwn(GYM_V2_ENVS, v2Id) ? GYM_V2_ENVS[v2Id] : undefined;
  if (v2 === undefined) throw new Error(`'${v2Id}' is not one of ${GYM_V2_IDS.join(', ')}`);
  return v2;
}

/** The v5 env and options rows recorded on Gym's `v2Id` become; throws naming the known ids. */
export function gymV2Target(v2Id: string): {
  env: string;
  options: Readonly<Record<string, unknown>> | undefined;
} {
  const v2 = gymV2(v2Id);
  return { env: v2.target, options: v2.targetOptions };
}

/**
 * Rows recorded on Gym's `v2Id` as its v5 counterpart (gymV2Target) records them (see the top of this
 * file). Throws naming `where` unless the rows have that env's observation width.
 */
export function gymV2RowsAsV5(v2Id: string, source: RecordedRows, where: string): TransitionColumns {
  const v2 = gymV2(v2Id);
  if (source.obsDim !== v2.obsDim)
    throw new Error(
      `${where}: observations have ${source.obsDim} values; rows recorded on ${v2Id} (D4RL's ` +
        `${v2Id.replace(/-v2$/, '').toLowerCase()}-*-v2) have ${v2.obsDim}`,
    );
  const rows = source.rewards.length;
  const rewards = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const dropped = trailingSumOfSquares(source.nextObservations, v2.obsDim, r, v2.keptDims);
    const unhealthy = source.terminals[r] === 1 ? v2.terminalHealthyReward : 0;
    rewards[r] = source.rewards[r]! + v2.droppedCostWeight * dropped - unhealthy;
  }
  return {
    obsDim: v2.keptDims,
    observations: leadingColumns(source.observations, v2.obsDim, v2.keptDims),
    nextObservations: leadingColumns(source.nextObservations, v2.obsDim, v2.keptDims),
    rewards,
  };
}
