// Synthetic transitions with known linear dynamics, for fast training-loop tests.
import { NnRng } from '../../lib/nn/index.ts';
import type { TransitionData } from '../../lib/world-model/data.ts';

/** s' = 0.9 s + B a + noise, with a few terminal and time-out rows. */
export function syntheticTransitions(rows: number, seed: number, obsDim = 4, actDim = 2): TransitionData {
  const rng = new NnRng(seed);
  const observations = rng.fillNormal(new Float32Array(rows * obsDim), 1, 2);
  const actions = rng.fillUniform(new Float32Array(rows * actDim), -1, 1);
  const nextObservations = new Float32Array(rows * obsDim);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < obsDim; j++) {
      const a = actions[r * actDim + (j % actDim)]!;
      nextObservations[r * obsDim + j] = 0.9 * observations[r * obsDim + j]! + 0.5 * a + 0.01 * rng.normal();
    }
  }
  const terminals = new Uint8Array(rows);
  const timeouts = new Uint8Array(rows);
  for (let r = 17; r < rows; r += 41) terminals[r] = 1;
  for (let r = 29; r < rows; r += 53) timeouts[r] = 1;
  return { obsDim, actDim, observations, actions, nextObservations, terminals, timeouts };
}
