// The WorldModel gRPC service: Info, Predict (through the dynamic batcher), Train (native training,
// streamed progress, then served by the configured implementation) and Load. Every request is
// validated; bad input is answered with INVALID_ARGUMENT naming the field, never a crash.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Server, type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  type InfoResponse,
  type LoadRequest,
  type LoadResponse,
  type PredictRequest,
  type PredictResponse,
  type TrainProgress,
  type TrainRequest,
  WorldModelService,
} from '../../generated/proto/o2o/v1/world_model.js';
import { envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { isEnvId } from '../../lib/envs/registry.ts';
import { decodeFloatBatch, encodeFloatBatch } from '../../lib/services/float-batch.ts';
import { type ServerTls, serverCredentials } from '../../lib/services/grpc-security.ts';
import { strictDecoding } from '../../lib/services/strict-decoding.ts';
import { grpcError, tracedUnary, traceServerStreamHandler } from '../../lib/telemetry/grpc.ts';
import type { EpochProgress } from '../../lib/world-model/train.ts';
import { BatcherClosedError, PredictBatcher, QueueFullError } from './batcher.ts';
import type { WorldModelServiceConfig } from './config.ts';
import { implementationNamed, type ServedModel, type WorldModelImplementation } from './implementations.ts';
import { PathError, relativeToRunRoot, resolveInRunRoot } from './paths.ts';
import { trainInWorker } from './train-thread.ts';
import type { TrainOutcome, TrainSpec } from './training.ts';

export const TRACER = 'o2o-world-model';
const METHOD = (name: string): string => `o2o.v1.WorldModel/${name}`;

export type ServerSettings = Pick<
  WorldModelServiceConfig,
  'listen' | 'runRoot' | 'seed' | 'impl' | 'maxBatchRows' | 'maxWaitMs' | 'maxQueueRows' | 'maxMessageBytes'
> & {
  model?: string | undefined /** TLS of the gRPC server; absent: plaintext. */;
  serverTls?: ServerTls | undefined;
};

const invalid = (message: string) => grpcError(status.INVALID_ARGUMENT, message);

function checkPath(root: string, rel: string, field: string): string {
  try {
    return resolveInRunRoot(root, rel, field);
  } catch (e) {
    if (e instanceof PathError) throw invalid(e.message);
    throw e;
  }
}

function positiveIntList(values: readonly number[], field: string): number[] | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 16) throw invalid(`${field}: at most 16 layers, got ${values.length}`);
  for (const [i, v] of values.entries())
    if (!(v >= 1 && v <= 8192)) throw invalid(`${field}[${i}]: layer width must be 1..8192, got ${v}`);
  return [...values];
}

/** The service's state: the implementation, the served model (if any) and its batcher. */
export class WorldModelState {
  readonly impl: WorldModelImplementation;
  private served: ServedModel | undefined;
  private modelPath = '';
  private trained = false;
  private training = false;
  private readonly stopping = new AbortController();
  batcher: PredictBatcher | undefined;

  constructor(readonly settings: ServerSettings) {
    this.impl = implementationNamed(settings.impl);
  }

  get model(): ServedModel | undefined {
    return this.served;
  }

  info(): InfoResponse {
    const m = this.served?.model.info;
    const trainedFor = m?.trainedFor;
    return {
      implementation: this.impl.name,
      version: this.served?.version ?? '',
      obsDim: m?.obsDim ?? 0,
      actDim: m?.actDim ?? 0,
      envId: trainedFor?.envId ?? '',
      ...(trainedFor?.envOptions === undefined
        ? {}
        : { envOptionsJson: envOptionsJson(trainedFor.envOptions) }),
      trained: this.trained,
      modelPath: this.modelPath,
      canTrain: this.impl.canTrain,
      maxBatchRows: this.settings.maxBatchRows,
    };
  }

  /** Loads `rel` (run-root relative) with the implementation and serves it from the next batch on. */
  async load(rel: string, field = 'model_path', noiseSeed = this.settings.seed): Promise<InfoResponse> {
    if (!Number.isSafeInteger(noiseSeed) || noiseSeed < 0 || noiseSeed > 2 ** 31 - 2)
      throw invalid(`noise_seed: must be 0..2^31-2, got ${noiseSeed}`);
    const full = checkPath(this.settings.runRoot, rel, field);
    if (!existsSync(full) || !statSync(full).isFile())
      throw grpcError(status.NOT_FOUND, `${field}: '${rel}' is not a file under the run root`);
    let next: ServedModel;
    try {
      next = await this.impl.load(full, noiseSeed);
    } catch (e) {
      throw grpcError(
        status.FAILED_PRECONDITION,
        `${field}: cannot load '${rel}' with the ${this.impl.name} implementation: ${(e as Error).message}`,
      );
    }
    await this.serve(next, relativeToRunRoot(this.settings.runRoot, full));
    return this.info();
  }

  private async serve(next: ServedModel, rel: string): Promise<void> {
    const previous = this.served;
    if (this.batcher === undefined) {
      this.batcher = new PredictBatcher(next.model, {
        maxBatchRows: this.settings.maxBatchRows,
        maxWaitMs: this.settings.maxWaitMs,
        maxQueueRows: this.settings.maxQueueRows,
        tracerName: TRACER,
      });
    } else await this.batcher.replaceModel(next.model);
    this.served = next;
    this.modelPath = rel;
    this.trained = true;
    previous?.dispose();
  }

  async predict(req: PredictRequest): Promise<PredictResponse> {
    const served = this.served;
    if (served === undefined || this.batcher === undefined)
      throw grpcError(
        status.FAILED_PRECONDITION,
        'no world model loaded: call Train or Load first (or set O2O_WM_MODEL)',
      );
    const { obsDim, actDim } = served.model.info;
    const rows = req.states?.rows ?? 0;
    if (rows === 0) throw invalid('states: empty batch (at least one row is required)');
    if (rows > this.settings.maxQueueRows)
      throw invalid(`states: ${rows} rows exceed O2O_WM_MAX_QUEUE (${this.settings.maxQueueRows})`);
    // Views of the request's bytes where aligned (read once by the model, then dropped).
    const states = decodeFloatBatch(req.states, { name: 'states', cols: obsDim, view: true });
    const actions = decodeFloatBatch(req.actions, { name: 'actions', cols: actDim, rows, view: true });
    try {
      const seed = req.noiseSeed;
      if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 31 - 2))
        throw invalid(`noise_seed: must be 0..2^31-2, got ${seed}`);
      const r = await this.batcher.submit(states, actions, rows, req.deterministic, seed);
      return {
        nextStates: encodeFloatBatch(r.nextStates, rows, obsDim),
        mergedCallers: r.mergedCallers,
        batchRows: r.batchRows,
      };
    } catch (e) {
      if (e instanceof QueueFullError) throw grpcError(status.RESOURCE_EXHAUSTED, e.message);
      if (e instanceof BatcherClosedError) throw grpcError(status.UNAVAILABLE, e.message);
      throw e;
    }
  }

  /** Validates a TrainRequest into a TrainSpec (absolute, confined paths). */
  trainSpec(req: TrainRequest): TrainSpec {
    const root = this.settings.runRoot;
    const datasetPath = checkPath(root, req.datasetPath, 'dataset_path');
    if (!existsSync(datasetPath))
      throw grpcError(
        status.NOT_FOUND,
        `dataset_path: '${req.datasetPath}' does not exist under the run root`,
      );
    const outputPath = checkPath(root, req.outputPath, 'output_path');
    if (!(req.epochs >= 1 && req.epochs <= 100_000))
      throw invalid(`epochs: must be 1..100000, got ${req.epochs}`);
    if (!Number.isSafeInteger(req.seed) || req.seed > 2 ** 31 - 2)
      throw invalid(`seed: must be 0..2^31-2, got ${req.seed}`);
    if (req.batchSize > 1 << 20) throw invalid(`batch_size: at most 2^20, got ${req.batchSize}`);
    if (req.learningRate !== 0 && !(req.learningRate > 0 && req.learningRate < 1))
      throw invalid(`learning_rate: must be in (0, 1) or 0 for the default, got ${req.learningRate}`);
    if (req.latentDim > 1024) throw invalid(`latent_dim: at most 1024, got ${req.latentDim}`);
    // A known id only: it labels the saved model, and the learner builds envs from it.
    if (req.envId !== '' && !isEnvId(req.envId))
      throw invalid(`env_id: '${req.envId.slice(0, 128)}' is not a known environment id`);
    const model: NonNullable<TrainSpec['model']> = {};
    if (req.latentDim > 0) model.latentDim = req.latentDim;
    const enc = positiveIntList(req.encoderHidden, 'encoder_hidden');
    const dec = positiveIntList(req.decoderHidden, 'decoder_hidden');
    const tr = positiveIntList(req.transitionHidden, 'transition_hidden');
    if (enc !== undefined) model.encoderHidden = enc;
    if (dec !== undefined) model.decoderHidden = dec;
    if (tr !== undefined) model.transitionHidden = tr;
    return {
      datasetPath,
      ...(req.envId === '' ? {} : { envId: req.envId }),
      epochs: req.epochs,
      seed: req.seed,
      outputPath,
      ...(req.batchSize > 0 ? { batchSize: req.batchSize } : {}),
      ...(req.learningRate > 0 ? { lr: req.learningRate } : {}),
      model,
    };
  }

  /**
   * Trains in a worker thread (one training at a time), saves, then serves the new model with the
   * implementation. Progress is relayed per epoch; close() aborts a training in progress.
   */
  async train(spec: TrainSpec, onProgress?: (p: EpochProgress) => void): Promise<TrainOutcome> {
    if (this.training)
      throw grpcError(status.ABORTED, 'a training run is already in progress in this service');
    this.training = true;
    try {
      let outcome: TrainOutcome;
      try {
        const { onProgress: _unused, ...plain } = spec; // functions do not cross into the worker
        outcome = await trainInWorker(plain, onProgress, this.stopping.signal);
      } catch (e) {
        if (this.stopping.signal.aborted)
          throw grpcError(status.UNAVAILABLE, 'the world-model service is shutting down');
        throw grpcError(status.FAILED_PRECONDITION, `training failed: ${(e as Error).message}`);
      }
      const served = await this.impl.load(outcome.modelPath, this.settings.seed);
      await this.serve(served, relativeToRunRoot(this.settings.runRoot, outcome.modelPath));
      return outcome;
    } finally {
      this.training = false;
    }
  }

  async close(): Promise<void> {
    this.stopping.abort(new Error('the world-model service is shutting down'));
    await this.batcher?.drain();
    this.served?.dispose();
  }
}

function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((e: unknown) => {
    if (e instanceof RangeError && (e as { code?: unknown }).code === undefined) throw invalid(e.message);
    throw e;
  });
}

export function serviceHandlers(state: WorldModelState) {
  return {
    info: tracedUnary(TRACER, METHOD('Info'), () => state.info()),
    predict: tracedUnary<PredictRequest, PredictResponse>(TRACER, METHOD('Predict'), (req) =>
      mapErrors(() => state.predict(req)),
    ),
    load: tracedUnary<LoadRequest, LoadResponse>(TRACER, METHOD('Load'), async (req) => ({
      info: await state.load(req.modelPath, 'model_path', req.noiseSeed ?? state.settings.seed),
    })),
    train: traceServerStreamHandler<TrainRequest, TrainProgress>(
      TRACER,
      METHOD('Train'),
      async (call: ServerWritableStream<TrainRequest, TrainProgress>) => {
        const spec = state.trainSpec(call.request);
        const onProgress = (p: EpochProgress): void => {
          if (call.cancelled) return;
          call.write({
            epoch: p.epoch,
            epochs: p.epochs,
            loss: p.loss.total,
            heldoutMse: p.heldOutMse ?? -1,
            done: false,
            modelPath: '',
            bestEpoch: 0,
            stoppedEarly: false,
          });
        };
        const outcome = await state.train(spec, onProgress);
        call.write({
          epoch: outcome.epochsRun,
          epochs: spec.epochs,
          loss: 0,
          heldoutMse: outcome.heldoutMse,
          done: true,
          modelPath: relativeToRunRoot(state.settings.runRoot, outcome.modelPath),
          bestEpoch: outcome.bestEpoch,
          stoppedEarly: outcome.stoppedEarly,
        });
        call.end();
      },
    ),
  };
}

export interface RunningServer {
  server: Server;
  state: WorldModelState;
  /** host:port actually bound. */
  address: string;
  /** Stops accepting calls, answers queued predictions, closes the server. */
  shutdown(): Promise<void>;
}

export async function startServer(settings: ServerSettings): Promise<RunningServer> {
  const state = new WorldModelState({ ...settings, runRoot: resolve(settings.runRoot) });
  if (settings.model !== undefined) await state.load(settings.model, 'O2O_WM_MODEL');
  const server = new Server({
    'grpc.max_receive_message_length': settings.maxMessageBytes,
    'grpc.max_send_message_length': settings.maxMessageBytes,
  });
  server.addService(...strictDecoding(WorldModelService, serviceHandlers(state)));
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync(settings.listen, serverCredentials(settings.serverTls), (err, p) =>
      err ? rej(err) : res(p),
    ),
  );
  const host = settings.listen.slice(0, settings.listen.lastIndexOf(':'));
  return {
    server,
    state,
    address: `${host}:${port}`,
    async shutdown() {
      // No new calls; in-flight ones (and the predictions they queued) complete.
      const drained = state.close();
      await new Promise<void>((res) => server.tryShutdown(() => res()));
      await drained;
    },
  };
}
