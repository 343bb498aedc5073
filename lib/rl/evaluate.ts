// Policy evaluation: N full episodes with a deterministic policy, each from its own derived seed so
// that an evaluation is reproducible and independent of what the environment did before.
import { deriveSeed } from '../envs/rng.ts';
import type { Env } from '../envs/types.ts';

/** Maps an observation to an action; deterministic for evaluation. */
export type Policy = (obs: Float64Array) => ArrayLike<number>;

/** One evaluation episode, step by step (on-policy samples for critic diagnostics). */
export interface Trajectory {
  /** length × obsDim observations s_t, row-major. */
  obs: Float32Array;
  /** length × actDim actions π(s_t). */
  actions: Float32Array;
  rewards: Float32Array;
  /** True when the episode terminated; false when the time limit cut it. */
  terminated: boolean;
}

export interface EvaluationResult {
  returns: number[];
  lengths: number[];
  meanReturn: number;
  stdReturn: number;
  meanLength: number;
  /** The episodes themselves, when asked for with `record`. */
  trajectories?: Trajectory[];
}

export interface EvaluationOptions {
  /** Keep every episode's states, actions and rewards in the result. */
  record?: boolean;
}

export function evaluatePolicy(
  env: Env,
  policy: Policy,
  episodes: number,
  seed: number,
  options: EvaluationOptions = {},
): EvaluationResult {
  if (!Number.isInteger(episodes) || episodes < 1) {
    throw new RangeError(`evaluatePolicy: episodes must be a positive integer, got ${episodes}`);
  }
  const returns: number[] = [];
  const lengths: number[] = [];
  const trajectories: Trajectory[] = [];
  const obsDim = env.observationSpace.shape[0];
  const actDim = env.actionSpace.shape[0];
  for (let e = 0; e < episodes; e++) {
    let { obs } = env.reset({ seed: deriveSeed(seed, e) });
    let total = 0;
    let length = 0;
    const seenObs: number[] = [];
    const seenActions: number[] = [];
    const seenRewards: number[] = [];
    for (;;) {
      const action = policy(obs);
      if (options.record) {
        for (let i = 0; i < obsDim; i++) seenObs.push(obs[i]!);
        for (let i = 0; i < actDim; i++) seenActions.push(action[i]!);
      }
      const step = env.step(action);
      total += step.reward;
      length++;
      obs = step.obs;
      if (options.record) seenRewards.push(step.reward);
      if (step.terminated || step.truncated) {
        if (options.record) {
          trajectories.push({
            obs: Float32Array.from(seenObs),
            actions: Float32Array.from(seenActions),
            rewards: Float32Array.from(seenRewards),
            terminated: step.terminated,
          });
        }
        break;
      }
    }
    returns.push(total);
    lengths.push(length);
  }
  const meanReturn = mean(returns);
  return {
    returns,
    lengths,
    meanReturn,
    stdReturn: Math.sqrt(mean(returns.map((r) => (r - meanReturn) ** 2))),
    meanLength: mean(lengths),
    ...(options.record ? { trajectories } : {}),
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
