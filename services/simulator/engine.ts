// What a simulator does, without the gRPC plumbing: a VectorEnv driven either in lockstep (the caller
// sends actions) or as an actor (it steps itself with the latest policy snapshot and fills a bounded
// window of numbered transition batches). Errors carry gRPC status codes (INVALID_ARGUMENT for bad
// input, FAILED_PRECONDITION for a call in the wrong mode or order) so the server can answer with them.
import { status } from '@grpc/grpc-js';
import type { FloatBatch } from '../../generated/proto/o2o/v1/common.js';
import type {
  PolicySnapshot,
  SetPolicyResponse,
  SimAckResponse,
  SimResetRequest,
  SimResetResponse,
  SimStepRequest,
  SimStepResponse,
  SimulatorInfo,
  TransitionBatch,
} from '../../generated/proto/o2o/v1/simulator.js';
import { envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { deriveSeed, Rng, VectorEnv } from '../../lib/envs/index.ts';
import { decodeFloatBatch, encodeFloatBatch, FloatBatchError } from '../../lib/services/float-batch.ts';
import { grpcError } from '../../lib/telemetry/grpc.ts';
import { MAX_BATCH_ROWS } from './config.ts';
import { SnapshotPolicy } from './policy.ts';
import { TransitionWindow } from './transition-window.ts';

export type SimulatorMode = 'idle' | 'lockstep' | 'actor';

export interface EngineOptions {
  envId: string;
  /** makeEnv's options for every sub-env; omitted or empty: the env's defaults. */
  envOptions?: Record<string, unknown>;
  numEnvs: number;
  simulatorId: string;
  incarnation: number;
  seed: number;
  windowBatches: number;
  batchSteps: number;
}

const invalid = (message: string) => grpcError(status.INVALID_ARGUMENT, message);
const precondition = (message: string) => grpcError(status.FAILED_PRECONDITION, message);

/** Rethrows a FloatBatchError as INVALID_ARGUMENT (other errors unchanged). */
function decode(batch: FloatBatch | undefined, expect: Parameters<typeof decodeFloatBatch>[1]): Float32Array {
  try {
    return decodeFloatBatch(batch, expect);
  } catch (err) {
    if (err instanceof FloatBatchError) throw invalid(err.message);
    throw err;
  }
}

/** float64 values as little-endian bytes (a copy). */
function float64Bytes(values: Float64Array): Buffer {
  return Buffer.from(values.slice().buffer);
}

export class SimulatorEngine {
  readonly options: EngineOptions;
  readonly vec: VectorEnv;
  readonly window: TransitionWindow<TransitionBatch>;
  mode: SimulatorMode = 'idle';
  /** Vector steps taken (lockstep and actor). */
  stepsTotal = 0;
  private lockstepStarted = false;
  private readonly low: Float64Array;
  private readonly high: Float64Array;
  private readonly obsDim: number;
  private readonly actDim: number;
  // Actor mode.
  private policy: SnapshotPolicy | undefined;
  private noiseRng: Rng | undefined;
  private readonly randomRng: Rng;
  private batchSteps: number;
  private producing: Promise<void> | undefined;
  private closed = false;
  /** Observations the next actor step acts on (a copy of the vector env's). */
  private current = new Float64Array(0);
  private readonly episodeReturn: Float64Array;
  private readonly episodeLength: Uint32Array;

  constructor(options: EngineOptions) {
    if (options.batchSteps * options.numEnvs > MAX_BATCH_ROWS) {
      throw new RangeError(
        `batch of ${options.batchSteps} steps × ${options.numEnvs} envs exceeds ${MAX_BATCH_ROWS} rows; lower O2O_SIM_BATCH_STEPS`,
      );
    }
    this.options = options;
    this.vec = new VectorEnv(options.envId, {
      numEnvs: options.numEnvs,
      ...(options.envOptions === undefined ? {} : { envOptions: options.envOptions }),
    });
    this.obsDim = this.vec.obsDim;
    this.actDim = this.vec.actDim;
    this.low = this.vec.singleActionSpace.low;
    this.high = this.vec.singleActionSpace.high;
    this.window = new TransitionWindow(options.windowBatches);
    this.randomRng = new Rng(deriveSeed(options.seed, 1));
    this.batchSteps = options.batchSteps;
    this.episodeReturn = new Float64Array(options.numEnvs);
    this.episodeLength = new Uint32Array(options.numEnvs);
  }

  info(): SimulatorInfo {
    return {
      simulatorId: this.options.simulatorId,
      incarnation: this.options.incarnation,
      envId: this.vec.id,
      numEnvs: this.vec.numEnvs,
      obsDim: this.obsDim,
      actDim: this.actDim,
      actionLow: Array.from(this.low),
      actionHigh: Array.from(this.high),
      maxEpisodeSteps: this.vec.env(0).maxEpisodeSteps,
      mode: this.mode,
      stepsTotal: this.stepsTotal,
      policyVersion: this.policy?.version ?? 0,
      envOptionsJson: envOptionsJson(this.options.envOptions),
    };
  }

  // ---- lockstep ----

  private enterLockstep(what: string): void {
    if (this.closed) throw grpcError(status.UNAVAILABLE, 'the simulator is shutting down');
    if (this.mode === 'actor') throw precondition(`${what}: this simulator is in actor mode`);
    this.mode = 'lockstep';
  }

  reset(req: SimResetRequest): SimResetResponse {
    this.enterLockstep('Reset');
    const n = this.vec.numEnvs;
    if (!Number.isSafeInteger(req.seed) || req.seed < 0)
      throw invalid(`seed: must be below 2^53, got ${req.seed}`);
    if (req.envSeeds.length !== 0 && req.envSeeds.length !== n) {
      throw invalid(`env_seeds: expected ${n} seeds (one per sub-env) or none, got ${req.envSeeds.length}`);
    }
    req.envSeeds.forEach((s, i) => {
      if (!Number.isSafeInteger(s) || s < 0) throw invalid(`env_seeds[${i}]: must be below 2^53, got ${s}`);
    });
    const obs = this.vec.reset({ seed: req.seed });
    // Explicit seeds: reseeding a sub-env restarts its episode exactly as a fresh reset with that seed.
    for (let i = 0; i < req.envSeeds.length; i++)
      this.vec.env(i).resetInto(obs, i * this.obsDim, req.envSeeds[i]!);
    this.lockstepStarted = true;
    return {
      observations: encodeFloatBatch(Float32Array.from(obs), n, this.obsDim),
      observationsF64: req.exactObservations ? float64Bytes(obs) : Buffer.alloc(0),
    };
  }

  step(req: SimStepRequest): SimStepResponse {
    this.enterLockstep('Step');
    if (!this.lockstepStarted) throw precondition('Step: call Reset first');
    const n = this.vec.numEnvs;
    const actions = decode(req.actions, { name: 'actions', cols: this.actDim, rows: n });
    this.checkBounds(actions);
    const r = this.vec.step(actions);
    this.stepsTotal++;
    const finalIndex: number[] = [];
    for (let i = 0; i < n; i++) if (r.terminated[i] === 1 || r.truncated[i] === 1) finalIndex.push(i);
    const finals64 = new Float64Array(finalIndex.length * this.obsDim);
    for (let k = 0; k < finalIndex.length; k++) {
      const env = finalIndex[k]!;
      finals64.set(r.finalObservations.subarray(env * this.obsDim, (env + 1) * this.obsDim), k * this.obsDim);
    }
    const finals = Float32Array.from(finals64);
    return {
      observations: encodeFloatBatch(Float32Array.from(r.observations), n, this.obsDim),
      rewards: Array.from(r.rewards),
      terminated: Array.from(r.terminated, (t) => t === 1),
      truncated: Array.from(r.truncated, (t) => t === 1),
      finalObservations: encodeFloatBatch(finals, finalIndex.length, this.obsDim),
      finalEnvIndex: finalIndex,
      observationsF64: req.exactObservations ? float64Bytes(r.observations) : Buffer.alloc(0),
      finalObservationsF64: req.exactObservations ? float64Bytes(finals64) : Buffer.alloc(0),
    };
  }

  private checkBounds(actions: Float32Array): void {
    for (let k = 0; k < actions.length; k++) {
      const j = k % this.actDim;
      const a = actions[k]!;
      if (a < this.low[j]! || a > this.high[j]!) {
        const row = Math.floor(k / this.actDim);
        throw invalid(
          `actions: value at row ${row}, column ${j} is ${a}, outside [${this.low[j]}, ${this.high[j]}]`,
        );
      }
    }
  }

  // ---- actor ----

  private enterActor(what: string): void {
    if (this.closed) throw grpcError(status.UNAVAILABLE, 'the simulator is shutting down');
    if (this.mode === 'lockstep') throw precondition(`${what}: this simulator is in lockstep mode`);
    if (this.mode === 'actor') return;
    this.mode = 'actor';
    this.current = Float64Array.from(this.vec.reset({ seed: this.options.seed }));
    this.producing = this.produce().catch((err: unknown) => {
      // A failing env is a bug: log it and stop producing; consumers see no more batches.
      process.stderr.write(`[simulator] actor loop stopped: ${(err as Error).stack ?? String(err)}\n`);
      this.window.close();
    });
  }

  setPolicy(snapshot: PolicySnapshot): SetPolicyResponse {
    this.enterActor('SetPolicy');
    const current = this.policy?.version ?? 0;
    const policy = SnapshotPolicy.fromSnapshot(snapshot, {
      obsDim: this.obsDim,
      actDim: this.actDim,
      actionHigh: this.high,
      rows: this.vec.numEnvs,
    });
    if (policy.version <= current) {
      throw invalid(`policy_version: ${policy.version} is not newer than the current ${current}`);
    }
    this.policy = policy;
    this.noiseRng = new Rng(policy.seed);
    // Batches are produced whole between event-loop turns, so the next one is the first with this policy.
    return { policyVersion: policy.version, effectiveFromSeq: this.window.nextSeq };
  }

  /** Starts actor mode (if needed) for a consumer; sets the size of batches produced from now on. */
  openStream(maxBatchRows: number): void {
    if (!Number.isInteger(maxBatchRows) || maxBatchRows < 0 || maxBatchRows > MAX_BATCH_ROWS) {
      throw invalid(`max_batch_rows: must be in [0, ${MAX_BATCH_ROWS}], got ${maxBatchRows}`);
    }
    this.enterActor('StreamTransitions');
    if (maxBatchRows > 0) this.batchSteps = Math.max(1, Math.floor(maxBatchRows / this.vec.numEnvs));
  }

  ack(seq: number): SimAckResponse {
    if (this.mode !== 'actor') throw precondition('Ack: this simulator is not in actor mode');
    if (!Number.isSafeInteger(seq) || seq < 1) throw invalid(`seq: must be a positive integer, got ${seq}`);
    try {
      this.window.ack(seq);
    } catch (err) {
      if (err instanceof RangeError) throw invalid(`seq: ${err.message}`);
      throw err;
    }
    return { unacked: this.window.size, window: this.window.capacity };
  }

  private async produce(): Promise<void> {
    while (!this.closed) {
      if (this.window.full) {
        await this.window.changed();
        continue;
      }
      this.window.push(this.produceBatch());
      // Let gRPC serve acks, streams and snapshots between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private produceBatch(): TransitionBatch {
    const n = this.vec.numEnvs;
    const { obsDim, actDim } = this;
    const rows = this.batchSteps * n;
    const obs = new Float32Array(rows * obsDim);
    const nextObs = new Float32Array(rows * obsDim);
    const actions = new Float32Array(rows * actDim);
    const rewards: number[] = [];
    const terminated: boolean[] = [];
    const truncated: boolean[] = [];
    const envIndex: number[] = [];
    const finishedReturns: number[] = [];
    const finishedLengths: number[] = [];
    const policy = this.policy;
    const stepActions = new Float32Array(n * actDim);
    // The vector env's observation array is overwritten by each step: `current` is a copy.
    let current = this.current;
    for (let s = 0; s < this.batchSteps; s++) {
      const row0 = s * n;
      if (policy === undefined) {
        for (let k = 0; k < stepActions.length; k++) {
          const j = k % actDim;
          stepActions[k] = this.randomRng.uniform(this.low[j]!, this.high[j]!);
        }
      } else {
        policy.act(current, stepActions);
        const noise = this.noiseRng!;
        for (let k = 0; k < stepActions.length; k++) {
          const j = k % actDim;
          const a = stepActions[k]! + policy.noiseStd * noise.normal();
          stepActions[k] = Math.min(this.high[j]!, Math.max(this.low[j]!, a));
        }
      }
      const r = this.vec.step(stepActions);
      this.stepsTotal++;
      obs.set(current, row0 * obsDim);
      actions.set(stepActions, row0 * actDim);
      for (let i = 0; i < n; i++) {
        const done = r.terminated[i] === 1 || r.truncated[i] === 1;
        const src = done ? r.finalObservations : r.observations;
        nextObs.set(src.subarray(i * obsDim, (i + 1) * obsDim), (row0 + i) * obsDim);
        rewards.push(r.rewards[i]!);
        terminated.push(r.terminated[i] === 1);
        truncated.push(r.truncated[i] === 1);
        envIndex.push(i);
        this.episodeReturn[i]! += r.rewards[i]!;
        this.episodeLength[i]!++;
        if (done) {
          finishedReturns.push(this.episodeReturn[i]!);
          finishedLengths.push(this.episodeLength[i]!);
          this.episodeReturn[i] = 0;
          this.episodeLength[i] = 0;
        }
      }
      current = Float64Array.from(r.observations);
    }
    this.current = current;
    return {
      simulatorId: this.options.simulatorId,
      incarnation: this.options.incarnation,
      seq: this.window.nextSeq,
      policyVersion: policy?.version ?? 0,
      obs: encodeFloatBatch(obs, rows, obsDim),
      actions: encodeFloatBatch(actions, rows, actDim),
      rewards,
      nextObs: encodeFloatBatch(nextObs, rows, obsDim),
      terminated,
      truncated,
      envIndex,
      episodeReturnsFinished: finishedReturns,
      episodeLengthsFinished: finishedLengths,
    };
  }

  /** Stops producing and frees the environments (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.window.close();
    await this.producing;
    this.vec.close();
  }
}
