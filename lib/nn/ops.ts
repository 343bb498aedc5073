// Small differentiable pieces the algorithms glue networks with: column concatenation (critic input
// [state, action], transition input [z, action]), gradient sums (a trunk feeding two heads), and the
// VAE's reparameterisation. Copies go index by index: subarray views would allocate every step.
import { assertSameShape, BufferCache, type Matrix } from './matrix.ts';

/** dst += src (e.g. summing the gradients two heads send back into a shared trunk). */
export function addInto(dst: Matrix, src: Matrix): Matrix {
  assertSameShape(dst, src, 'addInto');
  const d = dst.data;
  const s = src.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! + s[i]!;
  return dst;
}

/** [left | right] column concatenation with a matching split for the gradient; owns its buffers. */
export class Concat {
  private readonly outs = new BufferCache();
  private readonly lefts = new BufferCache();
  private readonly rights = new BufferCache();
  private leftCols = -1;
  private rightCols = -1;
  /** Gradient parts of the last backward (buffers owned by this Concat). */
  gradLeft: Matrix | undefined;
  gradRight: Matrix | undefined;

  forward(left: Matrix, right: Matrix): Matrix {
    if (left.rows !== right.rows) {
      throw new RangeError(`Concat: row counts differ (${left.rows} vs ${right.rows})`);
    }
    const a = left.cols;
    const b = right.cols;
    const w = a + b;
    const out = this.outs.get(left.rows, w);
    const o = out.data;
    for (let r = 0; r < left.rows; r++) {
      for (let j = 0; j < a; j++) o[r * w + j] = left.data[r * a + j]!;
      for (let j = 0; j < b; j++) o[r * w + a + j] = right.data[r * b + j]!;
    }
    this.leftCols = a;
    this.rightCols = b;
    return out;
  }

  /** Splits d[rows, left+right] into gradLeft and gradRight, returned as gradLeft. */
  backward(d: Matrix): Matrix {
    const a = this.leftCols;
    const b = this.rightCols;
    if (a < 0) throw new Error('Concat: backward called before forward');
    if (d.cols !== a + b)
      throw new RangeError(`Concat.backward: gradient has ${d.cols} columns, expected ${a + b}`);
    const gl = this.lefts.get(d.rows, a);
    const gr = this.rights.get(d.rows, b);
    for (let r = 0; r < d.rows; r++) {
      const off = r * (a + b);
      for (let j = 0; j < a; j++) gl.data[r * a + j] = d.data[off + j]!;
      for (let j = 0; j < b; j++) gr.data[r * b + j] = d.data[off + a + j]!;
    }
    this.gradLeft = gl;
    this.gradRight = gr;
    return gl;
  }
}

/** z = mean + exp(0.5 * logVar) * eps, written into z. */
export function reparameterize(mean: Matrix, logVar: Matrix, eps: Matrix, z: Matrix): Matrix {
  assertSameShape(mean, logVar, 'reparameterize(mean, logVar)');
  assertSameShape(mean, eps, 'reparameterize(mean, eps)');
  assertSameShape(mean, z, 'reparameterize(mean, z)');
  const m = mean.data;
  const lv = logVar.data;
  const e = eps.data;
  const out = z.data;
  for (let i = 0; i < out.length; i++) out[i] = m[i]! + Math.exp(0.5 * lv[i]!) * e[i]!;
  return z;
}

/** Accumulates dMean += dz and dLogVar += dz * eps * 0.5 * exp(0.5 * logVar). */
export function reparameterizeBackward(
  dz: Matrix,
  logVar: Matrix,
  eps: Matrix,
  dMean: Matrix,
  dLogVar: Matrix,
): void {
  assertSameShape(dz, logVar, 'reparameterizeBackward(dz, logVar)');
  assertSameShape(dz, eps, 'reparameterizeBackward(dz, eps)');
  assertSameShape(dz, dMean, 'reparameterizeBackward(dz, dMean)');
  assertSameShape(dz, dLogVar, 'reparameterizeBackward(dz, dLogVar)');
  const g = dz.data;
  const lv = logVar.data;
  const e = eps.data;
  const dm = dMean.data;
  const dl = dLogVar.data;
  for (let i = 0; i < g.length; i++) {
    dm[i] = dm[i]! + g[i]!;
    dl[i] = dl[i]! + g[i]! * e[i]! * 0.5 * Math.exp(0.5 * lv[i]!);
  }
}
