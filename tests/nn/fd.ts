// Finite-difference helpers for float32 networks: the scalar objective is accumulated in float64, and
// each perturbation uses the step actually stored in float32 (w + h rounds), not the nominal h.
import { Matrix } from '../../lib/nn/matrix.ts';
import { NnRng } from '../../lib/nn/rng.ts';

export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Matrix {
  const rng = new NnRng(seed);
  const m = new Matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = scale * rng.normal();
  return m;
}

/** sum(out * weights) in float64: a scalar whose gradient w.r.t. out is `weights`. */
export function weightedSum(out: Matrix, weights: Matrix): number {
  let s = 0;
  for (let i = 0; i < out.data.length; i++) s += out.data[i]! * weights.data[i]!;
  return s;
}

/**
 * Central differences of `objective` w.r.t. every element of `values` (perturbed in place, restored).
 * Returns the numeric gradient in float64.
 */
export function numericGradient(values: Float32Array, objective: () => number, h: number): Float64Array {
  const g = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const orig = values[i]!;
    values[i] = orig + h;
    const up = values[i]!;
    const fUp = objective();
    values[i] = orig - h;
    const down = values[i]!;
    const fDown = objective();
    values[i] = orig;
    g[i] = (fUp - fDown) / (up - down);
  }
  return g;
}

/** Largest |analytic - numeric| / (atol + rtol * |numeric|) over all elements (<= 1 passes). */
export function worstRatio(
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (analytic.length !== numeric.length)
    throw new Error(`length mismatch ${analytic.length} vs ${numeric.length}`);
  let worst = 0;
  for (let i = 0; i < analytic.length; i++) {
    const r = Math.abs(analytic[i]! - numeric[i]!) / (atol + rtol * Math.abs(numeric[i]!));
    if (!(r <= worst)) worst = r; // NaN also lands here
  }
  return worst;
}

/** ||a - b|| / ||b|| in float64. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
