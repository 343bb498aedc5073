// A push metric exporter that appends one JSON line per exported metric data point to a file, for runs
// without an OTLP collector. Lines: {timeNs, service, scope, name, unit, type, attributes, value}, where
// value is a number (sums, gauges) or {count, sum, min, max, boundaries, counts} (histograms).
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { DataPointType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { redactAttributes } from './redact.ts';
import { hrTimeToNsString } from './span-record.ts';

export class JsonlMetricExporter implements PushMetricExporter {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const service = metrics.resource.attributes['service.name'];
    const lines: string[] = [];
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          let value: unknown;
          if (metric.dataPointType === DataPointType.HISTOGRAM) {
            const h = point.value as {
              count: number;
              sum?: number;
              min?: number;
              max?: number;
              buckets: { boundaries: number[]; counts: number[] };
            };
            value = {
              count: h.count,
              sum: h.sum,
              min: h.min,
              max: h.max,
              boundaries: h.buckets.boundaries,
              counts: h.buckets.counts,
            };
          } else if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
            const h = point.value as { count: number; sum?: number };
            value = { count: h.count, sum: h.sum };
          } else {
            value = point.value;
          }
          lines.push(
            JSON.stringify({
              timeNs: hrTimeToNsString(point.endTime),
              service,
              scope: scope.scope.name,
              name: metric.descriptor.name,
              unit: metric.descriptor.unit,
              type: DataPointType[metric.dataPointType],
              attributes: redactAttributes(point.attributes),
              value,
            }),
          );
        }
      }
    }
    try {
      if (lines.length > 0) appendFileSync(this.path, lines.join('\n') + '\n');
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
