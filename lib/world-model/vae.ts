// The paper's VAE world model, read top to bottom: configuration, networks, the training loss with its
// hand-written gradient, and single-step prediction. States are standardised by the caller (see
// normalizer.ts); actions are raw.
//
//   encoder      q(z|s):   s → 500 → 500 → 500 (ReLU) → { mean, log-variance } of a 12-dim latent
//   decoder      p(s|z):   z → 500 → 500 → 500 (ReLU) → s
//   transition:  [z, a] → 300 → 600 → 300 (ReLU) → Δz, and z' = z + Δz  (or z' directly: 'direct')
//
//   loss = w_rec · MSE(dec(z), s)
//        + β / (minibatches per epoch) · KL(q(z|s) ‖ N(0, I))
//        + w_next · MSE(dec(z'), s')
//        + w_lat · MSE(z', stopgrad(z̃'))        z = μ(s) + σ(s)·ε,  z̃' = μ(s') + σ(s')·ε̃
//
// MSE is PyTorch's mean over all elements; KL is summed over latent dimensions and averaged over the batch.
import {
  addInto,
  Concat,
  klStandardNormal,
  Linear,
  Matrix,
  type Module,
  ModuleGroup,
  mlp,
  mseLoss,
  NnRng,
  type Param,
  ReLU,
  reparameterize,
  reparameterizeBackward,
  Sequential,
} from '../nn/index.ts';

export type TransitionMode = 'delta' | 'direct';

export interface VaeConfig {
  obsDim: number;
  actDim: number;
  latentDim: number;
  encoderHidden: number[];
  decoderHidden: number[];
  transitionHidden: number[];
  /** 'delta': the transition predicts Δz and z' = z + Δz (the paper's wording); 'direct': z'. */
  transitionMode: TransitionMode;
  /** Weight of MSE(decoder(z), s). */
  reconWeight: number;
  /** β: the KL term is β · KL / (minibatches per epoch). */
  klWeight: number;
  /** Weight of MSE(decoder(z'), s'). */
  nextReconWeight: number;
  /** Weight of MSE(z', stopgrad(sample of q(z|s'))). */
  latentWeight: number;
}

export const VAE_DEFAULTS = {
  latentDim: 12,
  encoderHidden: [500, 500, 500],
  decoderHidden: [500, 500, 500],
  transitionHidden: [300, 600, 300],
  transitionMode: 'delta' as TransitionMode,
  reconWeight: 1,
  klWeight: 1,
  nextReconWeight: 10,
  latentWeight: 1,
} as const;

export type VaeConfigInput = Pick<VaeConfig, 'obsDim' | 'actDim'> &
  Partial<Omit<VaeConfig, 'obsDim' | 'actDim'>>;

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`VAE config: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

function nonNegative(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new RangeError(`VAE config: ${what} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

function widths(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new RangeError(`VAE config: ${what} must be a non-empty array of layer widths`);
  return v.map((w, i) => positiveInt(w, `${what}[${i}]`));
}

/** Fills in the paper's defaults and validates every field. */
export function resolveVaeConfig(input: VaeConfigInput): VaeConfig {
  const c = { ...VAE_DEFAULTS, ...input };
  if (c.transitionMode !== 'delta' && c.transitionMode !== 'direct')
    throw new RangeError(
      `VAE config: transitionMode must be 'delta' or 'direct', got '${String(c.transitionMode)}'`,
    );
  return {
    obsDim: positiveInt(c.obsDim, 'obsDim'),
    actDim: positiveInt(c.actDim, 'actDim'),
    latentDim: positiveInt(c.latentDim, 'latentDim'),
    encoderHidden: widths(c.encoderHidden, 'encoderHidden'),
    decoderHidden: widths(c.decoderHidden, 'decoderHidden'),
    transitionHidden: widths(c.transitionHidden, 'transitionHidden'),
    transitionMode: c.transitionMode,
    reconWeight: nonNegative(c.reconWeight, 'reconWeight'),
    klWeight: nonNegative(c.klWeight, 'klWeight'),
    nextReconWeight: nonNegative(c.nextReconWeight, 'nextReconWeight'),
    latentWeight: nonNegative(c.latentWeight, 'latentWeight'),
  };
}

/** Linear → ReLU for every hidden width (the encoder's shared trunk ends in a ReLU; heads follow). */
function reluTrunk(inputs: number, hidden: readonly number[], rng: NnRng): Sequential {
  const layers = [];
  let w = inputs;
  for (const h of hidden) {
    layers.push(new Linear(w, h, rng), new ReLU());
    w = h;
  }
  return new Sequential(layers);
}

/** Values of each term (unweighted) and the weighted total the gradient belongs to. */
export interface VaeLossTerms {
  recon: number;
  kl: number;
  nextRecon: number;
  latent: number;
  total: number;
}

/** A training batch: standardised states and next states, raw actions, one transition per row. */
export interface VaeBatch {
  states: Matrix;
  actions: Matrix;
  nextStates: Matrix;
}

/** Standard-normal noise for the two reparameterised samples of one batch (rows × latentDim each). */
export interface VaeNoise {
  /** ε for z = μ(s) + σ(s)·ε. */
  eps: Matrix;
  /** ε̃ for the stop-gradient target z̃' = μ(s') + σ(s')·ε̃. */
  epsTarget: Matrix;
}

export class Vae {
  readonly config: VaeConfig;
  readonly encoderTrunk: Sequential;
  readonly encoderMean: Sequential;
  readonly encoderLogVar: Sequential;
  readonly decoder: Sequential;
  readonly transition: Sequential;
  /** Draws every ε of training and stochastic prediction. */
  noiseRng: NnRng;

  // Separate concatenations so prediction never disturbs a training pass's pending backward.
  private readonly trainConcat = new Concat();
  private readonly predictConcat = new Concat();
  private readonly scratch = new Map<string, Matrix>();
  private readonly parts: Record<string, Module>;
  private readonly namedParams: Param[];

  /** Weights are drawn from NnRng(seed) in the order encoder, decoder, transition; ε from NnRng(seed + 1). */
  constructor(config: VaeConfigInput, seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Vae: seed must be a safe integer, got ${seed}`);
    const c = resolveVaeConfig(config);
    this.config = c;
    const rng = new NnRng(seed);
    this.encoderTrunk = reluTrunk(c.obsDim, c.encoderHidden, rng);
    const last = c.encoderHidden[c.encoderHidden.length - 1]!;
    this.encoderMean = new Sequential([new Linear(last, c.latentDim, rng)]);
    this.encoderLogVar = new Sequential([new Linear(last, c.latentDim, rng)]);
    this.decoder = mlp({ inputs: c.latentDim, hidden: c.decoderHidden, outputs: c.obsDim, rng });
    this.transition = mlp({
      inputs: c.latentDim + c.actDim,
      hidden: c.transitionHidden,
      outputs: c.latentDim,
      rng,
    });
    this.noiseRng = new NnRng(seed + 1);
    this.parts = {
      encoder: new ModuleGroup({
        trunk: this.encoderTrunk,
        mean: this.encoderMean,
        log_var: this.encoderLogVar,
      }),
      decoder: this.decoder,
      transition: this.transition,
    };
    this.namedParams = Object.entries(this.parts).flatMap(([prefix, m]) =>
      m.params().map((p) => ({ ...p, name: `${prefix}.${p.name}` })),
    );
  }

  /** The parts as checkpoints name them: encoder.{trunk,mean,log_var}.layers.i.*, decoder.*, transition.*. */
  modules(): Record<string, Module> {
    return this.parts;
  }

  /** Every parameter with its checkpoint name (encoder.trunk.layers.0.weight, ...), in a fixed order. */
  params(): Param[] {
    return this.namedParams;
  }

  zeroGrad(): void {
    for (const p of this.namedParams) p.grad.fill(0);
  }

  /** Fresh ε and ε̃ for a batch of `rows`, from noiseRng. */
  sampleNoise(rows: number): VaeNoise {
    const eps = new Matrix(rows, this.config.latentDim);
    const epsTarget = new Matrix(rows, this.config.latentDim);
    this.noiseRng.fillNormal(eps.data);
    this.noiseRng.fillNormal(epsTarget.data);
    return { eps, epsTarget };
  }

  /**
   * The loss of one batch; accumulates its gradient into every parameter's `grad` (the caller zeroes
   * them and steps the optimiser). `minibatchesPerEpoch` scales the KL term. Noise defaults to fresh draws.
   */
  lossAndGrad(batch: VaeBatch, minibatchesPerEpoch: number, noise?: VaeNoise): VaeLossTerms {
    const c = this.config;
    const { states, actions, nextStates } = batch;
    const n = states.rows;
    this.checkBatch(batch);
    if (!(minibatchesPerEpoch > 0))
      throw new RangeError(`Vae.lossAndGrad: minibatchesPerEpoch must be > 0, got ${minibatchesPerEpoch}`);
    const { eps, epsTarget } = noise ?? this.sampleNoise(n);
    const L = c.latentDim;
    for (const [m, what] of [
      [eps, 'noise.eps'],
      [epsTarget, 'noise.epsTarget'],
    ] as const) {
      if (m.rows !== n || m.cols !== L)
        throw new RangeError(`Vae.lossAndGrad: ${what} is ${m.rows}x${m.cols}, expected ${n}x${L}`);
    }

    // Forward. Encoder on s keeps its activations for backward.
    const h = this.encoderTrunk.forward(states);
    const mean = this.encoderMean.forward(h);
    const logVar = this.encoderLogVar.forward(h);
    const z = reparameterize(mean, logVar, eps, this.buf('z', n, L));

    // Stop-gradient target: a sample of q(z|s'), computed with predict (keeps nothing, no gradient).
    const zTarget = this.sampleLatent(nextStates, epsTarget, this.buf('zTarget', n, L));

    const za = this.trainConcat.forward(z, actions);
    const out = this.transition.forward(za);
    const zNext = this.buf('zNext', n, L);
    if (c.transitionMode === 'delta') {
      for (let i = 0; i < zNext.data.length; i++) zNext.data[i] = z.data[i]! + out.data[i]!;
    } else zNext.copyFrom(out);

    // dL/dz' collects the latent-matching term and the next-state reconstruction through the decoder.
    const dZNext = this.buf('dZNext', n, L);
    const latent = mseLoss(zNext, zTarget, dZNext);
    scaleInPlace(dZNext, c.latentWeight);

    // The decoder runs twice (on z' and on z); each pass is back-propagated before the next overwrites it.
    const nextRecon = this.decoder.forward(zNext);
    const dNextRecon = this.buf('dNextRecon', n, c.obsDim);
    const nextReconLoss = mseLoss(nextRecon, nextStates, dNextRecon);
    scaleInPlace(dNextRecon, c.nextReconWeight);
    addInto(dZNext, this.decoder.backward(dNextRecon));

    // Through the transition to z (and, in delta mode, straight through z' = z + Δz).
    const dZ = this.buf('dZ', n, L);
    dZ.copyFrom(this.trainConcat.backward(this.transition.backward(dZNext)));
    if (c.transitionMode === 'delta') addInto(dZ, dZNext);

    const recon = this.decoder.forward(z);
    const dRecon = this.buf('dRecon', n, c.obsDim);
    const reconLoss = mseLoss(recon, states, dRecon);
    scaleInPlace(dRecon, c.reconWeight);
    addInto(dZ, this.decoder.backward(dRecon));

    // KL on (μ, log σ²), then the reparameterisation adds dz's share.
    const dMean = this.buf('dMean', n, L);
    const dLogVar = this.buf('dLogVar', n, L);
    const kl = klStandardNormal(mean, logVar, dMean, dLogVar);
    const klScale = c.klWeight / minibatchesPerEpoch;
    scaleInPlace(dMean, klScale);
    scaleInPlace(dLogVar, klScale);
    reparameterizeBackward(dZ, logVar, eps, dMean, dLogVar);

    const dH = this.buf('dH', n, h.cols);
    dH.copyFrom(this.encoderMean.backward(dMean));
    addInto(dH, this.encoderLogVar.backward(dLogVar));
    this.encoderTrunk.backwardParams(dH);

    const total =
      c.reconWeight * reconLoss + klScale * kl + c.nextReconWeight * nextReconLoss + c.latentWeight * latent;
    return { recon: reconLoss, kl, nextRecon: nextReconLoss, latent, total };
  }

  /**
   * Standardised next states for standardised states and raw actions, into `out` (rows × obsDim):
   * z from q(z|s) (its mean when deterministic), z' from the transition, then the decoder.
   */
  predictNormalized(states: Matrix, actions: Matrix, deterministic: boolean, out: Matrix): Matrix {
    const c = this.config;
    const n = states.rows;
    if (states.cols !== c.obsDim || actions.cols !== c.actDim || actions.rows !== n)
      throw new RangeError(
        `Vae.predictNormalized: states ${states.rows}x${states.cols} / actions ${actions.rows}x${actions.cols}, expected Nx${c.obsDim} / Nx${c.actDim}`,
      );
    if (out.rows !== n || out.cols !== c.obsDim)
      throw new RangeError(
        `Vae.predictNormalized: out is ${out.rows}x${out.cols}, expected ${n}x${c.obsDim}`,
      );
    const z = this.buf('pz', n, c.latentDim);
    if (deterministic) z.copyFrom(this.encoderMean.predict(this.encoderTrunk.predict(states)));
    else {
      const eps = this.buf('peps', n, c.latentDim);
      this.noiseRng.fillNormal(eps.data);
      this.sampleLatent(states, eps, z);
    }
    const delta = this.transition.predict(this.predictConcat.forward(z, actions));
    if (c.transitionMode === 'delta') addInto(z, delta);
    else z.copyFrom(delta);
    out.copyFrom(this.decoder.predict(z));
    return out;
  }

  /** z = μ(s) + σ(s)·ε without keeping anything for backward. */
  private sampleLatent(states: Matrix, eps: Matrix, z: Matrix): Matrix {
    const h = this.encoderTrunk.predict(states);
    // Both heads predict from the same trunk output; the mean is copied out before the second head runs.
    const mean = this.buf('sMean', states.rows, this.config.latentDim).copyFrom(this.encoderMean.predict(h));
    const logVar = this.encoderLogVar.predict(h);
    return reparameterize(mean, logVar, eps, z);
  }

  private checkBatch(batch: VaeBatch): void {
    const c = this.config;
    const n = batch.states.rows;
    if (n < 1) throw new RangeError('Vae.lossAndGrad: empty batch');
    const expect: [string, Matrix, number][] = [
      ['states', batch.states, c.obsDim],
      ['actions', batch.actions, c.actDim],
      ['nextStates', batch.nextStates, c.obsDim],
    ];
    for (const [what, m, cols] of expect) {
      if (m.rows !== n || m.cols !== cols)
        throw new RangeError(`Vae.lossAndGrad: ${what} is ${m.rows}x${m.cols}, expected ${n}x${cols}`);
    }
  }

  /** Scratch matrices owned by the model, one per (name, rows). */
  private buf(name: string, rows: number, cols: number): Matrix {
    const key = `${name}:${rows}`;
    let m = this.scratch.get(key);
    if (m === undefined || m.cols !== cols) {
      m = new Matrix(rows, cols);
      this.scratch.set(key, m);
    }
    return m;
  }
}

function scaleInPlace(m: Matrix, factor: number): void {
  if (factor === 1) return;
  const d = m.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! * factor;
}
