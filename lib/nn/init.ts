// PyTorch's default nn.Linear initialisation: kaiming_uniform_(a=sqrt(5)) on the weight, which works
// out to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias drawn from the same bound.
import type { NnRng } from './rng.ts';

export function linearInitBound(fanIn: number): number {
  if (!Number.isInteger(fanIn) || fanIn < 1)
    throw new RangeError(`linearInitBound: fan_in must be >= 1, got ${fanIn}`);
  return 1 / Math.sqrt(fanIn);
}

/** Fills weight ([out, in]) then bias ([out]) in that order, as PyTorch's reset_parameters does. */
export function initLinearPytorch(weight: Float32Array, bias: Float32Array, fanIn: number, rng: NnRng): void {
  const bound = linearInitBound(fanIn);
  rng.fillUniform(weight, -bound, bound);
  rng.fillUniform(bias, -bound, bound);
}
