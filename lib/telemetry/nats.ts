// Trace context across NATS: publishers send natsHeadersWithContext() (or wrap the publish in
// traceNatsPublish, a PRODUCER span); consumers run their handler under the message's context with
// withNatsMessageContext, or in a CONSUMER span with traceNatsConsume.
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type Msg, type MsgHdrs, headers as natsHeaders } from 'nats';
import { extractFromNatsHeaders, injectIntoNatsHeaders } from './propagation.ts';
import { redactString } from './redact.ts';

/** NATS headers (new, or the given ones) carrying the active trace context. */
export function natsHeadersWithContext(h: MsgHdrs = natsHeaders()): MsgHdrs {
  return injectIntoNatsHeaders(h);
}

/** The trace context a received message carries. */
export function natsMessageContext(msg: Pick<Msg, 'headers'>): Context {
  return extractFromNatsHeaders(msg.headers);
}

/** Runs `fn` with the message's trace context active (spans started in it become its children). */
export function withNatsMessageContext<T>(msg: Pick<Msg, 'headers'>, fn: () => T): T {
  return context.with(natsMessageContext(msg), fn);
}

function failSpan(span: Span, err: unknown): void {
  const message = redactString(err instanceof Error ? err.message : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.addEvent('exception', {
    'exception.type': err instanceof Error ? err.name : 'Error',
    'exception.message': message,
  });
}

/**
 * Publishes inside a PRODUCER span named `<subject> publish`; `publish(h)` gets headers carrying that
 * span's context (pass them as the message headers).
 */
export async function traceNatsPublish<T>(
  tracerName: string,
  subject: string,
  publish: (h: MsgHdrs) => T | Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(tracerName);
  return await tracer.startActiveSpan(
    `${subject} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
    },
    async (span) => {
      try {
        return await publish(natsHeadersWithContext());
      } catch (err) {
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Handles a message inside a CONSUMER span (`<subject> process`) that is a child of the publisher's. */
export async function traceNatsConsume<T>(
  tracerName: string,
  msg: Pick<Msg, 'headers' | 'subject'>,
  handle: (span: Span) => T | Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(tracerName);
  return await tracer.startActiveSpan(
    `${msg.subject} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
    },
    natsMessageContext(msg),
    async (span) => {
      try {
        return await handle(span);
      } catch (err) {
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
