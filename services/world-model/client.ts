// RemoteWorldModel: the world-model service behind lib/world-model's WorldModel interface, so the
// learner's augmenter uses it exactly like an in-process model. Every call has a deadline; UNAVAILABLE
// and DEADLINE_EXCEEDED are retried with exponential backoff until a total wait is spent, then the call
// fails with a message saying so (there is no silent fallback to anything else).
import { type Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  type InfoResponse,
  type PredictResponse,
  type TrainProgress,
  type TrainRequest,
  WorldModelClient,
} from '../../generated/proto/o2o/v1/world_model.js';
import { NnRng } from '../../lib/nn/index.ts';
import { decodeFloatBatch, encodeFloatBatch } from '../../lib/services/float-batch.ts';
import { type ClientTls, channelCredentials, defaultClientTls } from '../../lib/services/grpc-security.ts';
import { traceClientCall } from '../../lib/telemetry/grpc.ts';
import { trainedForFrom } from '../../lib/world-model/trained-for.ts';
import type { ReseedableWorldModel, WorldModelInfo } from '../../lib/world-model/types.ts';

export interface RemoteWorldModelOptions {
  /** Deadline of one Predict/Info/Load attempt (ms); default 30 s. */
  callTimeoutMs?: number;
  /** Total time spent retrying UNAVAILABLE / DEADLINE_EXCEEDED before giving up (ms); default 60 s. */
  retryTotalMs?: number;
  /** First backoff (ms), doubled per attempt up to maxBackoffMs; default 50. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Largest message (bytes) sent or received; default 64 MiB. */
  maxMessageBytes?: number;
  /**
   * HTTP/2 receive window of the connection (bytes); default 1 MiB, so the answers to many concurrent
   * callers sharing the connection do not wait for WINDOW_UPDATEs under HTTP/2's 64 KiB default.
   */
  flowControlWindowBytes?: number;
  /** TLS to dial with; undefined: this process's O2O_TLS_* settings; null: plaintext. */
  tls?: ClientTls | null;
}

const DEFAULTS = {
  callTimeoutMs: 30_000,
  retryTotalMs: 60_000,
  initialBackoffMs: 50,
  maxBackoffMs: 2_000,
  maxMessageBytes: 64 << 20,
  flowControlWindowBytes: 1 << 20,
} as const;

const TRACER = 'o2o-world-model-client';
const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

export class RemoteWorldModelError extends Error {
  override readonly name = 'RemoteWorldModelError';
  constructor(
    message: string,
    readonly code: status | undefined,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A thin promise-based client with deadlines and retries, for Info/Predict/Load/Train. */
export class WorldModelServiceClient {
  readonly client: WorldModelClient;
  readonly options: Required<Omit<RemoteWorldModelOptions, 'tls'>>;

  constructor(
    readonly address: string,
    options: RemoteWorldModelOptions = {},
  ) {
    const { tls, ...numbers } = options;
    this.options = { ...DEFAULTS, ...numbers };
    for (const [k, v] of Object.entries(this.options))
      if (!(v > 0) || !Number.isFinite(v))
        throw new RangeError(`RemoteWorldModel: ${k} must be > 0, got ${v}`);
    const channel = channelCredentials(tls === undefined ? defaultClientTls() : (tls ?? undefined));
    this.client = new WorldModelClient(address, channel.credentials, {
      ...channel.options,
      'grpc.max_receive_message_length': this.options.maxMessageBytes,
      'grpc.max_send_message_length': this.options.maxMessageBytes,
      'grpc-node.flow_control_window': this.options.flowControlWindowBytes,
    });
  }

  /** One unary call with a deadline per attempt, retried on transient statuses within retryTotalMs. */
  async unary<Req, Res>(
    method: 'info' | 'predict' | 'load',
    request: Req,
    timeoutMs = this.options.callTimeoutMs,
  ): Promise<Res> {
    const started = Date.now();
    let backoff = this.options.initialBackoffMs;
    let attempt = 0;
    const name = `o2o.v1.WorldModel/${method[0]!.toUpperCase()}${method.slice(1)}`;
    for (;;) {
      attempt++;
      try {
        return await traceClientCall(TRACER, name, (md: Metadata) => {
          return new Promise<Res>((resolve, reject) => {
            const fn = this.client[method].bind(this.client) as unknown as (
              req: Req,
              md: Metadata,
              opts: { deadline: Date },
              cb: (err: ServiceError | null, res: Res) => void,
            ) => void;
            fn(request, md, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) =>
              err ? reject(err) : resolve(res),
            );
          });
        });
      } catch (err) {
        const code = (err as ServiceError).code;
        const elapsed = Date.now() - started;
        if (!RETRYABLE.has(code) || elapsed + backoff > this.options.retryTotalMs) {
          const why = RETRYABLE.has(code)
            ? ` (gave up after ${attempt} attempt(s) over ${elapsed} ms; retry budget ${this.options.retryTotalMs} ms)`
            : '';
          throw new RemoteWorldModelError(
            `world-model service at ${this.address}: ${name} failed: ${status[code] ?? 'error'}: ${(err as Error).message}${why}`,
            code,
          );
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
      }
    }
  }

  info(): Promise<InfoResponse> {
    return this.unary('info', {});
  }

  /** Serves `modelPath` (relative to the service's run root); `noiseSeed` restarts its noise stream. */
  async load(modelPath: string, noiseSeed?: number): Promise<InfoResponse> {
    const r = await this.unary<{ modelPath: string; noiseSeed?: number }, { info?: InfoResponse }>('load', {
      modelPath,
      ...(noiseSeed === undefined ? {} : { noiseSeed }),
    });
    if (r.info === undefined) throw new RemoteWorldModelError('Load answered without info', undefined);
    return r.info;
  }

  /** Streams training progress to `onProgress`; resolves with the final message (done = true). No retries. */
  train(
    request: Partial<TrainRequest> & Pick<TrainRequest, 'datasetPath' | 'outputPath' | 'epochs'>,
    onProgress: (p: TrainProgress) => void = () => {},
    timeoutMs = 24 * 3600_000,
  ): Promise<TrainProgress> {
    const full: TrainRequest = {
      envId: '',
      seed: 0,
      batchSize: 0,
      learningRate: 0,
      latentDim: 0,
      encoderHidden: [],
      decoderHidden: [],
      transitionHidden: [],
      ...request,
    };
    return traceClientCall(TRACER, 'o2o.v1.WorldModel/Train', (md) => {
      return new Promise<TrainProgress>((resolve, reject) => {
        let last: TrainProgress | undefined;
        const stream = this.client.train(full, md, { deadline: new Date(Date.now() + timeoutMs) });
        stream.on('data', (p: TrainProgress) => {
          last = p;
          onProgress(p);
        });
        stream.on('error', (err: ServiceError) =>
          reject(
            Object.assign(
              new RemoteWorldModelError(
                `world-model service at ${this.address}: Train failed: ${status[err.code]}: ${err.details || err.message}`,
                err.code,
              ),
            ),
          ),
        );
        stream.on('end', () =>
          last?.done === true
            ? resolve(last)
            : reject(new RemoteWorldModelError('Train stream ended without a final message', undefined)),
        );
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Noise seeds the service takes: 0..2^31-2. */
const MAX_NOISE_SEED = 2 ** 31 - 1;

/**
 * The service as a WorldModel. Create with `RemoteWorldModel.connect(address)` (it asks Info for the dims).
 * After `reseedNoise(seed)`, every stochastic call sends a noise seed drawn from a stream started at
 * `seed`: the service answers it alone, from that seed, so the predictions repeat exactly from there
 * whatever other callers do (as an in-process model's do); before, calls share the service's stream.
 */
export class RemoteWorldModel implements ReseedableWorldModel {
  readonly info: WorldModelInfo;
  /** Callers merged into the last answered batch (diagnostics). */
  lastMergedCallers = 0;
  /** Draws each stochastic call's noise seed; undefined until reseedNoise. */
  private noiseSeeds: NnRng | undefined;

  private constructor(
    readonly service: WorldModelServiceClient,
    readonly remote: InfoResponse,
  ) {
    this.info = {
      implementation: `grpc:${remote.implementation}`,
      obsDim: remote.obsDim,
      actDim: remote.actDim,
    };
    const trainedFor = trainedForFrom(
      remote.envId,
      remote.envOptionsJson,
      "the world-model service's env_options_json",
    );
    if (trainedFor !== undefined) this.info.trainedFor = trainedFor;
  }

  static async connect(address: string, options: RemoteWorldModelOptions = {}): Promise<RemoteWorldModel> {
    const service = new WorldModelServiceClient(address, options);
    try {
      const info = await service.info();
      if (!info.trained || info.obsDim === 0)
        throw new RemoteWorldModelError(
          `world-model service at ${address} has no model loaded (call Train or Load first)`,
          status.FAILED_PRECONDITION,
        );
      return new RemoteWorldModel(service, info);
    } catch (e) {
      service.close();
      throw e;
    }
  }

  reseedNoise(seed: number): void {
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`RemoteWorldModel.reseedNoise: seed must be a safe integer, got ${seed}`);
    this.noiseSeeds = new NnRng(seed);
  }

  async predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
    options?: { deterministic?: boolean },
  ): Promise<void> {
    const { obsDim, actDim } = this.info;
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(
        `RemoteWorldModel.predictNextStates: count must be a positive integer, got ${count}`,
      );
    for (const [name, arr, dim] of [
      ['states', states, obsDim],
      ['actions', actions, actDim],
      ['out', out, obsDim],
    ] as const) {
      if (arr.length < count * dim)
        throw new RangeError(
          `RemoteWorldModel.predictNextStates: ${name} has ${arr.length} values, needs ${count}·${dim}`,
        );
    }
    const deterministic = options?.deterministic === true;
    // Drawn once per call, before any retry, so that a retried call asks for the same noise.
    const noiseSeed =
      deterministic || this.noiseSeeds === undefined
        ? undefined
        : this.noiseSeeds.nextUint32() % MAX_NOISE_SEED;
    const res = await this.service.unary<unknown, PredictResponse>('predict', {
      states: encodeFloatBatch(states, count, obsDim),
      actions: encodeFloatBatch(actions, count, actDim),
      deterministic,
      ...(noiseSeed === undefined ? {} : { noiseSeed }),
    });
    // A view where aligned: the only copy is the one into the caller's `out`.
    out.set(
      decodeFloatBatch(res.nextStates, {
        name: 'next_states',
        cols: obsDim,
        rows: count,
        finite: false,
        view: true,
      }),
    );
    this.lastMergedCallers = res.mergedCallers;
  }

  close(): void {
    this.service.close();
  }
}
