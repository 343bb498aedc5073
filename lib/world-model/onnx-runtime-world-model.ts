// The VAE world model run by onnxruntime-node ('vae-onnx'): the native model's prediction pass is
// exported to ONNX in memory (onnx-export.ts) and executed by an InferenceSession. onnxruntime-node is
// an optional dependency, imported dynamically: without it, loading fails with a message saying so.
import { NnRng } from '../nn/index.ts';
import { NativeVaeWorldModel } from './native-vae-world-model.ts';
import { encodeVaeOnnx } from './onnx-export.ts';
import { checkPredictArgs } from './predict-args.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';

export const ONNX_RUNTIME_PACKAGE = 'onnxruntime-node';

/** The parts of onnxruntime-node's API used here (the package may be absent, so no type import). */
interface OrtTensor {
  readonly data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array): Promise<OrtSession> };
  env?: { versions?: { common?: string } };
}

export class OnnxRuntimeMissingError extends Error {
  override readonly name = 'OnnxRuntimeMissingError';
}

/** Imports onnxruntime-node, or throws OnnxRuntimeMissingError explaining how to get it. */
export async function loadOnnxRuntime(): Promise<Ort> {
  const name: string = ONNX_RUNTIME_PACKAGE; // a variable, so type-checking does not require the package
  try {
    const mod = (await import(name)) as Ort & { default?: Ort };
    return mod.InferenceSession === undefined && mod.default !== undefined ? mod.default : mod;
  } catch (e) {
    throw new OnnxRuntimeMissingError(
      `${ONNX_RUNTIME_PACKAGE} is not installed (an optional dependency that npm skipped on this machine); ` +
        `install it with 'npm install ${ONNX_RUNTIME_PACKAGE}' or choose O2O_WM_IMPL=native|tfjs ` +
        `(${(e as Error).message.split('\n')[0]})`,
    );
  }
}

export class OnnxVaeWorldModel implements WorldModel {
  readonly info: WorldModelInfo;
  readonly runtimeVersion: string;
  private noiseRng: NnRng;

  private constructor(
    private readonly ort: Ort,
    private readonly deterministicSession: OrtSession,
    private readonly stochasticSession: OrtSession,
    private readonly latentDim: number,
    obsDim: number,
    actDim: number,
    seed: number,
  ) {
    this.info = { implementation: 'vae-onnx', obsDim, actDim };
    this.runtimeVersion = ort.env?.versions?.common ?? 'unknown';
    this.noiseRng = new NnRng(seed);
  }

  /** Loads a native safetensors model, exports both graphs and opens onnxruntime sessions on them. */
  static async fromSafetensors(path: string, options: { seed?: number } = {}): Promise<OnnxVaeWorldModel> {
    const ort = await loadOnnxRuntime();
    const native = NativeVaeWorldModel.load(path);
    const det = await ort.InferenceSession.create(encodeVaeOnnx(native));
    const sto = await ort.InferenceSession.create(encodeVaeOnnx(native, { stochastic: true }));
    const c = native.vae.config;
    return new OnnxVaeWorldModel(ort, det, sto, c.latentDim, c.obsDim, c.actDim, options.seed ?? 0);
  }

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
    const { obsDim, actDim } = this.info;
    checkPredictArgs(this.info, states, actions, count, out);
    const feeds: Record<string, OrtTensor> = {
      states: new this.ort.Tensor('float32', states, [count, obsDim]),
      actions: new this.ort.Tensor('float32', actions, [count, actDim]),
    };
    let session = this.deterministicSession;
    if (options.deterministic !== true) {
      const noise = new Float32Array(count * this.latentDim);
      this.noiseRng.fillNormal(noise);
      feeds['noise'] = new this.ort.Tensor('float32', noise, [count, this.latentDim]);
      session = this.stochasticSession;
    }
    const result = await session.run(feeds);
    const data = result['next_states']?.data;
    if (!(data instanceof Float32Array) || data.length !== out.length)
      throw new Error('onnxruntime returned no float32 next_states of the expected size');
    out.set(data);
  }

  dispose(): void {
    void this.deterministicSession.release?.();
    void this.stochasticSession.release?.();
  }
}
