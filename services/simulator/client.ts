// Client side of the simulator service, for the learner and the coordinator: typed calls with a deadline
// on every unary call and the trace context in the metadata; responses are decoded into typed arrays and
// checked against the simulator's dimensions. Beside it: lockstep-session.ts (the Lockstep stream),
// remote-env.ts (a sub-env as an OnlineEnv) and watch.ts (the live simulators from NATS heartbeats).
import type { Metadata } from '@grpc/grpc-js';
import {
  SimulatorClient as GrpcSimulatorClient,
  type PolicySnapshot,
  type SetPolicyResponse,
  type SimAckResponse,
  type SimResetResponse,
  type SimStepRequest,
  type SimStepResponse,
  type SimulatorInfo,
  type TransitionBatch,
} from '../../generated/proto/o2o/v1/simulator.js';
import { decodeFloatBatch, encodeFloatBatch } from '../../lib/services/float-batch.ts';
import { type ClientTls, channelCredentials, defaultClientTls } from '../../lib/services/grpc-security.ts';
import { traceClientCall, tracedMetadata } from '../../lib/telemetry/grpc.ts';
import { LockstepSession } from './lockstep-session.ts';
import { MAX_MESSAGE_BYTES } from './server.ts';

export type { PolicySnapshot, SimulatorInfo } from '../../generated/proto/o2o/v1/simulator.js';
export { policySnapshotFromAgent } from './policy.ts';

const TRACER = 'o2o-simulator-client';

export interface SimulatorClientOptions {
  /** Deadline of each unary call (ms); default 10 s. */
  deadlineMs?: number;
  /** How long connect() waits for the server to answer Info (ms); default 10 s. */
  connectTimeoutMs?: number;
  /** TLS to dial with; undefined: this process's O2O_TLS_* settings; null: plaintext. */
  tls?: ClientTls | null;
  /**
   * HTTP/2 receive window (bytes) of the connection; default 1 MiB. HTTP/2's 64 KiB default makes a
   * transition stream stop for a WINDOW_UPDATE every batch or two; the simulator's own window of unacked
   * batches bounds what is in flight anyway.
   */
  flowControlWindowBytes?: number;
}

export const DEFAULT_FLOW_CONTROL_WINDOW_BYTES = 1 << 20;

/** One lockstep step of all sub-envs, decoded. */
export interface SimulatorStep {
  /** numEnvs × obsDim; a finished sub-env's row is the first observation of its next episode. */
  observations: Float32Array;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** numEnvs × obsDim: the last observation of episodes that ended on this step; NaN rows elsewhere. */
  finalObservations: Float32Array;
  /** With `exact`: the same two arrays in float64, as the envs computed them. */
  observationsF64?: Float64Array;
  finalObservationsF64?: Float64Array;
}

/** A TransitionBatch, decoded and checked. */
export interface Transitions {
  simulatorId: string;
  incarnation: number;
  seq: number;
  policyVersion: number;
  rows: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float64Array;
  nextObs: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  envIndex: Uint32Array;
  episodeReturns: number[];
  episodeLengths: number[];
}

export interface StreamOptions {
  /** Cap on the rows of batches produced from now on (0: the simulator's default). */
  maxBatchRows?: number;
}

/** A simulator's response that does not fit its own dimensions or the protocol. */
export class ResponseError extends Error {
  override readonly name = 'SimulatorResponseError';
}

export class SimulatorClient {
  readonly address: string;
  /** Info fetched at connect (dimensions and bounds do not change during a simulator's life). */
  readonly meta: SimulatorInfo;
  private readonly grpc: GrpcSimulatorClient;
  private readonly deadlineMs: number;

  private constructor(address: string, grpc: GrpcSimulatorClient, meta: SimulatorInfo, deadlineMs: number) {
    this.address = address;
    this.grpc = grpc;
    this.meta = meta;
    this.deadlineMs = deadlineMs;
  }

  /** Connects to host:port and fetches Info (retrying until the server answers or the timeout). */
  static async connect(address: string, options: SimulatorClientOptions = {}): Promise<SimulatorClient> {
    const deadlineMs = options.deadlineMs ?? 10_000;
    const window = options.flowControlWindowBytes ?? DEFAULT_FLOW_CONTROL_WINDOW_BYTES;
    if (!Number.isInteger(window) || window < 65_535 || window > 2 ** 31 - 1)
      throw new RangeError(`SimulatorClient: flowControlWindowBytes must be 65535..2^31-1, got ${window}`);
    const channel = channelCredentials(
      options.tls === undefined ? defaultClientTls() : (options.tls ?? undefined),
    );
    const grpc = new GrpcSimulatorClient(address, channel.credentials, {
      ...channel.options,
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc-node.flow_control_window': window,
    });
    const connectTimeout = options.connectTimeoutMs ?? 10_000;
    try {
      const meta = await traceClientCall(TRACER, 'o2o.v1.Simulator/Info', (md) => {
        // Wait for the channel to connect (the server may still be starting) instead of failing fast.
        md.setOptions({ waitForReady: true });
        return unary<SimulatorInfo>((cb) => grpc.info({}, md, { deadline: Date.now() + connectTimeout }, cb));
      });
      return new SimulatorClient(address, grpc, meta, deadlineMs);
    } catch (err) {
      grpc.close();
      throw new Error(`simulator at ${address}: ${(err as Error).message}`);
    }
  }

  private call<T>(
    method: string,
    invoke: (md: Metadata, deadline: Date, cb: Callback<T>) => void,
  ): Promise<T> {
    return traceClientCall(TRACER, `o2o.v1.Simulator/${method}`, (md) =>
      unary<T>((cb) => invoke(md, new Date(Date.now() + this.deadlineMs), cb)),
    );
  }

  info(): Promise<SimulatorInfo> {
    return this.call('Info', (md, deadline, cb) => this.grpc.info({}, md, { deadline }, cb));
  }

  /**
   * Resets every sub-env: with a seed, sub-env i gets deriveSeed(seed, i) (as VectorEnv.reset); with
   * `envSeeds`, sub-env i gets envSeeds[i] (as a single Env.reset({seed})). Returns numEnvs × obsDim.
   */
  async reset(seed: number | { seed?: number; envSeeds?: number[] }): Promise<Float32Array> {
    return (await this.resetExact(seed, false)).observations;
  }

  /** reset(), also returning the float64 observations when `exact` (see SimResetRequest). */
  async resetExact(
    seed: number | { seed?: number; envSeeds?: number[] },
    exact = true,
  ): Promise<{ observations: Float32Array; observationsF64: Float64Array | undefined }> {
    const req =
      typeof seed === 'number'
        ? { seed, envSeeds: [], exactObservations: exact }
        : { seed: seed.seed ?? 0, envSeeds: seed.envSeeds ?? [], exactObservations: exact };
    const res = await this.call<SimResetResponse>('Reset', (md, deadline, cb) =>
      this.grpc.reset(req, md, { deadline }, cb),
    );
    const { obsDim, numEnvs } = this.meta;
    return {
      observations: decodeFloatBatch(res.observations, { name: 'observations', cols: obsDim, rows: numEnvs }),
      observationsF64: exact
        ? decodeFloat64(res.observationsF64, 'observations_f64', numEnvs * obsDim)
        : undefined,
    };
  }

  /** Steps every sub-env with `actions` (numEnvs × actDim); `exact`: also the float64 observations. */
  async step(actions: Float32Array, exact = false): Promise<SimulatorStep> {
    const req = this.stepRequest(actions, exact);
    const res = await this.call<SimStepResponse>('Step', (md, deadline, cb) =>
      this.grpc.step(req, md, { deadline }, cb),
    );
    return this.decodeStep(res);
  }

  /**
   * A bidirectional Lockstep stream: the same as step() without a call per step. One step in flight at
   * a time; `timeoutMs` bounds each step's wait.
   */
  openLockstep(timeoutMs = this.deadlineMs): LockstepSession {
    return new LockstepSession(this, this.grpc.lockstep(tracedMetadata()), timeoutMs);
  }

  /** @internal */
  stepRequest(actions: Float32Array, exact: boolean): SimStepRequest {
    const { numEnvs, actDim } = this.meta;
    if (actions.length !== numEnvs * actDim) {
      throw new RangeError(`step: expected ${numEnvs}×${actDim} actions, got ${actions.length} values`);
    }
    return { actions: encodeFloatBatch(actions, numEnvs, actDim), exactObservations: exact };
  }

  /** @internal */
  decodeStep(res: SimStepResponse): SimulatorStep {
    const { numEnvs: n, obsDim } = this.meta;
    const observations = decodeFloatBatch(res.observations, { name: 'observations', cols: obsDim, rows: n });
    if (res.rewards.length !== n || res.terminated.length !== n || res.truncated.length !== n) {
      throw new ResponseError(`Step response: expected ${n} rewards/terminated/truncated`);
    }
    const finals = decodeFloatBatch(res.finalObservations, {
      name: 'final_observations',
      cols: obsDim,
      rows: res.finalEnvIndex.length,
    });
    const finalObservations = new Float32Array(n * obsDim).fill(Number.NaN);
    res.finalEnvIndex.forEach((env, k) => {
      if (env >= n) throw new ResponseError(`Step response: final_env_index ${env} out of range`);
      finalObservations.set(finals.subarray(k * obsDim, (k + 1) * obsDim), env * obsDim);
    });
    const step: SimulatorStep = {
      observations,
      rewards: Float64Array.from(res.rewards),
      terminated: Uint8Array.from(res.terminated, Number),
      truncated: Uint8Array.from(res.truncated, Number),
      finalObservations,
    };
    if (res.observationsF64.length > 0) {
      step.observationsF64 = decodeFloat64(res.observationsF64, 'observations_f64', n * obsDim);
      const finals64 = decodeFloat64(res.finalObservationsF64, 'final_observations_f64', finals.length);
      const finalsF64 = new Float64Array(n * obsDim).fill(Number.NaN);
      step.finalObservationsF64 = finalsF64;
      res.finalEnvIndex.forEach((env, k) => {
        finalsF64.set(finals64.subarray(k * obsDim, (k + 1) * obsDim), env * obsDim);
      });
    }
    return step;
  }

  /** Sends the policy the simulator acts with in actor mode (see policySnapshotFromAgent). */
  setPolicy(snapshot: PolicySnapshot): Promise<SetPolicyResponse> {
    return this.call('SetPolicy', (md, deadline, cb) => this.grpc.setPolicy(snapshot, md, { deadline }, cb));
  }

  /** Releases every batch with seq ≤ `seq`. */
  ack(seq: number): Promise<SimAckResponse> {
    return this.call('Ack', (md, deadline, cb) => this.grpc.ack({ seq }, md, { deadline }, cb));
  }

  /**
   * Transition batches from `fromSeq` (0: the oldest unacknowledged) for as long as the caller iterates;
   * breaking out of the loop cancels the stream. Ack what you have stored; after a disconnect, resume
   * with fromSeq = last acked + 1 to get every unacked batch again. No deadline: the stream is long-lived.
   */
  async *streamTransitions(fromSeq = 0, options: StreamOptions = {}): AsyncGenerator<Transitions> {
    const { obsDim, actDim } = this.meta;
    const md = tracedMetadata();
    const call = this.grpc.streamTransitions({ fromSeq, maxBatchRows: options.maxBatchRows ?? 0 }, md);
    try {
      for await (const msg of call as AsyncIterable<TransitionBatch>) {
        yield decodeTransitions(msg, obsDim, actDim);
      }
    } finally {
      call.cancel();
    }
  }

  close(): void {
    this.grpc.close();
  }
}

type Callback<T> = (err: Error | null, res: T) => void;

/** Little-endian float64 bytes of exactly `count` values (a response field), copied into an aligned array. */
function decodeFloat64(bytes: Uint8Array, name: string, count: number): Float64Array {
  if (bytes.length !== count * 8) {
    throw new ResponseError(`${name}: expected ${count * 8} bytes, got ${bytes.length}`);
  }
  const out = new Float64Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function unary<T>(invoke: (cb: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res))));
}

export function decodeTransitions(msg: TransitionBatch, obsDim: number, actDim: number): Transitions {
  const rows = msg.rewards.length;
  const where = `TransitionBatch ${msg.seq}`;
  // Views of the message's bytes where aligned: nothing else holds those bytes, so no copy is needed.
  const obs = decodeFloatBatch(msg.obs, { name: `${where} obs`, cols: obsDim, rows, view: true });
  const actions = decodeFloatBatch(msg.actions, { name: `${where} actions`, cols: actDim, rows, view: true });
  const nextObs = decodeFloatBatch(msg.nextObs, {
    name: `${where} next_obs`,
    cols: obsDim,
    rows,
    view: true,
  });
  if (msg.terminated.length !== rows || msg.truncated.length !== rows || msg.envIndex.length !== rows) {
    throw new ResponseError(`${where}: terminated/truncated/env_index do not have ${rows} entries`);
  }
  const terminated = new Uint8Array(rows);
  const truncated = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    terminated[i] = msg.terminated[i] ? 1 : 0;
    truncated[i] = msg.truncated[i] ? 1 : 0;
  }
  return {
    simulatorId: msg.simulatorId,
    incarnation: msg.incarnation,
    seq: msg.seq,
    policyVersion: msg.policyVersion,
    rows,
    obs,
    actions,
    rewards: Float64Array.from(msg.rewards),
    nextObs,
    terminated,
    truncated,
    envIndex: Uint32Array.from(msg.envIndex),
    episodeReturns: msg.episodeReturnsFinished,
    episodeLengths: msg.episodeLengthsFinished,
  };
}
