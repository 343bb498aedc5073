// Backend selection for GEMM and the elementwise kernels: the OpenBLAS N-API addon when it loads, else
// the blocked TypeScript GEMM and TypeScript loops. The choice is printed once on stderr when this
// module is first imported.
//   O2O_NN_BACKEND=ts      force the fallback;  =native  fail unless the addon loads
//   O2O_BLAS_THREADS=n     OpenBLAS threads (default 1: the other core runs the simulator)
//   O2O_BLAS_CORETYPE=auto (default) remove OPENBLAS_CORETYPE before OpenBLAS loads, so it detects the
//                     CPU;  =inherit leave OPENBLAS_CORETYPE as found;  =<name> set OPENBLAS_CORETYPE=<name>
// The kernel family in use is part of the start-up line because it matters: forcing Haswell (AVX2) on
// an AVX-512 host halves GEMM throughput.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { sgemmTs } from './gemm-ts.ts';
import {
  type ActCode,
  activateTs,
  activationBackwardTs,
  adamUpdateTs,
  addBiasActTs,
  colSumAddTs,
  layerNormBackwardTs,
  layerNormForwardTs,
  lerpTs,
} from './kernels-ts.ts';

export type SgemmFn = (
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
) => void;

/** The kernel set lib/nn computes with; both backends implement all of it. */
export interface Kernels {
  sgemm: SgemmFn;
  addBiasAct(out: Float32Array, rows: number, cols: number, bias: Float32Array, act: ActCode): void;
  activate(x: Float32Array, out: Float32Array, n: number, act: ActCode): void;
  activationBackward(y: Float32Array, dOut: Float32Array, dIn: Float32Array, n: number, act: ActCode): void;
  colSumAdd(d: Float32Array, rows: number, cols: number, acc: Float32Array): void;
  adamUpdate(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    stepSize: number,
    beta1: number,
    beta2: number,
    bc2Sqrt: number,
    eps: number,
    weightDecay: number,
  ): void;
  lerp(target: Float32Array, source: Float32Array, n: number, tau: number): void;
  /** Per row: out = weight · xhat + bias; xhat and rstd (1/std) kept for backward unless empty arrays. */
  layerNormForward(
    x: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    weight: Float32Array,
    bias: Float32Array,
    eps: number,
    xhat: Float32Array,
    rstd: Float32Array,
  ): void;
  /** dIn unless empty; dWeight += Σ dOut·xhat and dBias += Σ dOut unless both empty. */
  layerNormBackward(
    dOut: Float32Array,
    xhat: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    weight: Float32Array,
    dIn: Float32Array,
    dWeight: Float32Array,
    dBias: Float32Array,
  ): void;
}

const tsKernels: Kernels = {
  sgemm: sgemmTs,
  addBiasAct: addBiasActTs,
  activate: activateTs,
  activationBackward: activationBackwardTs,
  colSumAdd: colSumAddTs,
  adamUpdate: adamUpdateTs,
  lerp: lerpTs,
  layerNormForward: layerNormForwardTs,
  layerNormBackward: layerNormBackwardTs,
};

interface NativeAddon extends Kernels {
  setThreads(n: number): void;
  getThreads(): number;
  getConfig(): string;
  getCorename(): string;
}

export type GemmBackendName = 'native' | 'ts';

export interface GemmBackendInfo {
  name: GemmBackendName;
  /** Human-readable description, e.g. "native OpenBLAS (1 thread, Haswell kernels)". */
  description: string;
  /** Why the native addon is not in use (when it is not). */
  fallbackReason?: string;
}

const addonPath = fileURLToPath(new URL('./native/build/Release/o2o_gemm.node', import.meta.url));

/** Applies O2O_BLAS_CORETYPE; OpenBLAS reads OPENBLAS_CORETYPE once, when the addon loads it. */
function applyCoretypeChoice(): void {
  // Auto by default: images that pin an older family (OPENBLAS_CORETYPE=Haswell on an AVX-512 host)
  // cost TD3 about 40% of its update rate (bench:nn: 209 vs 349 updates/s).
  const raw = process.env['O2O_BLAS_CORETYPE'];
  const choice = raw === undefined || raw === '' ? 'auto' : raw;
  if (choice === 'inherit') return;
  if (!/^[A-Za-z0-9]+$/.test(choice)) {
    throw new RangeError(
      `O2O_BLAS_CORETYPE must be 'auto', 'inherit' or an OpenBLAS core name, got '${choice}'`,
    );
  }
  if (choice === 'auto') delete process.env['OPENBLAS_CORETYPE'];
  else process.env['OPENBLAS_CORETYPE'] = choice;
}

function loadNative(): { addon?: NativeAddon; error?: string } {
  if (!existsSync(addonPath))
    return { error: `addon not built (${addonPath} missing; run npm run bootstrap)` };
  applyCoretypeChoice();
  try {
    const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
    const threadsEnv = process.env['O2O_BLAS_THREADS'];
    const threads = threadsEnv === undefined || threadsEnv === '' ? 1 : Number(threadsEnv);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`O2O_BLAS_THREADS must be a positive integer, got '${threadsEnv}'`);
    }
    // An addon built from an older gemm.cc lacks newer kernels: refuse it whole rather than mix backends.
    const missing = Object.keys(tsKernels).filter(
      (k) => typeof (addon as unknown as Record<string, unknown>)[k] !== 'function',
    );
    if (missing.length > 0) {
      return { error: `addon is older than its source (no ${missing.join(', ')}; run npm run bootstrap)` };
    }
    addon.setThreads(threads);
    return { addon };
  } catch (e) {
    if (e instanceof RangeError) throw e;
    return { error: `addon failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

const loaded = loadNative();
const nativeAddon = loaded.addon;

function describeNative(addon: NativeAddon): string {
  const t = addon.getThreads();
  return `native OpenBLAS (${t} thread${t === 1 ? '' : 's'}, ${addon.getCorename()} kernels)`;
}

function initialBackend(): GemmBackendInfo {
  const requested = process.env['O2O_NN_BACKEND'] ?? '';
  if (requested !== '' && requested !== 'ts' && requested !== 'native') {
    throw new RangeError(`O2O_NN_BACKEND must be 'ts' or 'native', got '${requested}'`);
  }
  if (requested === 'native' && nativeAddon === undefined) {
    throw new Error(`O2O_NN_BACKEND=native but the OpenBLAS addon is unavailable: ${loaded.error}`);
  }
  if (requested === 'ts') {
    return {
      name: 'ts',
      description: 'TypeScript fallback (forced by O2O_NN_BACKEND=ts)',
      fallbackReason: 'forced',
    };
  }
  if (nativeAddon === undefined) {
    return {
      name: 'ts',
      description: `TypeScript fallback (${loaded.error})`,
      fallbackReason: loaded.error!,
    };
  }
  return { name: 'native', description: describeNative(nativeAddon) };
}

let active: GemmBackendInfo = initialBackend();
/** The active kernel set; its fields are swapped in place when the backend changes. */
export const kernels: Kernels = { ...tsKernels };

function install(from: Kernels): void {
  Object.assign(kernels, {
    sgemm: from.sgemm,
    addBiasAct: from.addBiasAct,
    activate: from.activate,
    activationBackward: from.activationBackward,
    colSumAdd: from.colSumAdd,
    adamUpdate: from.adamUpdate,
    lerp: from.lerp,
    layerNormForward: from.layerNormForward,
    layerNormBackward: from.layerNormBackward,
  });
}

install(active.name === 'native' ? nativeAddon! : tsKernels);
process.stderr.write(`[nn] gemm: ${active.description}\n`);

/**
 * Row-major C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C on the active backend, in place
 * on the given Float32Arrays (subarray views allowed). op(X) = X^T when its trans flag is set.
 */
export const sgemm: SgemmFn = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
  kernels.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

export function gemmBackend(): GemmBackendInfo {
  return active;
}

export function nativeAvailable(): boolean {
  return nativeAddon !== undefined;
}

/** The native kernel set itself (tests compare backends), or undefined when the addon is absent. */
export function nativeKernels(): Kernels | undefined {
  return nativeAddon;
}

export { tsKernels };

/** Switches backend at run time (benchmarks compare both in one process). */
export function setGemmBackend(name: GemmBackendName): GemmBackendInfo {
  if (name === 'native') {
    if (nativeAddon === undefined) throw new Error(`native GEMM unavailable: ${loaded.error}`);
    active = { name, description: describeNative(nativeAddon) };
    install(nativeAddon);
  } else if (name === 'ts') {
    active = { name, description: 'TypeScript fallback (selected at run time)', fallbackReason: 'selected' };
    install(tsKernels);
  } else {
    throw new RangeError(`setGemmBackend: unknown backend '${name as string}'`);
  }
  return active;
}

export { sgemmTs };
