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
