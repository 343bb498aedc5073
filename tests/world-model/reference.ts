// A straightforward float64 re-implementation of the VAE world model's loss and prediction, written
// from the paper's description independently of lib/world-model/vae.ts, for checking its values and
// (by finite differences) its gradient.
import type { Matrix } from '../../lib/nn/index.ts';
import type { Vae, VaeConfig } from '../../lib/world-model/vae.ts';

export type Params64 = Map<string, Float64Array>;
type Rows = Float64Array[];

export function params64(vae: Vae): Params64 {
  return new Map(vae.params().map((p) => [p.name, Float64Array.from(p.value)]));
}

export function rowsOf(m: Matrix): Rows {
  return Array.from({ length: m.rows }, (_, r) =>
    Float64Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)),
  );
}

function linear(p: Params64, prefix: string, x: Rows): Rows {
  const w = p.get(`${prefix}.weight`);
  const b = p.get(`${prefix}.bias`);
  if (w === undefined || b === undefined) throw new Error(`reference: no parameters ${prefix}`);
  const out = b.length;
  const inp = w.length / out;
  return x.map((row) => {
    if (row.length !== inp) throw new Error(`reference: ${prefix} expects ${inp} inputs, got ${row.length}`);
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b[o]!;
      for (let i = 0; i < inp; i++) s += w[o * inp + i]! * row[i]!;
      y[o] = s;
    }
    return y;
  });
}

const relu = (x: Rows): Rows => x.map((r) => r.map((v) => Math.max(v, 0)));

/** Linear layers at indices 0, 2, 4, ... with ReLU between (and after the last when reluLast). */
function chain(p: Params64, prefix: string, linears: number, x: Rows, reluLast: boolean): Rows {
  let h = x;
  for (let k = 0; k < linears; k++) {
    h = linear(p, `${prefix}.layers.${2 * k}`, h);
    if (k < linears - 1 || reluLast) h = relu(h);
  }
  return h;
}

export function encode(p: Params64, c: VaeConfig, s: Rows): { mean: Rows; logVar: Rows } {
  const h = chain(p, 'encoder.trunk', c.encoderHidden.length, s, true);
  return { mean: linear(p, 'encoder.mean.layers.0', h), logVar: linear(p, 'encoder.log_var.layers.0', h) };
}

export function decode(p: Params64, c: VaeConfig, z: Rows): Rows {
  return chain(p, 'decoder', c.decoderHidden.length + 1, z, false);
}

export function transition(p: Params64, c: VaeConfig, z: Rows, a: Rows): Rows {
  const out = chain(
    p,
    'transition',
    c.transitionHidden.length + 1,
    z.map((zr, i) => Float64Array.from([...zr, ...a[i]!])),
    false,
  );
  return c.transitionMode === 'delta' ? out.map((d, i) => d.map((v, j) => v + z[i]![j]!)) : out;
}

export function sample(mean: Rows, logVar: Rows, eps: Rows): Rows {
  return mean.map((m, i) => m.map((v, j) => v + Math.exp(0.5 * logVar[i]![j]!) * eps[i]![j]!));
}

function mse(a: Rows, b: Rows): number {
  let s = 0;
  let n = 0;
  a.forEach((r, i) => {
    r.forEach((v, j) => {
      s += (v - b[i]![j]!) ** 2;
      n++;
    });
  });
  return s / n;
}

export interface RefBatch {
  s: Rows;
  a: Rows;
  s2: Rows;
  eps: Rows;
  /** The stop-gradient target z̃', computed once from the unperturbed weights. */
  zTarget: Rows;
}

export function refLoss(p: Params64, c: VaeConfig, b: RefBatch, minibatches: number) {
  const { mean, logVar } = encode(p, c, b.s);
  const z = sample(mean, logVar, b.eps);
  const recon = mse(decode(p, c, z), b.s);
  let klSum = 0;
  mean.forEach((m, i) => {
    m.forEach((mu, j) => {
      const lv = logVar[i]![j]!;
      klSum += -0.5 * (1 + lv - mu * mu - Math.exp(lv));
    });
  });
  const kl = klSum / b.s.length;
  const zNext = transition(p, c, z, b.a);
  const nextRecon = mse(decode(p, c, zNext), b.s2);
  const latent = mse(zNext, b.zTarget);
  const total =
    c.reconWeight * recon +
    (c.klWeight / minibatches) * kl +
    c.nextReconWeight * nextRecon +
    c.latentWeight * latent;
  return { recon, kl, nextRecon, latent, total };
}

/** Deterministic prediction in standardised units: decoder(transition(mean of q(z|s), a)). */
export function refPredict(p: Params64, c: VaeConfig, s: Rows, a: Rows): Rows {
  return decode(p, c, transition(p, c, encode(p, c, s).mean, a));
}
