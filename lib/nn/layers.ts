// Layers on row-major batches (one sample per row). Each layer owns its output and input-gradient
// buffers (one per batch size, see BufferCache), so steady-state passes allocate nothing. Returned
// matrices are those buffers: valid until the layer's next pass with the same batch size.
import { kernels } from './gemm.ts';
import { initLinearPytorch } from './init.ts';
import { ACT, type ActCode } from './kernels-ts.ts';
import { assertCols, assertSameShape, BufferCache, type Matrix } from './matrix.ts';
import type { NnRng } from './rng.ts';

/** A trainable tensor and its gradient accumulator; `shape` is PyTorch's layout for the tensor. */
export interface Param {
  name: string;
  shape: readonly number[];
  value: Float32Array;
  grad: Float32Array;
}

export interface Layer {
  /** Fixed input width, or undefined for width-preserving elementwise layers. */
  readonly inFeatures: number | undefined;
  /** True when `apply` may write into its own input (elementwise layers). */
  readonly elementwise: boolean;
  outputCols(inCols: number): number;
  /** Computes the output into `out` and keeps nothing (inference / target networks). */
  apply(x: Matrix, out: Matrix): void;
  /** Computes the output and keeps what backward needs (a reference to x or to the output). */
  forward(x: Matrix): Matrix;
  /**
   * Back-propagates dOut through the last forward: accumulates parameter gradients when
   * `accumulateParams`, returns dLoss/dInput when `wantInput` (else null).
   */
  backward(dOut: Matrix, accumulateParams: boolean, wantInput: boolean): Matrix | null;
  /** Parameters with local names ('weight', 'bias'). */
  params(): Param[];
}

function noForward(where: string): never {
  throw new Error(`${where}: backward called before forward`);
}

/** y = x W^T + b with W stored [out, in] row-major (PyTorch's layout, which GEMM reads transposed for free). */
export class Linear implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly elementwise = false;
  readonly weight: Param;
  readonly bias: Param;
  private input: Matrix | undefined;
  private readonly outs = new BufferCache();
  private readonly dIns = new BufferCache();

  constructor(inFeatures: number, outFeatures: number, rng: NnRng) {
    for (const [k, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`Linear: ${k} must be a positive integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = {
      name: 'weight',
      shape: [outFeatures, inFeatures],
      value: new Float32Array(outFeatures * inFeatures),
      grad: new Float32Array(outFeatures * inFeatures),
    };
    this.bias = {
      name: 'bias',
      shape: [outFeatures],
      value: new Float32Array(outFeatures),
      grad: new Float32Array(outFeatures),
    };
    initLinearPytorch(this.weight.value, this.bias.value, inFeatures, rng);
  }

  outputCols(inCols: number): number {
    if (inCols !== this.inFeatures) {
      throw new RangeError(`Linear(${this.inFeatures}->${this.outFeatures}): input has ${inCols} columns`);
    }
    return this.outFeatures;
  }

  apply(x: Matrix, out: Matrix): void {
    this.applyWithActivation(x, out, ACT.identity);
  }

  /**
   * out = act(x W^T + b), the activation fused into the bias pass (one sweep over the output instead
   * of two). Sequential uses it for Linear → ReLU/Tanh pairs.
   */
  applyWithActivation(x: Matrix, out: Matrix, act: ActCode): void {
    assertCols(x, this.inFeatures, `Linear(${this.inFeatures}->${this.outFeatures}) input`);
    if (out.rows !== x.rows || out.cols !== this.outFeatures) {
      throw new RangeError(
        `Linear: output buffer is ${out.rows}x${out.cols}, expected ${x.rows}x${this.outFeatures}`,
      );
    }
    const o = out.data;
    const n = this.outFeatures;
    const nIn = this.inFeatures;
    kernels.sgemm(false, true, x.rows, n, nIn, 1, x.data, nIn, this.weight.value, nIn, 0, o, n);
    kernels.addBiasAct(o, x.rows, n, this.bias.value, act);
  }

  forward(x: Matrix): Matrix {
    return this.forwardWithActivation(x, ACT.identity);
  }

  /** Training forward with a fused activation; backward then expects dLoss/d(pre-activation). */
  forwardWithActivation(x: Matrix, act: ActCode): Matrix {
    const out = this.outs.get(x.rows, this.outFeatures);
    this.applyWithActivation(x, out, act);
    this.input = x;
    return out;
  }

  backward(dOut: Matrix, accumulateParams: boolean, wantInput: boolean): Matrix | null {
    const x = this.input ?? noForward('Linear');
    if (dOut.rows !== x.rows || dOut.cols !== this.outFeatures) {
      throw new RangeError(
        `Linear(${this.inFeatures}->${this.outFeatures}).backward: dOut is ${dOut.rows}x${dOut.cols}, expected ${x.rows}x${this.outFeatures}`,
      );
    }
    const rows = x.rows;
    const nIn = this.inFeatures;
    const nOut = this.outFeatures;
    if (accumulateParams) {
      // dW[out, in] += dOut^T x ; db += column sums of dOut
      kernels.sgemm(true, false, nOut, nIn, rows, 1, dOut.data, nOut, x.data, nIn, 1, this.weight.grad, nIn);
      kernels.colSumAdd(dOut.data, rows, nOut, this.bias.grad);
    }
    if (!wantInput) return null;
    const dIn = this.dIns.get(rows, nIn);
    kernels.sgemm(
      false,
      false,
      rows,
      nIn,
      nOut,
      1,
      dOut.data,
      nOut,
      this.weight.value,
      nIn,
      0,
      dIn.data,
      nIn,
    );
    return dIn;
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }
}

/** Shared plumbing of parameter-free elementwise layers, which keep their output for backward. */
abstract class Elementwise implements Layer {
  readonly inFeatures = undefined;
  readonly elementwise = true;
  protected output: Matrix | undefined;
  private readonly outs = new BufferCache();
  private readonly dIns = new BufferCache();
  protected abstract readonly label: string;
  protected abstract map(x: Float32Array, out: Float32Array, n: number): void;
  /** dIn = dOut * f'(x), expressed through the kept output y. */
  protected abstract grad(y: Float32Array, dOut: Float32Array, dIn: Float32Array, n: number): void;

  outputCols(inCols: number): number {
    return inCols;
  }

  apply(x: Matrix, out: Matrix): void {
    assertSameShape(x, out, `${this.label}.apply`);
    this.map(x.data, out.data, x.data.length);
  }

  forward(x: Matrix): Matrix {
    const out = this.outs.get(x.rows, x.cols);
    this.map(x.data, out.data, x.data.length);
    this.output = out;
    return out;
  }

  backward(dOut: Matrix, _accumulateParams: boolean, wantInput: boolean): Matrix | null {
    const y = this.output ?? noForward(this.label);
    assertSameShape(dOut, y, `${this.label}.backward`);
    if (!wantInput) return null;
    const dIn = this.dIns.get(y.rows, y.cols);
    this.grad(y.data, dOut.data, dIn.data, y.data.length);
    return dIn;
  }

  params(): Param[] {
    return [];
  }
}

/** Activations run on the backend's kernels: JS loops over 65k elements cost ~10x the native pass. */
export abstract class KernelActivation extends Elementwise {
  abstract readonly code: ActCode;

  /**
   * Forward for an input the preceding Linear already activated (fused): keeps `y` as this layer's
   * output for backward and returns it unchanged.
   */
  adoptActivated(y: Matrix): Matrix {
    this.output = y;
    return y;
  }

  protected map(x: Float32Array, out: Float32Array, n: number): void {
    kernels.activate(x, out, n, this.code);
  }
  protected grad(y: Float32Array, dOut: Float32Array, dIn: Float32Array, n: number): void {
    kernels.activationBackward(y, dOut, dIn, n, this.code);
  }
}

/** max(x, 0), propagating NaN as PyTorch's relu does; the gradient at 0 is 0. */
export class ReLU extends KernelActivation {
  protected readonly label = 'ReLU';
  readonly code = ACT.relu;
}

export class Tanh extends KernelActivation {
  protected readonly label = 'Tanh';
  readonly code = ACT.tanh;
}

/** y = factor * x, e.g. max_action * tanh(.) for a TD3 actor. */
export class Scale extends Elementwise {
  protected readonly label: string;
  readonly factor: number;
  constructor(factor: number) {
    super();
    if (!Number.isFinite(factor)) throw new RangeError(`Scale: factor must be finite, got ${factor}`);
    this.factor = factor;
    this.label = `Scale(${factor})`;
  }
  protected map(x: Float32Array, out: Float32Array, n: number): void {
    const f = this.factor;
    for (let i = 0; i < n; i++) out[i] = f * x[i]!;
  }
  protected grad(_y: Float32Array, dOut: Float32Array, dIn: Float32Array, n: number): void {
    const f = this.factor;
    for (let i = 0; i < n; i++) dIn[i] = f * dOut[i]!;
  }
}

/**
 * PyTorch's nn.LayerNorm over each row: y = weight · (x − mean) / sqrt(var + eps) + bias, the variance
 * biased (÷ n). Training keeps the normalised input and each row's 1/std for backward.
 */
export class LayerNorm implements Layer {
  readonly inFeatures = undefined;
  readonly elementwise = false;
  readonly features: number;
  readonly eps: number;
  readonly weight: Param;
  readonly bias: Param;
  private normalized: Matrix | undefined;
  private rstd = new Float32Array(0);
  private readonly outs = new BufferCache();
  private readonly norms = new BufferCache();
  private readonly dIns = new BufferCache();
  private static readonly none = new Float32Array(0);

  constructor(features: number, eps = 1e-5) {
    if (!Number.isInteger(features) || features < 2) {
      throw new RangeError(`LayerNorm: features must be an integer >= 2, got ${features}`);
    }
    if (!(eps > 0)) throw new RangeError(`LayerNorm: eps must be positive, got ${eps}`);
    this.features = features;
    this.eps = eps;
    this.weight = {
      name: 'weight',
      shape: [features],
      value: new Float32Array(features).fill(1),
      grad: new Float32Array(features),
    };
    this.bias = {
      name: 'bias',
      shape: [features],
      value: new Float32Array(features),
      grad: new Float32Array(features),
    };
  }

  outputCols(inCols: number): number {
    if (inCols !== this.features) {
      throw new RangeError(`LayerNorm(${this.features}): input has ${inCols} columns`);
    }
    return inCols;
  }

  apply(x: Matrix, out: Matrix): void {
    assertCols(x, this.features, `LayerNorm(${this.features}) input`);
    assertSameShape(x, out, 'LayerNorm.apply');
    const none = LayerNorm.none;
    kernels.layerNormForward(
      x.data,
      out.data,
      x.rows,
      x.cols,
      this.weight.value,
      this.bias.value,
      this.eps,
      none,
      none,
    );
  }

  forward(x: Matrix): Matrix {
    assertCols(x, this.features, `LayerNorm(${this.features}) input`);
    const norm = this.norms.get(x.rows, x.cols);
    if (this.rstd.length !== x.rows) this.rstd = new Float32Array(x.rows);
    const out = this.outs.get(x.rows, x.cols);
    kernels.layerNormForward(
      x.data,
      out.data,
      x.rows,
      x.cols,
      this.weight.value,
      this.bias.value,
      this.eps,
      norm.data,
      this.rstd,
    );
    this.normalized = norm;
    return out;
  }

  backward(dOut: Matrix, accumulateParams: boolean, wantInput: boolean): Matrix | null {
    const xhat = this.normalized ?? noForward('LayerNorm');
    assertSameShape(dOut, xhat, 'LayerNorm.backward');
    const none = LayerNorm.none;
    const dIn = wantInput ? this.dIns.get(xhat.rows, xhat.cols) : null;
    kernels.layerNormBackward(
      dOut.data,
      xhat.data,
      this.rstd,
      xhat.rows,
      xhat.cols,
      this.weight.value,
      dIn === null ? none : dIn.data,
      accumulateParams ? this.weight.grad : none,
      accumulateParams ? this.bias.grad : none,
    );
    return dIn;
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }
}
