// Pure-TypeScript versions of the native elementwise kernels (same signatures and arithmetic), used
// with the GEMM fallback when the addon is unavailable or O2O_NN_BACKEND=ts.
import type { Kernels } from './gemm.ts';

/** Activation codes shared with the native addon. */
export const ACT = { identity: 0, relu: 1, tanh: 2 } as const;
export type ActCode = (typeof ACT)[keyof typeof ACT];

function checkLen(name: string, arr: Float32Array, need: number): void {
  if (arr.length < need) throw new RangeError(`kernel: ${name} has ${arr.length} elements, needs ${need}`);
}

export function addBiasActTs(
  out: Float32Array,
  rows: number,
  cols: number,
  bias: Float32Array,
  act: ActCode,
): void {
  checkLen('out', out, rows * cols);
  checkLen('bias', bias, cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = out[off + c]! + bias[c]!;
      out[off + c] = act === ACT.relu ? Math.max(v, 0) : act === ACT.tanh ? Math.tanh(v) : v;
    }
  }
}

export function activateTs(x: Float32Array, out: Float32Array, n: number, act: ActCode): void {
  checkLen('x', x, n);
  checkLen('out', out, n);
  if (act === ACT.relu) for (let i = 0; i < n; i++) out[i] = Math.max(x[i]!, 0);
  else if (act === ACT.tanh) for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
  else for (let i = 0; i < n; i++) out[i] = x[i]!;
}

export function activationBackwardTs(
  y: Float32Array,
  dOut: Float32Array,
  dIn: Float32Array,
  n: number,
  act: ActCode,
): void {
  checkLen('y', y, n);
  checkLen('dOut', dOut, n);
  checkLen('dIn', dIn, n);
  if (act === ACT.relu) for (let i = 0; i < n; i++) dIn[i] = y[i]! > 0 ? dOut[i]! : 0;
  else if (act === ACT.tanh) for (let i = 0; i < n; i++) dIn[i] = dOut[i]! * (1 - y[i]! * y[i]!);
  else for (let i = 0; i < n; i++) dIn[i] = dOut[i]!;
}

export function colSumAddTs(d: Float32Array, rows: number, cols: number, acc: Float32Array): void {
  checkLen('d', d, rows * cols);
  checkLen('acc', acc, cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) acc[c] = acc[c]! + d[off + c]!;
  }
}

export const adamUpdateTs: Kernels['adamUpdate'] = (
  w,
  g,
  m,
  v,
  n,
  stepSize,
  beta1,
  beta2,
  bc2Sqrt,
  eps,
  weightDecay,
) => {
  for (const [name, a] of [
    ['w', w],
    ['g', g],
    ['m', m],
    ['v', v],
  ] as const) {
    checkLen(name, a, n);
  }
  for (let i = 0; i < n; i++) {
    const gi = weightDecay === 0 ? g[i]! : g[i]! + weightDecay * w[i]!;
    m[i] = m[i]! + (gi - m[i]!) * (1 - beta1);
    v[i] = v[i]! * beta2 + (1 - beta2) * gi * gi;
    // The update reads the moments as stored (float32), as PyTorch does.
    w[i] = w[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
  }
};

export function lerpTs(target: Float32Array, source: Float32Array, n: number, tau: number): void {
  checkLen('target', target, n);
  checkLen('source', source, n);
  for (let i = 0; i < n; i++) target[i] = tau * source[i]! + (1 - tau) * target[i]!;
}

/** LayerNorm per row (see the native kernel): xhat and rstd are kept unless empty. Sums in float64. */
export function layerNormForwardTs(
  x: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
  weight: Float32Array,
  bias: Float32Array,
  eps: number,
  xhat: Float32Array,
  rstd: Float32Array,
): void {
  checkLen('x', x, rows * cols);
  checkLen('out', out, rows * cols);
  checkLen('weight', weight, cols);
  checkLen('bias', bias, cols);
  const keep = xhat.length > 0;
  if (keep) checkLen('xhat', xhat, rows * cols);
  if (rstd.length > 0) checkLen('rstd', rstd, rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += x[o + c]!;
    const mean = sum / cols;
    let sq = 0;
    for (let c = 0; c < cols; c++) {
      const d = x[o + c]! - mean;
      sq += d * d;
    }
    const s = Math.fround(1 / Math.sqrt(sq / cols + Math.fround(eps)));
    const m = Math.fround(mean);
    if (rstd.length > 0) rstd[r] = s;
    for (let c = 0; c < cols; c++) {
      const v = Math.fround((x[o + c]! - m) * s);
      if (keep) xhat[o + c] = v;
      out[o + c] = v * weight[c]! + bias[c]!;
    }
  }
}

/** LayerNorm's backward per row (see the native kernel); empty dIn / dWeight+dBias are skipped. */
export function layerNormBackwardTs(
  dOut: Float32Array,
  xhat: Float32Array,
  rstd: Float32Array,
  rows: number,
  cols: number,
  weight: Float32Array,
  dIn: Float32Array,
  dWeight: Float32Array,
  dBias: Float32Array,
): void {
  checkLen('dOut', dOut, rows * cols);
  checkLen('xhat', xhat, rows * cols);
  checkLen('rstd', rstd, rows);
  checkLen('weight', weight, cols);
  const params = dWeight.length > 0;
  if (params !== dBias.length > 0)
    throw new RangeError('kernel: layerNormBackward takes dWeight and dBias both or neither');
  if (params) {
    checkLen('dWeight', dWeight, cols);
    checkLen('dBias', dBias, cols);
  }
  const input = dIn.length > 0;
  if (input) checkLen('dIn', dIn, rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    if (params) {
      for (let c = 0; c < cols; c++) {
        dWeight[c]! += dOut[o + c]! * xhat[o + c]!;
        dBias[c]! += dOut[o + c]!;
      }
    }
    if (!input) continue;
    let sum = 0;
    let dot = 0;
    for (let c = 0; c < cols; c++) {
      const g = dOut[o + c]! * weight[c]!;
      sum += g;
      dot += g * xhat[o + c]!;
    }
    const meanG = Math.fround(sum / cols);
    const meanDot = Math.fround(dot / cols);
    const s = rstd[r]!;
    for (let c = 0; c < cols; c++) {
      dIn[o + c] = s * (Math.fround(dOut[o + c]! * weight[c]!) - meanG - xhat[o + c]! * meanDot);
    }
  }
}
