// Monte-Carlo discounted returns of recorded episodes: the ground truth that critic diagnostics set
// Q(s, a) against. For an episode cut by the time limit the return after the cut is unknown, so the
// late steps of truncated episodes underestimate the true value; callers mark them with `complete`.

export interface DiscountedReturns {
  /** G_t = r_t + γ r_{t+1} + ... up to the end of the recorded episode. */
  returns: Float64Array;
  /** False for steps of an episode that was truncated rather than terminated. */
  complete: boolean;
}

/** Discounted return-to-go for every step of one episode's rewards. */
export function discountedReturns(
  rewards: ArrayLike<number>,
  gamma: number,
  terminated: boolean,
): DiscountedReturns {
  if (!(gamma >= 0 && gamma <= 1))
    throw new RangeError(`discountedReturns: gamma must be in [0, 1], got ${gamma}`);
  const out = new Float64Array(rewards.length);
  let g = 0;
  for (let t = rewards.length - 1; t >= 0; t--) {
    g = rewards[t]! + gamma * g;
    out[t] = g;
  }
  return { returns: out, complete: terminated };
}
