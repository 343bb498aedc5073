// Policy evaluation: N full episodes with a deterministic policy, each from its own derived seed so
// that an evaluation is reproducible and independent of what the environment did before.
import { deriveSeed } from '../envs/rng.ts';
import type { Env } from '../envs/types.ts';

/** Maps an observation to an action; deterministic for evaluation. */
export type Policy = (obs: Float64Array) => ArrayLike<number>;

export interface EvaluationResult {
  returns: number[];
  lengths: number[];
  meanReturn: number;
  stdReturn: number;
  meanLength: number;
}

export function evaluatePolicy(env: Env, policy: Policy, episodes: number, seed: number): EvaluationResult {
  if (!Number.isInteger(episodes) || episodes < 1) {
    throw new RangeError(`evaluatePolicy: episodes must be a positive integer, got ${episodes}`);
  }
  const returns: number[] = [];
  const lengths: number[] = [];
  for (let e = 0; e < episodes; e++) {
    let { obs } = env.reset({ seed: deriveSeed(seed, e) });
    let total = 0;
    let length = 0;
    for (;;) {
      const step = env.step(policy(obs));
      total += step.reward;
      length++;
      obs = step.obs;
      if (step.terminated || step.truncated) break;
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
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
