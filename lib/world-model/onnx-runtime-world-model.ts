// The VAE world model run by ONNX Runtime ('vae-onnx'): the native model's prediction pass is exported to
// ONNX in memory (onnx-export.ts) and executed by an InferenceSession. Two runtimes serve, imported on
// demand: onnxruntime-node (native CPU kernels; an optional dependency whose install step downloads its
// binaries, so npm skips it where only the registry is reachable) when it is installed, otherwise
// onnxruntime-web, ONNX Runtime's WebAssembly build, which has no install step: npm always installs it
// (it is optional only so that `--omit=optional` can leave both out) and it runs in Node as it is.
import { NnRng } from '../nn/index.ts';
import { NativeVaeWorldModel } from './native-vae-world-model.ts';
import { encodeVaeOnnx } from './onnx-export.ts';
import { checkPredictArgs } from './predict-args.ts';
import type { TrainedFor } from './trained-for.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';

/** The runtimes tried, in order of preference. */
export const ONNX_RUNTIMES = ['onnxruntime-node', 'onnxruntime-web'] as const;

/** The parts of ONNX Runtime's API used here (both packages share it; either may be absent, so no type import). */
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
  env?: { versions?: { common?: string }; wasm?: { numThreads?: number } };
}

/** An imported runtime: its API, its package name and version. */
export interface OnnxRuntime {
  ort: Ort;
  name: string;
  version: string;
}

export class OnnxRuntimeMissingError extends Error {
  override readonly name = 'OnnxRuntimeMissingError';
}

/**
 * The first of `candidates` that imports, or OnnxRuntimeMissingError naming each one and why it failed.
 * The WebAssembly build runs on one thread: a predictable share of the machine, and the same results as
 * any other run.
 */
export async function loadOnnxRuntime(candidates: readonly string[] = ONNX_RUNTIMES): Promise<OnnxRuntime> {
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      const mod = (await import(name)) as Ort & { default?: Ort };
      const ort = mod.InferenceSession === undefined && mod.default !== undefined ? mod.default : mod;
      if (ort.env?.wasm !== undefined) ort.env.wasm.numThreads = 1;
      return { ort, name, version: ort.env?.versions?.common ?? 'unknown' };
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new OnnxRuntimeMissingError(
    `no ONNX Runtime is installed (${failures.join('; ')}); run 'npm ci' (which installs ` +
      `onnxruntime-web unless optional dependencies are omitted) or choose O2O_WM_IMPL=native|tfjs`,
  );
}

export class OnnxVaeWorldModel implements WorldModel {
  readonly info: WorldModelInfo;
  /** The runtime serving it, e.g. "onnxruntime-web 1.30.0". */
  readonly runtime: string;
  private readonly ort: Ort;
  private noiseRng: NnRng;

  private constructor(
    runtime: OnnxRuntime,
    private readonly deterministicSession: OrtSession,
    private readonly stochasticSession: OrtSession,
    private readonly latentDim: number,
    obsDim: number,
    actDim: number,
    seed: number,
    trainedFor: TrainedFor | undefined,
  ) {
    this.info = { implementation: 'vae-onnx', obsDim, actDim };
    if (trainedFor !== undefined) this.info.trainedFor = trainedFor;
    this.ort = runtime.ort;
    this.runtime = `${runtime.name} ${runtime.version}`;
    this.noiseRng = new NnRng(seed);
  }

  /**
   * Loads a native safetensors model, exports both graphs and opens sessions on them, on the first of
   * `runtimes` installed (default: onnxruntime-node, then onnxruntime-web).
   */
  static async fromSafetensors(
    path: string,
    options: { seed?: number; runtimes?: readonly string[] } = {},
  ): Promise<OnnxVaeWorldModel> {
    const runtime = await loadOnnxRuntime(options.runtimes);
    const native = NativeVaeWorldModel.load(path);
    const { InferenceSession } = runtime.ort;
    const det = await InferenceSession.create(encodeVaeOnnx(native));
    const sto = await InferenceSession.create(encodeVaeOnnx(native, { stochastic: true }));
    const c = native.vae.config;
    return new OnnxVaeWorldModel(
      runtime,
      det,
      sto,
      c.latentDim,
      c.obsDim,
      c.actDim,
      options.seed ?? 0,
      native.info.trainedFor,
    );
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
