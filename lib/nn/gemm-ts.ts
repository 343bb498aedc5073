// Blocked pure-TypeScript SGEMM, the fallback when the OpenBLAS addon is unavailable. Row-major
// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C. A panel of op(B) (KC x NC) is packed
// contiguously (with alpha folded in) so the inner loop streams two contiguous rows, whatever the
// transposes; the panel stays cache-resident while every row of op(A) sweeps over it.
import { checkGemmArgs } from './gemm-check.ts';

const KC = 128;
const NC = 256;
let panel = new Float64Array(KC * NC);

export function sgemmTs(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  checkGemmArgs(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (m === 0 || n === 0) return;
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const row = i * ldc;
      if (beta === 0) c.fill(0, row, row + n);
      else for (let j = row; j < row + n; j++) c[j] = beta * c[j]!;
    }
  }
  if (k === 0 || alpha === 0) return;
  if (panel.length < KC * NC) panel = new Float64Array(KC * NC);
  const p = panel;
  // op(A)(i, q) = a[i*sAi + q*sAq]; op(B)(q, j) = b[q*sBq + j*sBj]
  const sAi = transA ? 1 : lda;
  const sAq = transA ? lda : 1;
  const sBq = transB ? 1 : ldb;
  const sBj = transB ? ldb : 1;
  for (let jc = 0; jc < n; jc += NC) {
    const nb = Math.min(NC, n - jc);
    for (let qc = 0; qc < k; qc += KC) {
      const kb = Math.min(KC, k - qc);
      for (let q = 0; q < kb; q++) {
        const src = (qc + q) * sBq + jc * sBj;
        const dst = q * nb;
        for (let j = 0; j < nb; j++) p[dst + j] = alpha * b[src + j * sBj]!;
      }
      for (let i = 0; i < m; i++) {
        const aRow = i * sAi + qc * sAq;
        const cRow = i * ldc + jc;
        let q = 0;
        for (; q + 4 <= kb; q += 4) {
          const a0 = a[aRow + q * sAq]!;
          const a1 = a[aRow + (q + 1) * sAq]!;
          const a2 = a[aRow + (q + 2) * sAq]!;
          const a3 = a[aRow + (q + 3) * sAq]!;
          const p0 = q * nb;
          const p1 = p0 + nb;
          const p2 = p1 + nb;
          const p3 = p2 + nb;
          for (let j = 0; j < nb; j++) {
            c[cRow + j] =
              c[cRow + j]! + (a0 * p[p0 + j]! + a1 * p[p1 + j]! + a2 * p[p2 + j]! + a3 * p[p3 + j]!);
          }
        }
        for (; q < kb; q++) {
          const a0 = a[aRow + q * sAq]!;
          const p0 = q * nb;
          for (let j = 0; j < nb; j++) c[cRow + j] = c[cRow + j]! + a0 * p[p0 + j]!;
        }
      }
    }
  }
}
