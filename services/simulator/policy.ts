// Policy snapshots (proto PolicySnapshot) in both directions: the learner packs its TD3 actor's raw
// tensors, normaliser and exploration noise; a simulator rebuilds the same lib/nn MLP and acts with it on
// all its sub-envs at once. Raw tensors rather than a safetensors file: no file, no parsing of a header,
// and every tensor is checked against the shape the rebuilt network expects.
import { status } from '@grpc/grpc-js';
import type { PolicySnapshot } from '../../generated/proto/o2o/v1/simulator.js';
import { Matrix, mlp, NnRng, type Sequential } from '../../lib/nn/index.ts';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import type { Td3Agent } from '../../lib/rl/td3.ts';
import { grpcError } from '../../lib/telemetry/grpc.ts';

export interface SnapshotOptions {
  policyVersion: number;
  /** Exploration noise std as a fraction of maxAction (TD3: 0.1). */
  explorationNoise: number;
  /** Seeds the simulator's exploration noise stream. */
  seed: number;
}

/** The agent's actor (weights copied), normaliser and noise as a PolicySnapshot message. */
export function policySnapshotFromAgent(agent: Td3Agent, opts: SnapshotOptions): PolicySnapshot {
  return {
    policyVersion: opts.policyVersion,
    hidden: [...agent.config.hidden],
    params: agent.actor.params().map((p) => ({
      name: p.name,
      shape: [...p.shape],
      data: Buffer.from(p.value.slice().buffer),
    })),
    obsMean: Array.from(agent.normalizer.mean),
    obsStd: Array.from(agent.normalizer.std),
    maxAction: agent.config.maxAction,
    explorationNoise: opts.explorationNoise,
    seed: opts.seed,
  };
}

function invalid(message: string): Error {
  return grpcError(status.INVALID_ARGUMENT, message);
}

/** A deterministic actor rebuilt from a snapshot, acting on a batch of raw observations. */
export class SnapshotPolicy {
  readonly version: number;
  readonly maxAction: number;
  /** Noise std in action units. */
  readonly noiseStd: number;
  readonly seed: number;
  private readonly net: Sequential;
  private readonly normalizer: ObsNormalizer;
  private readonly input: Matrix;

  private constructor(
    snapshot: PolicySnapshot,
    net: Sequential,
    normalizer: ObsNormalizer,
    private readonly rows: number,
  ) {
    this.version = snapshot.policyVersion;
    this.maxAction = snapshot.maxAction;
    this.noiseStd = snapshot.explorationNoise * snapshot.maxAction;
    this.seed = snapshot.seed;
    this.net = net;
    this.normalizer = normalizer;
    this.input = new Matrix(rows, net.inFeatures);
  }

  /**
   * Validates `snapshot` against the simulator's dimensions and rebuilds the network; every problem is
   * an INVALID_ARGUMENT error naming the field.
   */
  static fromSnapshot(
    snapshot: PolicySnapshot,
    dims: { obsDim: number; actDim: number; actionHigh: Float64Array; rows: number },
  ): SnapshotPolicy {
    const s = snapshot;
    if (!Number.isSafeInteger(s.policyVersion) || s.policyVersion < 1) {
      throw invalid(`policy_version: must be a positive integer, got ${s.policyVersion}`);
    }
    if (s.hidden.length === 0 || s.hidden.length > 64 || s.hidden.some((h) => h < 1 || h > 65536)) {
      throw invalid(
        `hidden: expected 1 to 64 layer widths in [1, 65536], got [${s.hidden.slice(0, 8).join(', ')}${s.hidden.length > 8 ? ', ...' : ''}]`,
      );
    }
    if (!(Number.isFinite(s.maxAction) && s.maxAction > 0)) {
      throw invalid(`max_action: must be positive and finite, got ${s.maxAction}`);
    }
    for (let i = 0; i < dims.actDim; i++) {
      if (Math.abs(dims.actionHigh[i]! - s.maxAction) > 1e-6 * s.maxAction) {
        throw invalid(`max_action: ${s.maxAction} differs from the env's action bound ${dims.actionHigh[i]}`);
      }
    }
    if (!(Number.isFinite(s.explorationNoise) && s.explorationNoise >= 0 && s.explorationNoise <= 10)) {
      throw invalid(`exploration_noise: must be in [0, 10], got ${s.explorationNoise}`);
    }
    if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw invalid(`seed: must be a non-negative integer`);
    if (s.obsMean.length !== dims.obsDim || s.obsStd.length !== dims.obsDim) {
      throw invalid(
        `obs_mean/obs_std: expected ${dims.obsDim} entries each, got ${s.obsMean.length}/${s.obsStd.length}`,
      );
    }
    let normalizer: ObsNormalizer;
    try {
      normalizer = new ObsNormalizer(Float32Array.from(s.obsMean), Float32Array.from(s.obsStd));
    } catch (err) {
      throw invalid(`obs_mean/obs_std: ${(err as Error).message}`);
    }
    // Sizes before the network is built: absurd widths (65536 × 65536) would otherwise allocate gigabytes
    // before the weights are found missing. A snapshot must carry every weight, so its message size
    // bounds what is allocated.
    const widths = [dims.obsDim, ...s.hidden, dims.actDim];
    if (s.params.length !== 2 * (widths.length - 1)) {
      throw invalid(
        `params: expected ${2 * (widths.length - 1)} tensors for hidden [${s.hidden}], got ${s.params.length}`,
      );
    }
    let values = 0;
    for (let i = 1; i < widths.length; i++) values += widths[i - 1]! * widths[i]! + widths[i]!;
    const bytes = s.params.reduce((n, t) => n + t.data.length, 0);
    if (bytes !== values * 4) {
      throw invalid(`params: ${bytes} bytes, expected ${values * 4} in all for hidden [${s.hidden}]`);
    }
    // The weights overwrite the initialisation; the seed only makes construction deterministic.
    const net = mlp({
      inputs: dims.obsDim,
      hidden: s.hidden,
      outputs: dims.actDim,
      outputActivation: 'tanh',
      outputScale: s.maxAction,
      rng: new NnRng(0),
    });
    const expected = net.params();
    if (s.params.length !== expected.length) {
      throw invalid(
        `params: expected ${expected.length} tensors for hidden [${s.hidden}], got ${s.params.length}`,
      );
    }
    const byName = new Map(s.params.map((t) => [t.name, t]));
    for (const p of expected) {
      const t = byName.get(p.name);
      if (t === undefined) throw invalid(`params: tensor '${p.name}' is missing`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw invalid(`params['${p.name}']: shape [${t.shape}] should be [${p.shape}]`);
      }
      if (t.data.length !== p.value.length * 4) {
        throw invalid(`params['${p.name}']: ${t.data.length} bytes, expected ${p.value.length * 4}`);
      }
      new Uint8Array(p.value.buffer, p.value.byteOffset, p.value.byteLength).set(t.data);
      for (let i = 0; i < p.value.length; i++) {
        if (!Number.isFinite(p.value[i]!)) throw invalid(`params['${p.name}']: value ${i} is ${p.value[i]}`);
      }
    }
    return new SnapshotPolicy(s, net, normalizer, dims.rows);
  }

  /** π((s − mean)/std) for `rows` packed observations, into `out` (rows·actDim float32). */
  act(obs: Float64Array, out: Float32Array): void {
    this.normalizer.normalizeInto(obs.subarray(0, this.input.data.length), this.input.data);
    out.set(this.net.predict(this.input).data.subarray(0, this.rows * this.net.outFeatures));
  }
}
