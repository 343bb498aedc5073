// Training the VAE world model on an offline dataset: Adam (lr 1e-4), shuffled minibatches of 4096
// (capped at the training-set size; the last batch of an epoch may be smaller), 300 epochs, with a
// seeded held-out split whose one-step MSE is checked every few epochs for early stopping.
// Same seed and data → bit-identical weights.
import { Adam, Matrix, NnRng } from '../nn/index.ts';
import { gatherRows, type RowSplit, shuffleInPlace, type TransitionData, worldModelSplit } from './data.ts';
import { DEFAULT_NORM_EPS, StateNormalizer } from './normalizer.ts';
import { Vae, type VaeConfig, type VaeLossTerms } from './vae.ts';

export const TRAIN_DEFAULTS = {
  epochs: 300,
  batchSize: 4096,
  lr: 1e-4,
  heldOutFraction: 0.1,
  /** Held-out evaluation every this many epochs (and after the last). */
  evalEvery: 5,
  /** Evaluations without a new best held-out MSE before stopping (Infinity: never stop early). */
  patience: 20,
  /** Reload the weights of the best held-out evaluation at the end. */
  restoreBest: true,
  normEps: DEFAULT_NORM_EPS,
} as const;

export interface EpochProgress {
  epoch: number;
  epochs: number;
  /** Loss terms averaged over the epoch's minibatches (weighted by batch size). */
  loss: VaeLossTerms;
  /** Held-out one-step MSE (standardised units, deterministic prediction) if evaluated this epoch. */
  heldOutMse: number | undefined;
  updates: number;
}

export interface WorldModelTrainOptions {
  seed: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  heldOutFraction?: number;
  evalEvery?: number;
  patience?: number;
  restoreBest?: boolean;
  normEps?: number;
  /** Architecture and loss weights (the paper's by default); the dimensions come from the data. */
  model?: Partial<Omit<VaeConfig, 'obsDim' | 'actDim'>>;
  onProgress?: (p: EpochProgress) => void;
}

export interface WorldModelTrainResult {
  vae: Vae;
  normalizer: StateNormalizer;
  /** Dataset row indices of the training and held-out transitions. */
  split: RowSplit;
  history: EpochProgress[];
  /** Epoch of the weights returned (the best evaluation when restoreBest, else the last epoch). */
  bestEpoch: number;
  bestHeldOutMse: number;
  stoppedEarly: boolean;
  updates: number;
}

function checkOption(ok: boolean, what: string, v: unknown): void {
  if (!ok) throw new RangeError(`trainWorldModel: invalid ${what} ${String(v)}`);
}

/** Standardised copies of a dataset's state columns (all rows; only the selected ones are read). */
export interface NormalizedColumns {
  states: Float32Array;
  actions: Float32Array;
  nextStates: Float32Array;
}

export function normalizeColumns(data: TransitionData, normalizer: StateNormalizer): NormalizedColumns {
  return {
    states: normalizer.normalize(data.observations, new Float32Array(data.observations.length)),
    actions: data.actions,
    nextStates: normalizer.normalize(data.nextObservations, new Float32Array(data.nextObservations.length)),
  };
}

/** Mean squared one-step error over `rows`, in standardised units, deterministic prediction. */
export function heldOutMse(vae: Vae, cols: NormalizedColumns, rows: Int32Array, chunk = 4096): number {
  const { obsDim, actDim } = vae.config;
  if (rows.length === 0) throw new RangeError('heldOutMse: no rows');
  let sum = 0;
  for (let from = 0; from < rows.length; from += chunk) {
    const n = Math.min(chunk, rows.length - from);
    const s = new Matrix(
      n,
      obsDim,
      gatherRows(cols.states, obsDim, rows, from, n, new Float32Array(n * obsDim)),
    );
    const a = new Matrix(
      n,
      actDim,
      gatherRows(cols.actions, actDim, rows, from, n, new Float32Array(n * actDim)),
    );
    const target = gatherRows(cols.nextStates, obsDim, rows, from, n, new Float32Array(n * obsDim));
    const pred = vae.predictNormalized(s, a, true, new Matrix(n, obsDim));
    for (let i = 0; i < target.length; i++) sum += (pred.data[i]! - target[i]!) ** 2;
  }
  return sum / (rows.length * obsDim);
}

/** Minibatch buffers, one set per batch size (the full size and the epoch's last, smaller one). */
class BatchBuffers {
  private readonly sets = new Map<number, { states: Matrix; actions: Matrix; nextStates: Matrix }>();
  constructor(
    private readonly obsDim: number,
    private readonly actDim: number,
  ) {}
  get(n: number) {
    let b = this.sets.get(n);
    if (b === undefined) {
      b = {
        states: new Matrix(n, this.obsDim),
        actions: new Matrix(n, this.actDim),
        nextStates: new Matrix(n, this.obsDim),
      };
      this.sets.set(n, b);
    }
    return b;
  }
}

export function trainWorldModel(
  data: TransitionData,
  options: WorldModelTrainOptions,
): WorldModelTrainResult {
  const o = { ...TRAIN_DEFAULTS, ...options };
  checkOption(Number.isSafeInteger(o.seed), 'seed', o.seed);
  checkOption(Number.isInteger(o.epochs) && o.epochs >= 1, 'epochs', o.epochs);
  checkOption(Number.isInteger(o.batchSize) && o.batchSize >= 1, 'batchSize', o.batchSize);
  checkOption(o.lr > 0 && Number.isFinite(o.lr), 'lr', o.lr);
  checkOption(Number.isInteger(o.evalEvery) && o.evalEvery >= 1, 'evalEvery', o.evalEvery);
  checkOption(o.patience >= 1, 'patience', o.patience);

  const split = worldModelSplit(data, o.seed, o.heldOutFraction, 'trainWorldModel');
  const evalRows = split.heldOut.length > 0 ? split.heldOut : split.train;
  const normalizer = StateNormalizer.fit(data.observations, data.obsDim, split.train, o.normEps);
  const cols = normalizeColumns(data, normalizer);

  const vae = new Vae({ ...o.model, obsDim: data.obsDim, actDim: data.actDim }, o.seed);
  const params = vae.params();
  const opt = new Adam(params, { lr: o.lr });
  const shuffleRng = new NnRng(o.seed + 3);
  const nTrain = split.train.length;
  const batchSize = Math.min(o.batchSize, nTrain);
  const perEpoch = Math.ceil(nTrain / batchSize);
  const buffers = new BatchBuffers(data.obsDim, data.actDim);
  const order = split.train.slice();

  const history: EpochProgress[] = [];
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: Float32Array[] | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  let updates = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    shuffleInPlace(order, shuffleRng);
    const sums = { recon: 0, kl: 0, nextRecon: 0, latent: 0, total: 0 };
    for (let b = 0; b < perEpoch; b++) {
      const from = b * batchSize;
      const n = Math.min(batchSize, nTrain - from);
      const batch = buffers.get(n);
      gatherRows(cols.states, data.obsDim, order, from, n, batch.states.data);
      gatherRows(cols.actions, data.actDim, order, from, n, batch.actions.data);
      gatherRows(cols.nextStates, data.obsDim, order, from, n, batch.nextStates.data);
      vae.zeroGrad();
      const terms = vae.lossAndGrad(batch, perEpoch);
      if (!Number.isFinite(terms.total))
        throw new Error(`trainWorldModel: loss became ${terms.total} at epoch ${epoch}, minibatch ${b}`);
      opt.step();
      updates++;
      for (const k of Object.keys(sums) as (keyof VaeLossTerms)[]) sums[k] += terms[k] * n;
    }
    for (const k of Object.keys(sums) as (keyof VaeLossTerms)[]) sums[k] /= nTrain;

    let mse: number | undefined;
    if (epoch % o.evalEvery === 0 || epoch === o.epochs) {
      mse = heldOutMse(vae, cols, evalRows);
      if (mse < best) {
        best = mse;
        bestEpoch = epoch;
        sinceBest = 0;
        if (o.restoreBest) bestWeights = params.map((p) => p.value.slice());
      } else sinceBest++;
    }
    const progress: EpochProgress = { epoch, epochs: o.epochs, loss: sums, heldOutMse: mse, updates };
    history.push(progress);
    o.onProgress?.(progress);
    if (sinceBest >= o.patience) {
      stoppedEarly = epoch < o.epochs;
      break;
    }
  }

  const lastEpoch = history[history.length - 1]!.epoch;
  if (o.restoreBest && bestWeights !== undefined) {
    for (const [i, p] of params.entries()) p.value.set(bestWeights[i]!);
  } else {
    bestEpoch = lastEpoch;
    best = heldOutMse(vae, cols, evalRows);
  }
  return { vae, normalizer, split, history, bestEpoch, bestHeldOutMse: best, stoppedEarly, updates };
}
