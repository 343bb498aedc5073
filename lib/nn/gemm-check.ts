// Argument validation shared by both GEMM backends (the native addon re-checks bounds itself).
import type { SgemmFn } from './gemm.ts';

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${v}`);
}

function checkFits(name: string, arr: Float32Array, rows: number, cols: number, ld: number): void {
  if (!(arr instanceof Float32Array)) throw new TypeError(`gemm: ${name} must be a Float32Array`);
  checkDim(`ld${name.toLowerCase()}`, ld);
  if (ld < Math.max(1, cols)) {
    throw new RangeError(
      `gemm: leading dimension of ${name} (${ld}) is smaller than its column count (${cols})`,
    );
  }
  if (rows > 0 && cols > 0 && (rows - 1) * ld + cols > arr.length) {
    throw new RangeError(
      `gemm: ${name} needs ${(rows - 1) * ld + cols} elements (${rows}x${cols}, ld ${ld}) but its array has ${arr.length}`,
    );
  }
}

export const checkGemmArgs: SgemmFn = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  checkDim('m', m);
  checkDim('n', n);
  checkDim('k', k);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta))
    throw new RangeError('gemm: alpha and beta must be finite');
  checkFits('A', a, transA ? k : m, transA ? m : k, lda);
  checkFits('B', b, transB ? n : k, transB ? k : n, ldb);
  checkFits('C', c, m, n, ldc);
};
