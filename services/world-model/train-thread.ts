// Training off the main thread: an epoch is synchronous and a real run takes minutes to hours, so the
// service runs it in a worker thread and relays its progress. Terminating the worker loses at most the
// epochs since its last saved training state (training.ts), which the next request for it resumes from.
import { Worker } from 'node:worker_threads';
// Loads OpenBLAS here first: a worker's process.env is a copy, so lib/nn could not drop an image's pinned
// OPENBLAS_CORETYPE for it, and the library (one per process) would start with the older kernels.
import '../../lib/nn/gemm.ts';
import type { EpochProgress } from '../../lib/world-model/train.ts';
import type { TrainWorkerMessage } from './train-worker.ts';
import type { TrainOutcome, TrainSpec } from './training.ts';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./train-worker.ts', import.meta.url).href;

/** Trains in a worker thread; `signal` terminates it (the promise then rejects with the abort reason). */
export function trainInWorker(
  spec: Omit<TrainSpec, 'onProgress'>,
  onProgress: (p: EpochProgress) => void = () => {},
  signal?: AbortSignal,
): Promise<TrainOutcome> {
  return new Promise<TrainOutcome>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const worker = new Worker(BOOT, { workerData: { entry: ENTRY, spec } });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      settle(() => reject(signal?.reason ?? new Error('training aborted')));
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: TrainWorkerMessage) => {
      if (m.kind === 'progress') onProgress(m.progress);
      else if (m.kind === 'done') settle(() => resolve(m.outcome));
      else settle(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`world-model training thread exited (code ${code}) without a result`))),
    );
  });
}
