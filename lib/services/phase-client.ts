// The coordinator's side of a phase: publish a PhaseRequest into JetStream and wait for the PhaseResult
// with the same (run_id, phase, attempt). The request's msgID is run_id/phase/attempt, so re-publishing
// it (e.g. after a coordinator restart) is de-duplicated by the server, and results are read from the
// start of the stream, so a result published while nobody was waiting is still found. Survives a
// nats-server restart: the publish is retried (de-duplicated by its msgID) and the result reader, which
// lives in the server's memory, is made anew after a reconnect.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  type NatsConnection,
  nanos,
  headers as natsHeaders,
} from 'nats';
import { Phase, PhaseProgress, PhaseRequest, PhaseResult } from '../../generated/proto/o2o/v1/events.js';
import { injectIntoNatsHeaders } from '../telemetry/propagation.ts';
import { ensurePhaseStream } from './phase-stream.ts';
import { PHASE_STREAM, phaseToken, subjects } from './subjects.ts';

export class PhaseTimeoutError extends Error {}

export interface RequestPhaseOptions {
  /** Give up waiting for the result after this long (ms). */
  timeoutMs: number;
  /** Called for every PhaseProgress of this run and phase. */
  onProgress?: (progress: PhaseProgress) => void;
  /** Tracer name for the PRODUCER span (default o2o-coordinator). */
  tracerName?: string;
  /** Stops waiting (rejects) when aborted, e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

export function phaseMsgId(request: Pick<PhaseRequest, 'runId' | 'phase' | 'attempt'>): string {
  return `${request.runId}/${phaseToken(request.phase)}/${request.attempt}`;
}

function matches(result: PhaseResult, request: PhaseRequest): boolean {
  return (
    result.runId === request.runId && result.phase === request.phase && result.attempt === request.attempt
  );
}

/**
 * An ephemeral, unacknowledged consumer over a phase's results from the start of the stream (removed by
 * the server a minute after its reader goes away). Explicit rather than an ordered consumer: nats.js's
 * ordered consumer sends a start sequence with deliver-all, which nats-server 2.9 rejects.
 */
export async function resultReader(nc: NatsConnection, phase: Phase): Promise<Consumer> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.consumers.add(PHASE_STREAM, {
    filter_subject: subjects.phaseResult(phase),
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.None,
    mem_storage: true,
    inactive_threshold: nanos(60_000),
  });
  return await nc.jetstream().consumers.get(PHASE_STREAM, info.name);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function requestPhase(
  nc: NatsConnection,
  request: PhaseRequest,
  opts: RequestPhaseOptions,
): Promise<PhaseResult> {
  if (request.runId.trim() === '') throw new Error('requestPhase: run_id is empty');
  const token = phaseToken(request.phase);
  if (!(opts.timeoutMs > 0)) throw new Error(`requestPhase: timeoutMs must be > 0, got ${opts.timeoutMs}`);
  const tracer = trace.getTracer(opts.tracerName ?? 'o2o-coordinator');
  const js = nc.jetstream();

  const progressSub = nc.subscribe(subjects.phaseProgress(request.phase), {
    callback: (err, msg) => {
      if (err !== null || opts.onProgress === undefined) return;
      try {
        const p = PhaseProgress.decode(msg.data);
        if (p.runId === request.runId && p.phase === request.phase) opts.onProgress(p);
      } catch {
        // a malformed progress event is not worth failing a phase for
      }
    },
  });

  let stopReason: Error | undefined;
  const stopWith = (err: Error): void => {
    stopReason ??= err;
  };
  const timer = setTimeout(
    () =>
      stopWith(
        new PhaseTimeoutError(
          `no ${token} result for run ${request.runId} (attempt ${request.attempt}) within ${opts.timeoutMs} ms` +
            ' — is the service handling this phase running?',
        ),
      ),
    opts.timeoutMs,
  );
  const onAbort = (): void => stopWith(new Error(`${token} request for ${request.runId} aborted`));
  if (opts.signal?.aborted === true) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // A nats-server restart drops the (in-memory) result reader: after a reconnect, make a new one.
  let reconnected = false;
  let finished = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (finished) break; // ends this watcher at the connection's next status event
      if (s.type === 'reconnect') reconnected = true;
    }
  })().catch(() => {});
  try {
    /** Runs `step` until it succeeds, retrying while NATS is away, until the timeout or an abort. */
    const retrying = async <T>(step: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await step();
        } catch (err) {
          if (nc.isClosed()) throw err;
          if (stopReason instanceof PhaseTimeoutError) {
            throw new PhaseTimeoutError(`${stopReason.message} (last NATS error: ${(err as Error).message})`);
          }
          if (stopReason !== undefined) throw stopReason;
          await sleep(500);
        }
      }
    };
    await retrying(async () => ensurePhaseStream(await nc.jetstreamManager()));
    // Created before publishing, and reading from the start, so the result cannot slip past.
    let reader: Consumer | undefined = await retrying(() => resultReader(nc, request.phase));
    await tracer.startActiveSpan(
      `${subjects.phaseRequest(request.phase)} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': subjects.phaseRequest(request.phase),
          'o2o.run_id': request.runId,
          'o2o.phase': token,
          'o2o.attempt': request.attempt,
        },
      },
      async (span) => {
        try {
          // The msgID makes a repeat after a lost acknowledgement a no-op.
          await retrying(() =>
            js.publish(subjects.phaseRequest(request.phase), PhaseRequest.encode(request).finish(), {
              msgID: phaseMsgId(request),
              headers: injectIntoNatsHeaders(natsHeaders()),
            }),
          );
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      },
    );
    for (;;) {
      if (stopReason !== undefined) throw stopReason;
      try {
        if (reconnected) {
          reconnected = false;
          reader = undefined;
        }
        reader ??= await resultReader(nc, request.phase);
        const batch = await reader.fetch({ max_messages: 256, expires: 1000 });
        for await (const msg of batch) {
          let result: PhaseResult;
          try {
            result = PhaseResult.decode(msg.data);
          } catch {
            continue; // not ours to judge; skip what cannot be decoded
          }
          if (matches(result, request)) return result;
        }
      } catch {
        // The reader or the connection is gone (e.g. nats-server restarting): read again with a new reader.
        reader = undefined;
        await sleep(500);
      }
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    progressSub.unsubscribe();
    finished = true;
  }
}

export { Phase };
