// Losses returning their value and writing dLoss/dPrediction (overwriting `grad`), with PyTorch's
// default 'mean' reduction over all elements unless stated otherwise.
import { assertSameShape, type Matrix } from './matrix.ts';

/** mean((pred - target)^2); grad = 2 (pred - target) / N. */
export function mseLoss(pred: Matrix, target: Matrix, grad?: Matrix): number {
  assertSameShape(pred, target, 'mseLoss(pred, target)');
  if (grad !== undefined) assertSameShape(pred, grad, 'mseLoss(pred, grad)');
  const p = pred.data;
  const t = target.data;
  const n = p.length;
  if (n === 0) throw new RangeError('mseLoss: empty input');
  let sum = 0;
  const g = grad?.data;
  for (let i = 0; i < n; i++) {
    const d = p[i]! - t[i]!;
    sum += d * d;
    if (g !== undefined) g[i] = (2 * d) / n;
  }
  return sum / n;
}

/** scale * mean(x) over all elements; grad = scale / N (e.g. scale = -1 for TD3's -Q.mean()). */
export function meanLoss(x: Matrix, scale: number, grad?: Matrix): number {
  if (grad !== undefined) assertSameShape(x, grad, 'meanLoss(x, grad)');
  const n = x.data.length;
  if (n === 0) throw new RangeError('meanLoss: empty input');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x.data[i]!;
  grad?.data.fill(scale / n);
  return (scale * sum) / n;
}

/**
 * KL(N(mean, exp(logVar)) || N(0, I)) = -0.5 * sum(1 + logVar - mean^2 - exp(logVar)), summed over
 * latent dimensions and averaged over rows (the batch); gradients overwrite dMean and dLogVar.
 */
export function klStandardNormal(mean: Matrix, logVar: Matrix, dMean?: Matrix, dLogVar?: Matrix): number {
  assertSameShape(mean, logVar, 'klStandardNormal(mean, logVar)');
  if (dMean !== undefined) assertSameShape(mean, dMean, 'klStandardNormal(mean, dMean)');
  if (dLogVar !== undefined) assertSameShape(mean, dLogVar, 'klStandardNormal(mean, dLogVar)');
  const rows = mean.rows;
  if (rows === 0) throw new RangeError('klStandardNormal: empty batch');
  const m = mean.data;
  const lv = logVar.data;
  let sum = 0;
  for (let i = 0; i < m.length; i++) {
    const e = Math.exp(lv[i]!);
    sum += 1 + lv[i]! - m[i]! * m[i]! - e;
    if (dMean !== undefined) dMean.data[i] = m[i]! / rows;
    if (dLogVar !== undefined) dLogVar.data[i] = (0.5 * (e - 1)) / rows;
  }
  return (-0.5 * sum) / rows;
}
