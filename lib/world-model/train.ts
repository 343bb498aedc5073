// Training the VAE world model on an offline dataset: Adam (lr 1e-4), shuffled minibatches of 4096
// (capped at the training-set size; the last batch of an epoch may be smaller), 300 epochs, with a
// seeded held-out split whose one-step MSE is checked every few epochs for early stopping.
// Same seed and data → bit-identical weights.
import { createHash } from 'node:crypto';
import {
  Adam,
  type CheckpointParts,
  loadCheckpoint,
  Matrix,
  type Module,
  NnRng,
  type Param,
  readSafetensorsMetadata,
  saveCheckpoint,
} from '../nn/index.ts';
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

/** What a checkpoint must have been written with to be resumed (everything the run depends on). */
function trainingSignature(o: ResolvedOptions, data: TransitionData, vae: Vae, nTrain: number) {
  return {
    seed: o.seed,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    heldOutFraction: o.heldOutFraction,
    evalEvery: o.evalEvery,
    // JSON has no Infinity.
    patience: Number.isFinite(o.patience) ? o.patience : 'Infinity',
    restoreBest: o.restoreBest,
    normEps: o.normEps,
    model: vae.config,
    rows: data.observations.length / data.obsDim,
    trainRows: nTrain,
    data: dataFingerprint(data),
  };
}

/** sha256 of the columns training reads, so that a checkpoint is never resumed on other data. */
function dataFingerprint(data: TransitionData): string {
  const h = createHash('sha256');
  for (const column of [
    data.observations,
    data.actions,
    data.nextObservations,
    data.terminals,
    data.timeouts,
    data.mask,
  ]) {
    // A marker per column, so that an absent column and an empty one differ.
    h.update(column === undefined ? '-' : `+${column.length}`);
    if (column !== undefined) h.update(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
  }
  return h.digest('hex');
}

type ResolvedOptions = Required<Omit<WorldModelTrainOptions, 'model' | 'onProgress'>> &
  Pick<WorldModelTrainOptions, 'model' | 'onProgress'>;

/** The minibatch order's generator (seed + 3: the VAE draws from seed and seed + 1, the split from seed + 2). */
const shuffleRngFor = (seed: number) => new NnRng(seed + 3);

const STATE_KEY = 'o2o.wm_train.state';
const SIGNATURE_KEY = 'o2o.wm_train.signature';

/** The loop's state between epochs, besides the weights and Adam's moments (in the checkpoint's tensors). */
interface LoopState {
  epoch: number;
  history: EpochProgress[];
  /** null: no evaluation yet (JSON has no Infinity). */
  best: number | null;
  bestEpoch: number;
  sinceBest: number;
  stoppedEarly: boolean;
  updates: number;
  hasBestWeights: boolean;
  noiseRng: (number | null)[];
  shuffleRng: (number | null)[];
}

/**
 * The training loop one epoch at a time, so that a caller can yield to the event loop between epochs (and
 * so notice a stop request) and checkpoint the whole state: a run resumed from any epoch's checkpoint ends
 * with the same weights, bit for bit, as one that never stopped.
 */
export class WorldModelTrainer {
  readonly vae: Vae;
  readonly normalizer: StateNormalizer;
  readonly split: RowSplit;
  readonly options: ResolvedOptions;
  private readonly data: TransitionData;
  private readonly cols: NormalizedColumns;
  private readonly evalRows: Int32Array;
  private readonly params: Param[];
  private readonly opt: Adam;
  private shuffleRng: NnRng;
  private order: Int32Array;
  private readonly batchSize: number;
  private readonly perEpoch: number;
  private readonly buffers: BatchBuffers;
  private epoch = 0;
  private readonly history: EpochProgress[] = [];
  private best = Number.POSITIVE_INFINITY;
  private bestEpoch = 0;
  private bestWeights: Float32Array[] | undefined;
  private sinceBest = 0;
  private stoppedEarly = false;
  private updates = 0;
  private ended = false;
  private signatureCache: Record<string, unknown> | undefined;

  constructor(data: TransitionData, options: WorldModelTrainOptions) {
    const o: ResolvedOptions = { ...TRAIN_DEFAULTS, ...options };
    checkOption(Number.isSafeInteger(o.seed), 'seed', o.seed);
    checkOption(Number.isInteger(o.epochs) && o.epochs >= 1, 'epochs', o.epochs);
    checkOption(Number.isInteger(o.batchSize) && o.batchSize >= 1, 'batchSize', o.batchSize);
    checkOption(o.lr > 0 && Number.isFinite(o.lr), 'lr', o.lr);
    checkOption(Number.isInteger(o.evalEvery) && o.evalEvery >= 1, 'evalEvery', o.evalEvery);
    checkOption(o.patience >= 1, 'patience', o.patience);
    this.options = o;
    this.data = data;
    this.split = worldModelSplit(data, o.seed, o.heldOutFraction, 'trainWorldModel');
    this.evalRows = this.split.heldOut.length > 0 ? this.split.heldOut : this.split.train;
    this.normalizer = StateNormalizer.fit(data.observations, data.obsDim, this.split.train, o.normEps);
    this.cols = normalizeColumns(data, this.normalizer);
    this.vae = new Vae({ ...o.model, obsDim: data.obsDim, actDim: data.actDim }, o.seed);
    this.params = this.vae.params();
    this.opt = new Adam(this.params, { lr: o.lr });
    this.shuffleRng = shuffleRngFor(o.seed);
    const nTrain = this.split.train.length;
    this.batchSize = Math.min(o.batchSize, nTrain);
    this.perEpoch = Math.ceil(nTrain / this.batchSize);
    this.buffers = new BatchBuffers(data.obsDim, data.actDim);
    this.order = this.split.train.slice();
  }

  /** Epochs run so far. */
  get epochsDone(): number {
    return this.epoch;
  }

  /** True once the last epoch ran or early stopping ended training. */
  get finished(): boolean {
    return this.ended || this.epoch >= this.options.epochs;
  }

  /** One epoch of shuffled minibatches, then the held-out evaluation when due. */
  runEpoch(): EpochProgress {
    if (this.finished) throw new Error('WorldModelTrainer: training has finished');
    const { data, vae, opt, buffers, batchSize, perEpoch, cols } = this;
    const o = this.options;
    const nTrain = this.split.train.length;
    const epoch = ++this.epoch;
    shuffleInPlace(this.order, this.shuffleRng);
    const sums = { recon: 0, kl: 0, nextRecon: 0, latent: 0, total: 0 };
    for (let b = 0; b < perEpoch; b++) {
      const from = b * batchSize;
      const n = Math.min(batchSize, nTrain - from);
      const batch = buffers.get(n);
      gatherRows(cols.states, data.obsDim, this.order, from, n, batch.states.data);
      gatherRows(cols.actions, data.actDim, this.order, from, n, batch.actions.data);
      gatherRows(cols.nextStates, data.obsDim, this.order, from, n, batch.nextStates.data);
      vae.zeroGrad();
      const terms = vae.lossAndGrad(batch, perEpoch);
      if (!Number.isFinite(terms.total))
        throw new Error(`trainWorldModel: loss became ${terms.total} at epoch ${epoch}, minibatch ${b}`);
      opt.step();
      this.updates++;
      for (const k of Object.keys(sums) as (keyof VaeLossTerms)[]) sums[k] += terms[k] * n;
    }
    for (const k of Object.keys(sums) as (keyof VaeLossTerms)[]) sums[k] /= nTrain;

    let mse: number | undefined;
    if (epoch % o.evalEvery === 0 || epoch === o.epochs) {
      mse = heldOutMse(vae, cols, this.evalRows);
      if (mse < this.best) {
        this.best = mse;
        this.bestEpoch = epoch;
        this.sinceBest = 0;
        if (o.restoreBest) this.bestWeights = this.params.map((p) => p.value.slice());
      } else this.sinceBest++;
    }
    const progress: EpochProgress = {
      epoch,
      epochs: o.epochs,
      loss: sums,
      heldOutMse: mse,
      updates: this.updates,
    };
    this.history.push(progress);
    o.onProgress?.(progress);
    if (this.sinceBest >= o.patience) {
      this.ended = true;
      this.stoppedEarly = epoch < o.epochs;
    }
    return progress;
  }

  /** The trained model: with restoreBest, the best evaluation's weights are loaded into the VAE. */
  result(): WorldModelTrainResult {
    if (!this.finished) throw new Error('WorldModelTrainer: result() before training finished');
    let { best, bestEpoch } = this;
    if (this.options.restoreBest && this.bestWeights !== undefined) {
      for (const [i, p] of this.params.entries()) p.value.set(this.bestWeights[i]!);
    } else {
      bestEpoch = this.history[this.history.length - 1]!.epoch;
      best = heldOutMse(this.vae, this.cols, this.evalRows);
    }
    return {
      vae: this.vae,
      normalizer: this.normalizer,
      split: this.split,
      history: this.history,
      bestEpoch,
      bestHeldOutMse: best,
      stoppedEarly: this.stoppedEarly,
      updates: this.updates,
    };
  }

  /** The whole state between epochs in one safetensors file (written atomically), plus `metadata`. */
  save(path: string, metadata: Record<string, string> = {}): void {
    const state: LoopState = {
      epoch: this.epoch,
      history: this.history,
      best: Number.isFinite(this.best) ? this.best : null,
      bestEpoch: this.bestEpoch,
      sinceBest: this.sinceBest,
      stoppedEarly: this.stoppedEarly,
      updates: this.updates,
      hasBestWeights: this.bestWeights !== undefined,
      noiseRng: this.vae.noiseRng.getState(),
      shuffleRng: this.shuffleRng.getState(),
    };
    saveCheckpoint(path, this.checkpointParts(), {
      ...metadata,
      [STATE_KEY]: JSON.stringify(state),
      [SIGNATURE_KEY]: JSON.stringify(this.signature()),
    });
  }

  /**
   * Continues from a checkpoint that `save` wrote for the same data and options (both checked: the options
   * as recorded, the data by a hash of its columns). Only on a trainer that has not run an epoch.
   */
  restore(path: string): void {
    if (this.epoch !== 0) throw new Error('WorldModelTrainer.restore: the trainer has already run');
    const meta = readSafetensorsMetadata(path);
    const differences = signatureDifferences(meta[SIGNATURE_KEY], this.signature());
    if (differences !== undefined) {
      throw new Error(
        `${path}: this world-model checkpoint was written for other data or options: ${differences}`,
      );
    }
    const state = parseLoopState(meta[STATE_KEY], path);
    // Everything is checked before anything changes, so a refused file leaves the trainer as it was.
    // The minibatch order is shuffled in place every epoch: replaying the shuffles rebuilds it (and the
    // shuffle generator), which the saved generator state then confirms.
    const order = this.order.slice();
    const shuffleRng = shuffleRngFor(this.options.seed);
    for (let e = 0; e < state.epoch; e++) shuffleInPlace(order, shuffleRng);
    if (JSON.stringify(shuffleRng.getState()) !== JSON.stringify(state.shuffleRng))
      throw new Error(`${path}: the replayed minibatch order does not match the checkpoint's (other data?)`);
    new NnRng(0).setState(state.noiseRng);
    const bestWeights = state.hasBestWeights
      ? this.params.map((p) => new Float32Array(p.value.length))
      : undefined;
    loadCheckpoint(path, this.checkpointParts(bestWeights)); // validates every tensor before writing any
    this.bestWeights = bestWeights;
    this.order = order;
    this.shuffleRng = shuffleRng;
    this.vae.noiseRng.setState(state.noiseRng);
    this.epoch = state.epoch;
    // JSON drops the undefined held-out MSE of epochs without an evaluation.
    this.history.push(...state.history.map((h) => ({ ...h, heldOutMse: h.heldOutMse ?? undefined })));
    this.best = state.best ?? Number.POSITIVE_INFINITY;
    this.bestEpoch = state.bestEpoch;
    this.sinceBest = state.sinceBest;
    this.stoppedEarly = state.stoppedEarly;
    this.ended = state.sinceBest >= this.options.patience;
    this.updates = state.updates;
  }

  private signature(): Record<string, unknown> {
    this.signatureCache ??= trainingSignature(this.options, this.data, this.vae, this.split.train.length);
    return this.signatureCache;
  }

  private checkpointParts(bestWeights = this.bestWeights): CheckpointParts {
    const modules: Record<string, Module> = { ...this.vae.modules() };
    if (bestWeights !== undefined) {
      const params = this.params.map((p, i) => ({ ...p, value: bestWeights[i]! }));
      modules.best = { params: () => params };
    }
    return { modules, optimizers: { opt: this.opt } };
  }
}

/** What differs between a checkpoint's signature and this trainer's, or undefined if nothing. */
function signatureDifferences(
  saved: string | undefined,
  current: Record<string, unknown>,
): string | undefined {
  if (saved === undefined) return 'it records no signature';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(saved) as Record<string, unknown>;
  } catch {
    return 'its signature is not valid JSON';
  }
  const keys = new Set([...Object.keys(parsed), ...Object.keys(current)]);
  const differ = [...keys].filter((k) => JSON.stringify(parsed[k]) !== JSON.stringify(current[k]));
  if (differ.length === 0) return undefined;
  return differ
    .map((k) => `${k} (checkpoint ${JSON.stringify(parsed[k])}, here ${JSON.stringify(current[k])})`)
    .join(', ');
}

/**
 * How far the training saved in `path` got (epochs run of the epochs asked for), from its header alone;
 * undefined if the file is missing or is not a readable training state. For status reports.
 */
export function readTrainingProgress(path: string): { epoch: number; epochs: number } | undefined {
  try {
    const meta = readSafetensorsMetadata(path);
    const state = parseLoopState(meta[STATE_KEY], path);
    const epochs = (JSON.parse(meta[SIGNATURE_KEY] ?? '{}') as { epochs?: unknown }).epochs;
    if (!Number.isInteger(epochs)) return undefined;
    return { epoch: state.epoch, epochs: epochs as number };
  } catch {
    return undefined;
  }
}

function parseLoopState(raw: string | undefined, path: string): LoopState {
  if (raw === undefined)
    throw new Error(`${path}: metadata '${STATE_KEY}' is missing (not a world-model training checkpoint?)`);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error(`${path}: metadata '${STATE_KEY}' is not valid JSON`);
  }
  const s = v as Partial<LoopState>;
  const isInt = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  const ok =
    typeof v === 'object' &&
    v !== null &&
    isInt(s.epoch) &&
    Array.isArray(s.history) &&
    s.history.length === s.epoch &&
    (s.best === null || typeof s.best === 'number') &&
    isInt(s.bestEpoch) &&
    isInt(s.sinceBest) &&
    typeof s.stoppedEarly === 'boolean' &&
    isInt(s.updates) &&
    typeof s.hasBestWeights === 'boolean' &&
    Array.isArray(s.noiseRng) &&
    Array.isArray(s.shuffleRng);
  if (!ok) throw new Error(`${path}: metadata '${STATE_KEY}' is malformed`);
  return s as LoopState;
}

export function trainWorldModel(
  data: TransitionData,
  options: WorldModelTrainOptions,
): WorldModelTrainResult {
  const trainer = new WorldModelTrainer(data, options);
  while (!trainer.finished) trainer.runEpoch();
  return trainer.result();
}
