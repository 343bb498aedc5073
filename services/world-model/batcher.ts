// Dynamic batching of Predict calls: requests wait in a bounded queue and are merged into one model call
// of up to `maxBatchRows` rows, dispatched as soon as that many rows are waiting, or as many requests
// are waiting as the previous batch of that queue merged (every caller of that batch is back: a lone
// caller never waits, closed-loop callers are merged without waiting out the window), or the oldest
// request has waited `maxWaitMs`; the merged output is split back per caller. Deterministic and
// stochastic requests queue separately (a merged call has one mode); a stochastic request with a noise
// seed is never merged: its call restarts the model's noise stream at that seed, so its answer depends on
// nothing but the request. One model call runs at a time, and
// a batch is formed one event-loop turn after it is due, so requests that arrived meanwhile (a native
// model call blocks the loop: they are read only after it) pile up and form the next, larger batch.
import { context, type Link, SpanKind, trace } from '@opentelemetry/api';
import { isReseedable, type ReseedableWorldModel, type WorldModel } from '../../lib/world-model/types.ts';

/** The model, if its noise stream can be restarted at a seed; else the error a noise_seed request gets. */
function reseedable(model: WorldModel): ReseedableWorldModel {
  if (!isReseedable(model))
    throw new RangeError('noise_seed: the served model cannot restart its noise stream');
  return model;
}

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export class BatcherClosedError extends Error {
  override readonly name = 'BatcherClosedError';
}

export interface BatcherOptions {
  maxBatchRows: number;
  maxWaitMs: number;
  maxQueueRows: number;
  /** Tracer of the batch spans. */
  tracerName?: string;
}

export interface BatchResult {
  nextStates: Float32Array;
  /** Callers answered by the same model call. */
  mergedCallers: number;
  batchRows: number;
}

/** Why a batch was dispatched when it was ('seeded': a request with its own noise seed, never merged). */
export type DispatchReason = 'full' | 'callers-back' | 'waited' | 'drain' | 'seeded';

export interface BatcherStats {
  batches: number;
  rows: number;
  requests: number;
  /** Largest number of callers merged into one model call. */
  maxMerged: number;
  /** Batches per dispatch reason. */
  dispatched: Record<DispatchReason, number>;
}

type QueueKey = 'det' | 'stoch' | 'seeded';

interface Pending {
  states: Float32Array;
  actions: Float32Array;
  rows: number;
  /** Set exactly for the requests of the seeded queue. */
  noiseSeed?: number;
  enqueuedAt: number;
  link: Link | undefined;
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
}

export class PredictBatcher {
  private readonly queues: Record<QueueKey, Pending[]> = { det: [], stoch: [], seeded: [] };
  /** Callers merged into each queue's previous batch; unknown before its first batch (then it waits). */
  private readonly lastMerged: Record<QueueKey, number> = {
    det: Number.POSITIVE_INFINITY,
    stoch: Number.POSITIVE_INFINITY,
    seeded: 1, // never read: a seeded request is always ready, and alone
  };
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly tracer;
  readonly stats: BatcherStats = {
    batches: 0,
    rows: 0,
    requests: 0,
    maxMerged: 0,
    dispatched: { full: 0, 'callers-back': 0, waited: 0, drain: 0, seeded: 0 },
  };

  constructor(
    private model: WorldModel,
    readonly options: BatcherOptions,
  ) {
    for (const k of ['maxBatchRows', 'maxQueueRows'] as const) {
      if (!Number.isInteger(options[k]) || options[k] < 1)
        throw new RangeError(`PredictBatcher: ${k} must be a positive integer, got ${options[k]}`);
    }
    if (!(options.maxWaitMs >= 0) || !Number.isFinite(options.maxWaitMs))
      throw new RangeError(
        `PredictBatcher: maxWaitMs must be a finite number >= 0, got ${options.maxWaitMs}`,
      );
    this.tracer = trace.getTracer(options.tracerName ?? 'o2o-world-model');
  }

  get currentModel(): WorldModel {
    return this.model;
  }

  /** Rows waiting (not yet in a model call). */
  get queueRows(): number {
    return this.queuedRows;
  }

  /**
   * Queues `rows` (state, action) pairs for prediction. Sizes must match the current model (the server
   * validates them first); rejects with QueueFullError when the queue cannot take them. With `noiseSeed`
   * (stochastic only), the rows get a model call of their own with the noise stream restarted at it.
   */
  submit(
    states: Float32Array,
    actions: Float32Array,
    rows: number,
    deterministic: boolean,
    noiseSeed?: number,
  ): Promise<BatchResult> {
    if (this.closed)
      return Promise.reject(new BatcherClosedError('the world-model service is shutting down'));
    const { obsDim, actDim } = this.model.info;
    if (!Number.isInteger(rows) || rows < 1)
      return Promise.reject(new RangeError(`rows must be >= 1, got ${rows}`));
    if (states.length !== rows * obsDim || actions.length !== rows * actDim)
      return Promise.reject(
        new RangeError(
          `states/actions hold ${states.length}/${actions.length} values, expected ${rows}×${obsDim}/${rows}×${actDim}`,
        ),
      );
    if (noiseSeed !== undefined) {
      if (deterministic)
        return Promise.reject(
          new RangeError('noise_seed: only for stochastic predictions (deterministic is set)'),
        );
      try {
        reseedable(this.model);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.queuedRows + rows > this.options.maxQueueRows)
      return Promise.reject(
        new QueueFullError(
          `prediction queue is full: ${this.queuedRows} rows waiting + ${rows} requested > limit ${this.options.maxQueueRows} (O2O_WM_MAX_QUEUE)`,
        ),
      );
    const spanContext = trace.getSpanContext(context.active());
    return new Promise<BatchResult>((resolve, reject) => {
      const item: Pending = {
        states,
        actions,
        rows,
        ...(noiseSeed === undefined ? {} : { noiseSeed }),
        enqueuedAt: performance.now(),
        link: spanContext === undefined ? undefined : { context: spanContext },
        resolve,
        reject,
      };
      this.queues[deterministic ? 'det' : noiseSeed === undefined ? 'stoch' : 'seeded'].push(item);
      this.queuedRows += rows;
      this.stats.requests++;
      this.schedule();
    });
  }

  /**
   * Swaps the model once the running call (if any) finishes. Queued requests whose widths do not fit
   * the new model are rejected.
   */
  async replaceModel(model: WorldModel): Promise<void> {
    await this.whenIdle();
    this.model = model;
    const { obsDim, actDim } = model.info;
    for (const key of ['det', 'stoch', 'seeded'] as const) {
      const keep: Pending[] = [];
      for (const p of this.queues[key]) {
        if (p.states.length === p.rows * obsDim && p.actions.length === p.rows * actDim) keep.push(p);
        else {
          this.queuedRows -= p.rows;
          p.reject(new RangeError('the world model was replaced by one with different dimensions'));
        }
      }
      this.queues[key] = keep;
    }
  }

  /** Stops accepting requests and answers everything already queued. */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.queuedRows > 0 || this.running) {
      this.schedule(true);
      await this.whenIdle();
    }
  }

  private whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Dispatches a ready queue, or arms a timer for the oldest request's deadline. */
  private schedule(force = false): void {
    if (this.running) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = performance.now();
    let earliest = Number.POSITIVE_INFINITY;
    let pick: QueueKey | undefined;
    let pickReason: DispatchReason = 'waited';
    let pickAge = -1;
    for (const key of ['det', 'stoch', 'seeded'] as const) {
      const q = this.queues[key];
      const first = q[0];
      if (first === undefined) continue;
      const age = now - first.enqueuedAt;
      const reason = this.readiness(key, age, force);
      if (reason !== undefined && age > pickAge) {
        pick = key;
        pickReason = reason;
        pickAge = age;
      }
      earliest = Math.min(earliest, first.enqueuedAt + this.options.maxWaitMs);
    }
    if (pick !== undefined) {
      // The batch is formed on the next turn of the event loop, after every request already received
      // has been queued: a native model runs synchronously, so requests that arrived during the last
      // call are only read now, and dispatching the first of them alone would never let them merge.
      this.running = true;
      const key = pick;
      const reason = pickReason;
      setImmediate(() => void this.run(key, reason));
      return;
    }
    if (Number.isFinite(earliest))
      this.timer = setTimeout(() => this.schedule(), Math.max(0, earliest - now));
  }

  /** Why queue `key` (non-empty, oldest request `age` ms old) should run now, or undefined to keep waiting. */
  private readiness(key: QueueKey, age: number, force: boolean): DispatchReason | undefined {
    if (force) return 'drain';
    if (key === 'seeded') return 'seeded';
    const q = this.queues[key];
    let rows = 0;
    for (const p of q) rows += p.rows;
    if (rows >= this.options.maxBatchRows) return 'full';
    // Waiting only pays when more callers are coming; the last batch's callers are all back already.
    if (q.length >= this.lastMerged[key]) return 'callers-back';
    if (age >= this.options.maxWaitMs) return 'waited';
    return undefined;
  }

  /** Takes up to maxBatchRows rows (always at least one request) from a queue and runs them as one call. */
  private async run(key: QueueKey, reason: DispatchReason): Promise<void> {
    // `running` was set by schedule() when it reserved this run.
    const q = this.queues[key];
    if (q.length === 0) {
      this.finishRun();
      return;
    }
    const batch: Pending[] = [];
    let rows = 0;
    const limit = key === 'seeded' ? 0 : this.options.maxBatchRows; // a seeded request goes alone
    while (q.length > 0 && (batch.length === 0 || rows + q[0]!.rows <= limit)) {
      const p = q.shift()!;
      batch.push(p);
      rows += p.rows;
    }
    this.queuedRows -= rows;
    this.lastMerged[key] = batch.length;
    this.stats.dispatched[reason]++;
    const started = performance.now();
    const waits = batch.map((p) => started - p.enqueuedAt);
    const links = batch.flatMap((p) => (p.link === undefined ? [] : [p.link]));
    const span = this.tracer.startSpan(
      'wm.predict_batch',
      {
        kind: SpanKind.INTERNAL,
        links,
        attributes: {
          'o2o.wm.rows': rows,
          'o2o.wm.callers_merged': batch.length,
          'o2o.wm.deterministic': key === 'det',
          'o2o.wm.dispatch': reason,
          'o2o.wm.queue_wait_ms_max': Math.max(...waits),
          'o2o.wm.queue_wait_ms_mean': waits.reduce((a, b) => a + b, 0) / waits.length,
        },
      },
      // A root of its own: the merged callers' spans are linked, none is the parent.
      trace.deleteSpan(context.active()),
    );
    try {
      const { obsDim, actDim } = this.model.info;
      const states = batch.length === 1 ? batch[0]!.states : new Float32Array(rows * obsDim);
      const actions = batch.length === 1 ? batch[0]!.actions : new Float32Array(rows * actDim);
      if (batch.length > 1) {
        let r = 0;
        for (const p of batch) {
          states.set(p.states, r * obsDim);
          actions.set(p.actions, r * actDim);
          r += p.rows;
        }
      }
      const out = new Float32Array(rows * obsDim);
      // A seeded batch is one request. Checked at submit too, but the model may have been replaced since.
      const seed = batch[0]!.noiseSeed;
      if (seed !== undefined) reseedable(this.model).reseedNoise(seed);
      await this.model.predictNextStates(states, actions, rows, out, { deterministic: key === 'det' });
      span.setAttribute('o2o.wm.model_ms', performance.now() - started);
      this.stats.batches++;
      this.stats.rows += rows;
      this.stats.maxMerged = Math.max(this.stats.maxMerged, batch.length);
      let r = 0;
      for (const p of batch) {
        p.resolve({
          nextStates: out.subarray(r * obsDim, (r + p.rows) * obsDim),
          mergedCallers: batch.length,
          batchRows: rows,
        });
        r += p.rows;
      }
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: 2, message: (err as Error).message });
      for (const p of batch) p.reject(err);
    } finally {
      span.end();
      this.finishRun();
    }
  }

  /** Marks the model idle, wakes whoever waits for that, and looks at the queues again. */
  private finishRun(): void {
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
    this.schedule(this.closed);
  }
}
