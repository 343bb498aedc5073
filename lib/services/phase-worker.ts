// A service's side of a phase: a durable JetStream pull consumer on o2o.phase.<phase>.request that runs
// a handler per request and publishes a PhaseResult. The request is acked only after its result is
// published, so a worker that dies mid-phase leaves it to be redelivered (to itself after a restart, or to
// another instance sharing the durable). A successful result is also stored in the run directory
// (phases/<phase>.result.json): a repeated request for the same (run_id, phase, attempt) is answered with
// it instead of being recomputed.
import { hostname } from 'node:os';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  type JsMsg,
  type NatsConnection,
  nanos,
  headers as natsHeaders,
} from 'nats';
import { Phase, PhaseProgress, PhaseRequest, PhaseResult } from '../../generated/proto/o2o/v1/events.js';
import { extractFromNatsHeaders, injectIntoNatsHeaders } from '../telemetry/propagation.ts';
import { ensurePhaseStream, loadResultRecord, resolveRunDir, saveResultRecord } from './phase-stream.ts';
import { PHASE_STREAM, phaseToken, subjects } from './subjects.ts';

export interface PhaseProgressUpdate {
  step: number;
  total: number;
  metrics?: Record<string, number>;
  message?: string;
}

export interface PhaseContext {
  request: PhaseRequest;
  /** The request's run directory, resolved (and confined to the worker's run root when one is set). */
  runDir: string;
  /** Publishes a PhaseProgress event (plain NATS; fire and forget). */
  progress(update: PhaseProgressUpdate): void;
  /** Aborted when the worker is stopped with `abandon`, so a long handler can give up early. */
  signal: AbortSignal;
}

export interface PhaseOutcome {
  outputs?: Record<string, string>;
  metrics?: Record<string, number>;
}

export type PhaseHandler = (ctx: PhaseContext) => Promise<PhaseOutcome>;

/**
 * Thrown by a handler that lost something it can get back (e.g. its simulator died): the request is
 * handed back (nak) to be redelivered after `delayMs`, with no result published, so the handler runs
 * again (resuming from its checkpoint). After `maxDeliveries` deliveries it fails like any error.
 */
export class PhaseRetryLater extends Error {
  override readonly name = 'PhaseRetryLater';
  constructor(
    message: string,
    readonly delayMs = 1_000,
  ) {
    super(message);
  }
}

export interface PhaseWorkerOptions {
  /** Durable consumer name; instances sharing it share the work. */
  durableName: string;
  /** Short service name, used in spans, logs and `handled_by`. */
  service: string;
  /** Directory every request's run_dir must be inside (O2O_RUN_ROOT); unset: any directory. */
  runRoot?: string;
  /** How long the server waits for an ack before redelivering (default 30 s; kept alive while working). */
  ackWaitMs?: number;
  /** Called with human-readable log lines (default: stderr prefixed `[<service>]`). */
  log?: (line: string) => void;
  /** Deliveries of one request a handler may hand back with PhaseRetryLater (default 5). */
  maxDeliveries?: number;
}

export interface PhaseWorkerHandle {
  /**
   * Stops fetching requests. By default waits for the request in hand to finish and be acked; with
   * `abandon` it aborts the handler's signal and naks the request so another worker gets it at once.
   */
  stop(opts?: { abandon?: boolean }): Promise<void>;
  /** Resolves when the worker loop has ended (after stop(), or on a fatal error, which it rejects with). */
  readonly done: Promise<void>;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function finiteMetrics(metrics: Record<string, number> | undefined, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${where}: metric ${JSON.stringify(k)} is not a finite number (${v})`);
    }
    out[k] = v;
  }
  return out;
}

export async function runPhaseWorker(
  nc: NatsConnection,
  phase: Phase,
  handler: PhaseHandler,
  opts: PhaseWorkerOptions,
): Promise<PhaseWorkerHandle> {
  const token = phaseToken(phase);
  const log = opts.log ?? ((line: string) => process.stderr.write(`[${opts.service}] ${line}\n`));
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const maxDeliveries = opts.maxDeliveries ?? 5;
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) {
    throw new Error(`runPhaseWorker: maxDeliveries must be an integer >= 1, got ${maxDeliveries}`);
  }
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < 100) {
    throw new Error(`runPhaseWorker: ackWaitMs must be an integer >= 100, got ${ackWaitMs}`);
  }
  const handledBy = `${opts.service}@${hostname()}:${process.pid}`;
  const tracer = trace.getTracer(`o2o-${opts.service}`);
  const jsm = await nc.jetstreamManager();
  await ensurePhaseStream(jsm);
  const consumerConfig = {
    durable_name: opts.durableName,
    filter_subject: subjects.phaseRequest(phase),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    // Each instance holds one request at a time (next() below); this only caps instances × 1.
    max_ack_pending: 256,
  };
  try {
    await jsm.consumers.add(PHASE_STREAM, consumerConfig);
  } catch (err) {
    // The durable exists with other settings (e.g. a different ack wait): update what may change.
    if (!/already in use|exists|different/i.test(describeError(err))) throw err;
    await jsm.consumers.update(PHASE_STREAM, opts.durableName, {
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 256,
    });
  }
  const js = nc.jetstream();
  const consumer = await js.consumers.get(PHASE_STREAM, opts.durableName);

  let stopping = false;
  let abort = new AbortController();
  let inFlight: JsMsg | undefined;

  const publishResult = async (result: PhaseResult): Promise<void> => {
    const h = injectIntoNatsHeaders(natsHeaders());
    await js.publish(subjects.phaseResult(phase), PhaseResult.encode(result).finish(), { headers: h });
  };

  const handleMessage = async (msg: JsMsg): Promise<void> => {
    let request: PhaseRequest;
    try {
      request = PhaseRequest.decode(msg.data);
    } catch (err) {
      log(`dropping an undecodable ${token} request: ${describeError(err)}`);
      msg.term();
      return;
    }
    const parent = extractFromNatsHeaders(msg.headers);
    // This request's signal: stop({abandon}) replaces the controller, so later checks must not re-read it.
    const signal = abort.signal;
    await tracer.startActiveSpan(
      `phase ${token}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': msg.subject,
          'o2o.run_id': request.runId,
          'o2o.phase': token,
          'o2o.attempt': request.attempt,
          'o2o.redelivered': msg.info.redeliveryCount > 1,
        },
      },
      parent,
      async (span) => {
        const started = performance.now();
        const keepAlive = setInterval(
          () => {
            // With the connection gone there is nothing to keep alive (the request will be redelivered).
            if (nc.isClosed()) clearInterval(keepAlive);
            else msg.working();
          },
          Math.max(50, Math.floor(ackWaitMs / 3)),
        );
        // An abandoned handler may never settle; its keep-alive must not outlive the abandonment.
        signal.addEventListener('abort', () => clearInterval(keepAlive), { once: true });
        try {
          let result: PhaseResult;
          const base = { runId: request.runId, phase, attempt: request.attempt, handledBy };
          try {
            if (request.phase !== phase) {
              throw new Error(`phase: request says ${Phase[request.phase]} on the ${token} subject`);
            }
            if (request.runId.trim() === '') throw new Error('run_id: empty');
            const runDir = resolveRunDir(request.runDir, opts.runRoot);
            const stored = loadResultRecord(runDir, phase, request.runId, request.attempt);
            if (stored !== undefined) {
              span.setAttribute('o2o.replayed', true);
              log(
                `${token} ${request.runId}#${request.attempt}: already done, re-publishing the stored result`,
              );
              result = stored;
            } else {
              const outcome = await handler({
                request,
                runDir,
                signal,
                progress: (u) => {
                  const p = PhaseProgress.fromPartial({
                    runId: request.runId,
                    phase,
                    step: Math.max(0, Math.floor(u.step)),
                    total: Math.max(0, Math.floor(u.total)),
                    metrics: Object.fromEntries(
                      Object.entries(u.metrics ?? {}).filter(([, v]) => Number.isFinite(v)),
                    ),
                    message: u.message ?? '',
                  });
                  nc.publish(subjects.phaseProgress(phase), PhaseProgress.encode(p).finish());
                },
              });
              if (signal.aborted) return; // abandoned: the nak below hands it to someone else
              result = PhaseResult.fromPartial({
                ...base,
                ok: true,
                outputs: outcome.outputs ?? {},
                metrics: finiteMetrics(outcome.metrics, `${token} result`),
                seconds: (performance.now() - started) / 1000,
              });
              saveResultRecord(runDir, result);
            }
          } catch (err) {
            if (signal.aborted) return;
            const delivery = msg.info.deliveryCount;
            if (err instanceof PhaseRetryLater && delivery < maxDeliveries) {
              log(
                `${token} ${request.runId}#${request.attempt}: ${err.message}; handed back for redelivery in ` +
                  `${err.delayMs} ms (delivery ${delivery}/${maxDeliveries})`,
              );
              span.setAttribute('o2o.handed_back', true);
              msg.nak(err.delayMs);
              return;
            }
            const message =
              err instanceof PhaseRetryLater
                ? `${err.message} (gave up after ${delivery} deliveries)`
                : describeError(err);
            span.setStatus({ code: SpanStatusCode.ERROR, message });
            log(`${token} ${request.runId}#${request.attempt} failed: ${message}`);
            result = PhaseResult.fromPartial({
              ...base,
              ok: false,
              error: message,
              seconds: (performance.now() - started) / 1000,
            });
          }
          await publishResult(result);
          await msg.ackAck();
        } finally {
          clearInterval(keepAlive);
          span.end();
        }
      },
    );
  };

  const loop = async (): Promise<void> => {
    while (!stopping && !nc.isClosed()) {
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: 1000 });
      } catch (err) {
        if (stopping || nc.isClosed()) return;
        log(`fetching ${token} requests failed (${describeError(err)}); retrying`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (msg === null) continue;
      if (stopping) {
        msg.nak();
        return;
      }
      inFlight = msg;
      try {
        await handleMessage(msg);
      } catch (err) {
        // Publishing or acking failed (e.g. the connection dropped): leave the request to be redelivered.
        log(`${token}: could not complete a request (${describeError(err)}); it will be redelivered`);
      } finally {
        inFlight = undefined;
      }
    }
  };

  const done = loop();
  return {
    done,
    stop: async (stopOpts = {}) => {
      stopping = true;
      if (stopOpts.abandon === true && inFlight !== undefined) {
        const msg = inFlight;
        abort.abort(new Error('worker stopping'));
        abort = new AbortController();
        msg.nak();
        return; // do not wait for a handler that may ignore its signal
      }
      await done;
    },
  };
}
