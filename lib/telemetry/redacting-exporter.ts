// Wraps a span exporter (OTLP) so that what leaves the process has its attributes, event attributes,
// names and status messages passed through redact(), exactly like the JSONL file.
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { redactAttributes, redactString } from './redact.ts';

export function redactSpan(span: ReadableSpan): ReadableSpan {
  const status =
    span.status.message === undefined
      ? span.status
      : { ...span.status, message: redactString(span.status.message) };
  return {
    name: redactString(span.name),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes: redactAttributes(span.attributes),
    links: span.links.map((l) => ({ ...l, attributes: redactAttributes(l.attributes ?? {}) })),
    events: span.events.map((e) => ({
      ...e,
      name: redactString(e.name),
      attributes: redactAttributes(e.attributes ?? {}),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export class RedactingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush?.();
  }
}
