// Runs in a worker thread (see train-thread.ts): trains and saves one world model, posting each epoch's
// progress and then the outcome, so the service's event loop keeps answering Predict, gRPC and NATS
// while a long training runs.
import { parentPort, workerData } from 'node:worker_threads';
import { type TrainSpec, trainAndSave } from './training.ts';

export type TrainWorkerMessage =
  | { kind: 'progress'; progress: import('../../lib/world-model/train.ts').EpochProgress }
  | { kind: 'done'; outcome: import('./training.ts').TrainOutcome }
  | { kind: 'error'; message: string };

const port = parentPort;
if (port === null) throw new Error('train-worker.ts must run in a worker thread');
const spec = (workerData as { spec: Omit<TrainSpec, 'onProgress'> }).spec;
try {
  const outcome = await trainAndSave({
    ...spec,
    onProgress: (progress) => port.postMessage({ kind: 'progress', progress } satisfies TrainWorkerMessage),
    // A worker's stderr is relayed to the service's.
    log: (line) => process.stderr.write(`[world-model] ${line}\n`),
  });
  port.postMessage({ kind: 'done', outcome } satisfies TrainWorkerMessage);
} catch (e) {
  port.postMessage({
    kind: 'error',
    message: e instanceof Error ? e.message : String(e),
  } satisfies TrainWorkerMessage);
}
