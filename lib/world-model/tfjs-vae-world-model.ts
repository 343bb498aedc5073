// The VAE world model's prediction pass in @tensorflow/tfjs ops ('vae-tfjs'), loading the weights a
// native model saved: standardise s, encoder trunk → μ (and log σ² when stochastic), z' = z + Δz from
// the transition on [z, a], decoder, de-standardise. Training stays native; this only serves a trained
// model. The tfjs backend is the best one installed: tfjs-node-gpu, tfjs-node, wasm, else the plain
// JavaScript cpu backend (all imported dynamically; none is required).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Linear, NnRng, ReLU, type Sequential } from '../nn/index.ts';
import { NativeVaeWorldModel } from './native-vae-world-model.ts';
import { checkPredictArgs } from './predict-args.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';
import type { VaeConfig } from './vae.ts';

type Tf = typeof import('@tensorflow/tfjs');
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;
type Tensor1D = import('@tensorflow/tfjs').Tensor1D;

/** Backends in order of preference; `module` is imported dynamically and must register `backend`. */
const BACKENDS = [
  { module: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow' },
  { module: '@tensorflow/tfjs-node', backend: 'tensorflow' },
  { module: '@tensorflow/tfjs-backend-wasm', backend: 'wasm' },
] as const;

let chosen: Promise<{ tf: Tf; backend: string; tried: string[] }> | undefined;

async function tryBackend(tf: Tf, module: string, backend: string): Promise<boolean> {
  try {
    const mod = (await import(module)) as { setWasmPaths?: (p: string) => void };
    if (backend === 'wasm' && mod.setWasmPaths !== undefined) {
      const require = createRequire(import.meta.url);
      mod.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    }
    return await tf.setBackend(backend);
  } catch {
    return false;
  }
}

/**
 * Imports tfjs and selects a backend once per process. `prefer` forces one backend name ('wasm', 'cpu',
 * 'tensorflow'); otherwise the first of BACKENDS that loads, falling back to 'cpu'.
 */
export async function tfjsRuntime(prefer?: string): Promise<{ tf: Tf; backend: string; tried: string[] }> {
  if (chosen === undefined || prefer !== undefined) {
    chosen = (async () => {
      const tf = (await import('@tensorflow/tfjs')) as Tf;
      const tried: string[] = [];
      for (const b of BACKENDS) {
        if (prefer !== undefined && prefer !== b.backend) continue;
        if (await tryBackend(tf, b.module, b.backend)) return { tf, backend: tf.getBackend(), tried };
        tried.push(`${b.module} unavailable`);
      }
      if (!(await tf.setBackend('cpu')))
        throw new Error(`tfjs: no backend could be initialised (${tried.join('; ')})`);
      return { tf, backend: tf.getBackend(), tried };
    })();
  }
  return await chosen;
}

interface DenseLayer {
  kernel: Tensor2D; // [in, out]: the native weight [out, in] transposed
  bias: Tensor1D;
  relu: boolean;
}

/** A native Sequential of Linear (+ ReLU) layers as tfjs dense layers; anything else is refused. */
function denseStack(tf: Tf, seq: Sequential, what: string): DenseLayer[] {
  const out: DenseLayer[] = [];
  for (const layer of seq.layers) {
    if (layer instanceof Linear) {
      const w = tf.tensor2d(layer.weight.value, [layer.outFeatures, layer.inFeatures]);
      out.push({ kernel: tf.keep(w.transpose()), bias: tf.keep(tf.tensor1d(layer.bias.value)), relu: false });
      w.dispose();
    } else if (layer instanceof ReLU) {
      const last = out[out.length - 1];
      if (last === undefined) throw new Error(`TfjsVaeWorldModel: ${what} starts with an activation`);
      last.relu = true;
    } else
      throw new Error(
        `TfjsVaeWorldModel: ${what} has a layer this port does not know (${layer.constructor.name})`,
      );
  }
  return out;
}

function applyStack(tf: Tf, layers: DenseLayer[], x: Tensor2D): Tensor2D {
  let h = x;
  for (const l of layers) {
    const y = tf.add(tf.matMul(h, l.kernel), l.bias) as Tensor2D;
    h = l.relu ? tf.relu(y) : y;
  }
  return h;
}

export interface TfjsLoadOptions {
  /** Seed of the stochastic-prediction noise stream (NnRng, as the native model draws it). */
  seed?: number;
  /** Force a backend ('wasm', 'cpu', 'tensorflow'). */
  backend?: string;
}

export class TfjsVaeWorldModel implements WorldModel {
  readonly info: WorldModelInfo;
  readonly config: VaeConfig;
  readonly backend: string;
  readonly tfVersion: string;
  private readonly tf: Tf;
  private readonly encoderTrunk: DenseLayer[];
  private readonly encoderMean: DenseLayer[];
  private readonly encoderLogVar: DenseLayer[];
  private readonly transition: DenseLayer[];
  private readonly decoder: DenseLayer[];
  private readonly mean: Tensor1D;
  private readonly scale: Tensor1D;
  private noiseRng: NnRng;
  private disposed = false;

  private constructor(tf: Tf, backend: string, native: NativeVaeWorldModel, seed: number) {
    this.tf = tf;
    this.backend = backend;
    this.tfVersion = tf.version.tfjs;
    const vae = native.vae;
    this.config = vae.config;
    this.info = { implementation: 'vae-tfjs', obsDim: vae.config.obsDim, actDim: vae.config.actDim };
    if (native.info.trainedFor !== undefined) this.info.trainedFor = native.info.trainedFor;
    this.encoderTrunk = denseStack(tf, vae.encoderTrunk, 'encoder trunk');
    this.encoderMean = denseStack(tf, vae.encoderMean, 'encoder mean head');
    this.encoderLogVar = denseStack(tf, vae.encoderLogVar, 'encoder log-variance head');
    this.transition = denseStack(tf, vae.transition, 'transition');
    this.decoder = denseStack(tf, vae.decoder, 'decoder');
    const n = native.normalizer;
    this.mean = tf.keep(tf.tensor1d(n.mean));
    this.scale = tf.keep(tf.tensor1d(Float32Array.from(n.std, (s) => s + n.eps)));
    this.noiseRng = new NnRng(seed);
  }

  /** Loads a `vae-native/1` safetensors model (NativeVaeWorldModel.save) onto the best tfjs backend. */
  static async load(path: string, options: TfjsLoadOptions = {}): Promise<TfjsVaeWorldModel> {
    const native = NativeVaeWorldModel.load(path);
    return await TfjsVaeWorldModel.fromNative(native, options);
  }

  static async fromNative(
    native: NativeVaeWorldModel,
    options: TfjsLoadOptions = {},
  ): Promise<TfjsVaeWorldModel> {
    const { tf, backend } = await tfjsRuntime(options.backend);
    return new TfjsVaeWorldModel(tf, backend, native, options.seed ?? 0);
  }

  /** Restarts the stochastic-prediction noise stream (the same NnRng stream the native model draws). */
  reseedNoise(seed: number): void {
    this.noiseRng = new NnRng(seed);
  }

  async predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
    options: { deterministic?: boolean } = {},
  ): Promise<void> {
    if (this.disposed) throw new Error('TfjsVaeWorldModel: used after dispose()');
    const { obsDim, actDim } = this.info;
    const L = this.config.latentDim;
    checkPredictArgs(this.info, states, actions, count, out);
    const deterministic = options.deterministic === true;
    let eps: Float32Array | undefined;
    if (!deterministic) {
      eps = new Float32Array(count * L);
      this.noiseRng.fillNormal(eps);
    }
    const tf = this.tf;
    const result = tf.tidy(() => {
      const s = tf.div(tf.sub(tf.tensor2d(states, [count, obsDim]), this.mean), this.scale) as Tensor2D;
      const h = applyStack(tf, this.encoderTrunk, s);
      let z = applyStack(tf, this.encoderMean, h);
      if (eps !== undefined) {
        const logVar = applyStack(tf, this.encoderLogVar, h);
        z = tf.add(z, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.tensor2d(eps, [count, L]))) as Tensor2D;
      }
      const za = tf.concat([z, tf.tensor2d(actions, [count, actDim])], 1) as Tensor2D;
      const t = applyStack(tf, this.transition, za);
      const zNext = this.config.transitionMode === 'delta' ? (tf.add(z, t) as Tensor2D) : t;
      const pred = applyStack(tf, this.decoder, zNext);
      return tf.add(tf.mul(pred, this.scale), this.mean) as Tensor2D;
    });
    try {
      out.set(await result.data<'float32'>());
    } finally {
      result.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const stack of [
      this.encoderTrunk,
      this.encoderMean,
      this.encoderLogVar,
      this.transition,
      this.decoder,
    ])
      for (const l of stack) {
        l.kernel.dispose();
        l.bias.dispose();
      }
    this.mean.dispose();
    this.scale.dispose();
  }
}
