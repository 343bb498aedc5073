// D4RL's Ant datasets (ant-random/medium/medium-replay/expert-v2) were recorded on Gym's Ant-v2 through
// mujoco-py, and their rows say so: 111 observation values (qpos[2:] 13, qvel 14, then the contact forces
// of all 14 bodies, the world first, clipped to [-1, 1], which read zero under mujoco-py ≥ 2.0) and
// Ant-v2's reward, forward velocity − 0.5·Σa² − 0.5e-3·Σ(contact forces)² + 1, the 1 paid on every step
// including the one that ends the episode. The paper learned on them.
//
// Ant-v5 without contact forces in the observation and without contact cost is that env's counterpart
// here (lib/envs/ant.ts): the same body and the same 27 kinematic values, the same forward velocity,
// control cost and healthy range. Two things differ, and both can be undone row by row:
//   - Ant-v2's contact cost, which its next observation holds, is added back (zero on mujoco-py ≥ 2.0);
//   - Ant-v5 pays the healthy reward only while healthy, so a terminal row (the Ant left the healthy
//     range) gets 1 less.
// What cannot be undone is the simulator: MuJoCo 1.5/2.0 under mujoco-py stepped these rows, MuJoCo 3 steps
// ours, so the dynamics match only as far as the two MuJoCo versions agree.
import type { TransitionColumns } from './derive-transitions.ts';

export const ANT_V2_OBS_DIM = 111;
const ANT_KINEMATIC_DIMS = 27;
const ANT_V2_CONTACT_WEIGHT = 0.5e-3;
const ANT_V2_SURVIVE_REWARD = 1;

/** The Ant-v5 options of the env rows recorded on Ant-v2 become. */
export const ANT_V2_AS_ANT_V5_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({
  includeCfrcExtInObservation: false,
  contactCostWeight: 0,
});

/**
 * Rows recorded on Gym's Ant-v2 as Ant-v5 with ANT_V2_AS_ANT_V5_OPTIONS records them (see the top of this
 * file). Throws naming `where` unless the rows have Ant-v2's 111 values.
 */
export function antV2RowsAsAntV5(
  source: TransitionColumns & { terminals: Uint8Array },
  where: string,
): TransitionColumns {
  if (source.obsDim !== ANT_V2_OBS_DIM)
    throw new Error(
      `${where}: observations have ${source.obsDim} values; rows recorded on Ant-v2 (D4RL's ant-*-v2) have ` +
        `${ANT_V2_OBS_DIM} (27 kinematic, then 84 contact forces)`,
    );
  const rows = source.rewards.length;
  const keep = (all: Float32Array): Float32Array => {
    const out = new Float32Array(rows * ANT_KINEMATIC_DIMS);
    for (let r = 0; r < rows; r++)
      out.set(
        all.subarray(r * ANT_V2_OBS_DIM, r * ANT_V2_OBS_DIM + ANT_KINEMATIC_DIMS),
        r * ANT_KINEMATIC_DIMS,
      );
    return out;
  };
  const rewards = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let i = r * ANT_V2_OBS_DIM + ANT_KINEMATIC_DIMS; i < (r + 1) * ANT_V2_OBS_DIM; i++)
      sum += source.nextObservations[i]! ** 2;
    const unhealthy = source.terminals[r] === 1 ? ANT_V2_SURVIVE_REWARD : 0;
    rewards[r] = source.rewards[r]! + ANT_V2_CONTACT_WEIGHT * sum - unhealthy;
  }
  return {
    obsDim: ANT_KINEMATIC_DIMS,
    observations: keep(source.observations),
    nextObservations: keep(source.nextObservations),
    rewards,
  };
}
