// The JSONL span format (one JSON object per line) written by the file exporter and read by
// `o2o trace summary`. Times are nanoseconds since the Unix epoch as decimal strings, because they exceed
// 2^53; durationMs is there for convenience.

import type { HrTime } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { redactAttributes, redactString } from './redact.ts';

export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** `service.name` of the emitting process, e.g. `o2o-learner`. */
  service: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  startNs: string;
  endNs: string;
  durationMs: number;
  attributes: Record<string, unknown>;
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string };
  events: { name: string; timeNs: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
}

const KIND_NAMES: Record<SpanKind, SpanRecord['kind']> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

const STATUS_NAMES: Record<SpanStatusCode, SpanRecord['status']['code']> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

/** [seconds, nanoseconds] as decimal nanoseconds (string concatenation: cheaper than BigInt per span). */
export function hrTimeToNsString(t: HrTime): string {
  const [seconds, nanos] = t;
  if (seconds === 0) return String(nanos);
  return `${seconds}${String(nanos).padStart(9, '0')}`;
}

/** One finished span as a (redacted) SpanRecord. */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  const parent = span.parentSpanContext;
  const service = span.resource.attributes['service.name'];
  const record: SpanRecord = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    name: redactString(span.name),
    service: typeof service === 'string' ? service : 'unknown',
    kind: KIND_NAMES[span.kind] ?? 'INTERNAL',
    startNs: hrTimeToNsString(span.startTime),
    endNs: hrTimeToNsString(span.endTime),
    durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
    attributes: redactAttributes(span.attributes),
    status: { code: STATUS_NAMES[span.status.code] ?? 'UNSET' },
    events: span.events.map((e) => ({
      name: redactString(e.name),
      timeNs: hrTimeToNsString(e.time),
      attributes: redactAttributes(e.attributes ?? {}),
    })),
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: redactAttributes(l.attributes ?? {}),
    })),
  };
  if (parent !== undefined) record.parentSpanId = parent.spanId;
  if (span.status.message !== undefined && span.status.message !== '') {
    record.status.message = redactString(span.status.message);
  }
  return record;
}
