// The trained VAE behind the WorldModel interface ('vae-native'): raw states in, raw next states out,
// with the normalisation statistics and the configuration saved in the same safetensors file as the
// weights, so a reloaded model predicts exactly as the saved one did.
import {
  loadCheckpoint,
  Matrix,
  type Module,
  NnRng,
  type Param,
  readSafetensors,
  saveCheckpoint,
} from '../nn/index.ts';
import { StateNormalizer } from './normalizer.ts';
import { checkPredictArgs } from './predict-args.ts';
import { type TrainedFor, trainedForOf } from './trained-for.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';
import { resolveVaeConfig, Vae, type VaeConfig } from './vae.ts';

export const WM_FORMAT_KEY = 'o2o.world_model.format';
export const WM_FORMAT = 'vae-native/1';
export const WM_CONFIG_KEY = 'o2o.world_model.config';
export const WM_NORM_EPS_KEY = 'o2o.world_model.norm_eps';
export const WM_NOISE_SEED_KEY = 'o2o.world_model.noise_seed';

/** The normaliser's statistics as a parameter-less module, so they are saved as tensors beside the weights. */
function statsModule(n: StateNormalizer): Module {
  const tensor = (name: string, value: Float32Array): Param => ({
    name,
    shape: [value.length],
    value,
    grad: new Float32Array(0),
  });
  const params = [tensor('state_mean', n.mean), tensor('state_std', n.std)];
  return { params: () => params };
}

export class NativeVaeWorldModel implements WorldModel {
  readonly info: WorldModelInfo;
  readonly vae: Vae;
  readonly normalizer: StateNormalizer;
  /** Seed of the noise stream of stochastic predictions (saved; a reload restarts the stream from it). */
  private noiseSeed: number;
  private readonly scratch = new Map<number, { states: Matrix; pred: Matrix }>();

  constructor(vae: Vae, normalizer: StateNormalizer, noiseSeed = 0, trainedFor?: TrainedFor) {
    if (normalizer.dim !== vae.config.obsDim)
      throw new RangeError(
        `NativeVaeWorldModel: normaliser has ${normalizer.dim} dims, model obsDim ${vae.config.obsDim}`,
      );
    this.vae = vae;
    this.normalizer = normalizer;
    this.info = { implementation: 'vae-native', obsDim: vae.config.obsDim, actDim: vae.config.actDim };
    if (trainedFor !== undefined) this.info.trainedFor = trainedFor;
    this.noiseSeed = noiseSeed;
    this.reseedNoise(noiseSeed);
  }

  /** Restarts the stochastic-prediction noise stream. */
  reseedNoise(seed: number): void {
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`reseedNoise: seed must be a safe integer, got ${seed}`);
    this.noiseSeed = seed;
    this.vae.noiseRng = new NnRng(seed);
  }

  /** Standardised input and output scratch, one pair per batch size (the learner repeats a few sizes). */
  private buffers(count: number): { states: Matrix; pred: Matrix } {
    let b = this.scratch.get(count);
    if (b === undefined) {
      b = { states: new Matrix(count, this.info.obsDim), pred: new Matrix(count, this.info.obsDim) };
      this.scratch.set(count, b);
    }
    return b;
  }

  /** Synchronous core of predictNextStates (the in-process learner can call it directly). */
  predictNextStatesSync(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
    options: { deterministic?: boolean } = {},
  ): void {
    checkPredictArgs(this.info, states, actions, count, out);
    const { actDim } = this.info;
    const buf = this.buffers(count);
    this.normalizer.normalize(states, buf.states.data);
    const pred = this.vae.predictNormalized(
      buf.states,
      new Matrix(count, actDim, actions),
      options.deterministic === true,
      buf.pred,
    );
    this.normalizer.denormalize(pred.data, out);
  }

  async predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
    options?: { deterministic?: boolean },
  ): Promise<void> {
    this.predictNextStatesSync(states, actions, count, out, options);
  }

  /** Weights as encoder.* / decoder.* / transition.*, statistics as normalizer.state_mean / .state_std. */
  save(path: string, extraMetadata: Record<string, string> = {}): void {
    saveCheckpoint(
      path,
      { modules: { ...this.vae.modules(), normalizer: statsModule(this.normalizer) } },
      {
        ...extraMetadata,
        [WM_FORMAT_KEY]: WM_FORMAT,
        [WM_CONFIG_KEY]: JSON.stringify(this.vae.config),
        [WM_NORM_EPS_KEY]: String(this.normalizer.eps),
        [WM_NOISE_SEED_KEY]: String(this.noiseSeed),
      },
    );
  }

  static load(path: string): NativeVaeWorldModel {
    const { metadata, tensors } = readSafetensors(path);
    if (metadata[WM_FORMAT_KEY] !== WM_FORMAT)
      throw new Error(
        `${path}: not a ${WM_FORMAT} world model (metadata '${WM_FORMAT_KEY}' is ${metadata[WM_FORMAT_KEY]})`,
      );
    let config: VaeConfig;
    try {
      config = resolveVaeConfig(JSON.parse(metadata[WM_CONFIG_KEY] ?? 'null'));
    } catch (e) {
      throw new Error(
        `${path}: metadata '${WM_CONFIG_KEY}' is not a valid VAE configuration: ${(e as Error).message}`,
      );
    }
    const eps = Number(metadata[WM_NORM_EPS_KEY]);
    const noiseSeed = Number(metadata[WM_NOISE_SEED_KEY] ?? '0');
    if (!Number.isFinite(eps))
      throw new Error(`${path}: metadata '${WM_NORM_EPS_KEY}' is missing or invalid`);
    for (const name of ['normalizer.state_mean', 'normalizer.state_std']) {
      const t = tensors.get(name);
      if (t === undefined) throw new Error(`${path}: tensor '${name}' is missing (normalisation statistics)`);
      if (t.shape.length !== 1 || t.shape[0] !== config.obsDim)
        throw new Error(`${path}: tensor '${name}' has shape [${t.shape}], expected [${config.obsDim}]`);
    }
    const normalizer = new StateNormalizer(
      tensors.get('normalizer.state_mean')!.data.slice(),
      tensors.get('normalizer.state_std')!.data.slice(),
      eps,
    );
    const vae = new Vae(config, 0);
    loadCheckpoint(path, { modules: vae.modules() });
    return new NativeVaeWorldModel(vae, normalizer, noiseSeed, trainedForOf(metadata, path));
  }
}
