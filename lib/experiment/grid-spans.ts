// OpenTelemetry spans of a grid invocation: a root span for the grid and one per run it starts, which the
// run's child process continues (TRACEPARENT in its environment; its pipeline spans, pipeline-spans.ts,
// become children of it), so one grid session is one trace across its processes. No-ops without telemetry.
import { type Context, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { injectIntoEnv } from '../telemetry/propagation.ts';
import type { GridRun } from './grid.ts';

const tracer = trace.getTracer('o2o-grid');

export type RunOutcome = { kind: 'done' } | { kind: 'stopped' } | { kind: 'failed'; message: string };

export class GridTrace {
  private readonly root: Span;
  private readonly rootContext: Context;

  constructor(specFile: string, attributes: { jobs: number; selected: number }) {
    this.root = tracer.startSpan(`grid ${specFile}`, {
      attributes: { 'o2o.spec': specFile, 'o2o.jobs': attributes.jobs, 'o2o.selected': attributes.selected },
    });
    this.rootContext = trace.setSpan(context.active(), this.root);
  }

  /** The span of a run about to start in a child process, and the environment that hands it over. */
  startRun(run: GridRun): { span: Span; env: Record<string, string> } {
    const span = tracer.startSpan(
      `grid run ${run.id}`,
      { attributes: { 'o2o.run_id': run.id, 'o2o.tier': run.tier, 'o2o.groups': run.groups.join(',') } },
      this.rootContext,
    );
    return { span, env: injectIntoEnv(trace.setSpan(this.rootContext, span)) };
  }

  endRun(span: Span, outcome: RunOutcome): void {
    span.setAttribute('o2o.outcome', outcome.kind);
    if (outcome.kind === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
    span.end();
  }

  end(counts: { finished: number; stopped: number; failed: number }): void {
    this.root.setAttributes({
      'o2o.finished': counts.finished,
      'o2o.stopped': counts.stopped,
      'o2o.failed': counts.failed,
    });
    if (counts.failed > 0)
      this.root.setStatus({ code: SpanStatusCode.ERROR, message: `${counts.failed} run(s) failed` });
    this.root.end();
  }
}
