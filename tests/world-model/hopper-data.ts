// Transitions from the real Hopper-v5 under uniformly random actions, as columnar Float32 arrays (the
// layout lib/data uses), for the world model's learning test and benchmark.
import { makeEnv } from '../../lib/envs/registry.ts';
import { NnRng } from '../../lib/nn/index.ts';
import type { TransitionData } from '../../lib/world-model/data.ts';

export function collectRandomTransitions(envId: 'Hopper-v5', steps: number, seed: number): TransitionData {
  const env = makeEnv(envId);
  const { obsDim, actDim } = env;
  const low = env.actionSpace.low;
  const high = env.actionSpace.high;
  const rng = new NnRng(seed);
  const observations = new Float32Array(steps * obsDim);
  const actions = new Float32Array(steps * actDim);
  const nextObservations = new Float32Array(steps * obsDim);
  const terminals = new Uint8Array(steps);
  const timeouts = new Uint8Array(steps);
  let obs = env.reset({ seed }).obs;
  let episode = 0;
  const action = new Float64Array(actDim);
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < actDim; j++) action[j] = rng.range(low[j]!, high[j]!);
    const r = env.step(action);
    observations.set(obs, t * obsDim);
    actions.set(action, t * actDim);
    nextObservations.set(r.obs, t * obsDim);
    terminals[t] = r.terminated ? 1 : 0;
    timeouts[t] = r.truncated && !r.terminated ? 1 : 0;
    obs = r.terminated || r.truncated ? env.reset({ seed: seed + ++episode }).obs : r.obs;
  }
  env.close();
  return { obsDim, actDim, observations, actions, nextObservations, terminals, timeouts };
}
