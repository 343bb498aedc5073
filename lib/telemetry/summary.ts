// Reads the JSONL span files written by lib/telemetry (one file, or a directory of `<service>-<pid>.jsonl`)
// and summarises them: per service and operation, counts, errors and p50/p99 durations; per trace, the
// services it crossed and whether every parent span is present. Used by `o2o trace summary`, the
// coordinator's report and the end-to-end tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SpanRecord } from './span-record.ts';

const spanRecordSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/, 'traceId must be 32 lowercase hex digits'),
  spanId: z.string().regex(/^[0-9a-f]{16}$/, 'spanId must be 16 lowercase hex digits'),
  parentSpanId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  name: z.string(),
  service: z.string(),
  kind: z.enum(['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']),
  startNs: z.string().regex(/^\d+$/),
  endNs: z.string().regex(/^\d+$/),
  durationMs: z.number().finite().nonnegative(),
  attributes: z.record(z.string(), z.unknown()),
  status: z.object({ code: z.enum(['UNSET', 'OK', 'ERROR']), message: z.string().optional() }),
  events: z.array(z.unknown()),
  links: z.array(z.unknown()),
});

export interface SpanFileContents {
  files: string[];
  spans: SpanRecord[];
  /** `file:line: reason` for every line that was not a valid span record. */
  malformed: string[];
}

/** The span files at `path`: the file itself, or a directory's `*.jsonl` (not `*.metrics.jsonl`). */
export function spanFilesAt(path: string): string[] {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    throw new Error(`no span file or directory at ${path}`);
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.jsonl') && !f.endsWith('.metrics.jsonl'))
    .sort()
    .map((f) => join(path, f));
}

export function readSpanFiles(path: string): SpanFileContents {
  const files = spanFilesAt(path);
  const spans: SpanRecord[] = [];
  const malformed: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        malformed.push(`${file}:${i + 1}: not JSON`);
        return;
      }
      const parsed = spanRecordSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        malformed.push(`${file}:${i + 1}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
        return;
      }
      spans.push(parsed.data as SpanRecord);
    });
  }
  return { files, spans, malformed };
}

export interface OperationStats {
  service: string;
  name: string;
  kind: SpanRecord['kind'];
  count: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface TraceInfo {
  traceId: string;
  spans: number;
  /** Sorted service names seen in the trace. */
  services: string[];
  /** Name of the root span (no parent), when it is in the files. */
  root: string | undefined;
  /** From the earliest start to the latest end, in ms. */
  durationMs: number;
  /** Spans whose parent span is not in the files (0 when the trace is complete). */
  missingParents: number;
  errors: number;
}

export interface TraceSummary {
  files: string[];
  spans: number;
  services: string[];
  operations: OperationStats[];
  traces: TraceInfo[];
  malformed: string[];
}

/** Nearest-rank percentile of ascending `sorted` (q in [0, 1]). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarizeSpans(contents: SpanFileContents): TraceSummary {
  const byOperation = new Map<
    string,
    { service: string; name: string; kind: SpanRecord['kind']; d: number[]; errors: number }
  >();
  const byTrace = new Map<string, SpanRecord[]>();
  for (const span of contents.spans) {
    const key = `${span.service}\u0000${span.name}\u0000${span.kind}`;
    let op = byOperation.get(key);
    if (op === undefined) {
      op = { service: span.service, name: span.name, kind: span.kind, d: [], errors: 0 };
      byOperation.set(key, op);
    }
    op.d.push(span.durationMs);
    if (span.status.code === 'ERROR') op.errors++;
    let list = byTrace.get(span.traceId);
    if (list === undefined) {
      list = [];
      byTrace.set(span.traceId, list);
    }
    list.push(span);
  }

  const operations: OperationStats[] = [...byOperation.values()]
    .map((op) => {
      const sorted = op.d.sort((a, b) => a - b);
      return {
        service: op.service,
        name: op.name,
        kind: op.kind,
        count: sorted.length,
        errors: op.errors,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        maxMs: sorted[sorted.length - 1]!,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));

  const traces: { info: TraceInfo; start: bigint }[] = [];
  for (const [traceId, spans] of byTrace) {
    const ids = new Set(spans.map((s) => s.spanId));
    let start = BigInt(spans[0]!.startNs);
    let end = BigInt(spans[0]!.endNs);
    for (const s of spans) {
      const a = BigInt(s.startNs);
      const b = BigInt(s.endNs);
      if (a < start) start = a;
      if (b > end) end = b;
    }
    traces.push({
      start,
      info: {
        traceId,
        spans: spans.length,
        services: [...new Set(spans.map((s) => s.service))].sort(),
        root: spans.find((s) => s.parentSpanId === undefined)?.name,
        durationMs: Number(end - start) / 1e6,
        missingParents: spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId)).length,
        errors: spans.filter((s) => s.status.code === 'ERROR').length,
      },
    });
  }
  traces.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));

  return {
    files: contents.files,
    spans: contents.spans.length,
    services: [...new Set(contents.spans.map((s) => s.service))].sort(),
    operations,
    traces: traces.map((t) => t.info),
    malformed: contents.malformed,
  };
}

/** Reads and summarises the span files at `path`. */
export function summarizeTraceFiles(path: string): TraceSummary {
  return summarizeSpans(readSpanFiles(path));
}

/** The traces that contain spans from every one of `services` (full `o2o-<name>` service names). */
export function tracesSpanning(summary: TraceSummary, services: string[]): TraceInfo[] {
  return summary.traces.filter((t) => services.every((s) => t.services.includes(s)));
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

/** Columns padded to their widest cell; the `left` ones left-aligned, the others right-aligned. */
function table(header: string[], rows: string[][], left: number[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * A human-readable report; `maxTraces` limits the per-trace list (traces across the most services first,
 * then the largest).
 */
export function formatTraceSummary(summary: TraceSummary, maxTraces = 20): string {
  const out: string[] = [];
  out.push(
    `${summary.spans} spans in ${summary.traces.length} traces from ${summary.files.length} file(s); ` +
      `services: ${summary.services.join(', ') || '(none)'}`,
  );
  if (summary.malformed.length > 0)
    out.push(`${summary.malformed.length} malformed line(s), e.g. ${summary.malformed[0]}`);
  out.push('');
  out.push(
    table(
      ['service', 'operation', 'kind', 'count', 'errors', 'p50 ms', 'p99 ms', 'max ms'],
      summary.operations.map((o) => [
        o.service,
        o.name,
        o.kind,
        String(o.count),
        String(o.errors),
        fmtMs(o.p50Ms),
        fmtMs(o.p99Ms),
        fmtMs(o.maxMs),
      ]),
      [0, 1, 2],
    ),
  );
  const shown = [...summary.traces]
    .sort((a, b) => b.services.length - a.services.length || b.spans - a.spans)
    .slice(0, maxTraces);
  if (shown.length > 0) {
    out.push('');
    out.push(
      table(
        ['trace', 'root', 'spans', 'errors', 'missing parents', 'ms', 'services'],
        shown.map((t) => [
          t.traceId,
          t.root ?? '(root not recorded)',
          String(t.spans),
          String(t.errors),
          String(t.missingParents),
          fmtMs(t.durationMs),
          t.services.join(','),
        ]),
        [0, 1, 6],
      ).replace(/ +$/gm, ''),
    );
    if (shown.length < summary.traces.length)
      out.push(`(${summary.traces.length - shown.length} more traces)`);
  }
  return out.join('\n');
}
