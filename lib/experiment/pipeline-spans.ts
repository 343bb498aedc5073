// OpenTelemetry spans of one pipeline run (o2o train, a grid run): a root span for the run and one child per
// stage, so the in-process pipeline shows in the same trace tools as the services. Spans go wherever the
// process's telemetry sends them (lib/telemetry: O2O_TRACE_DIR, O2O_TRACE_FILE, OTEL_EXPORTER_OTLP_ENDPOINT);
// without any, the API's no-op tracer makes them free.
import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { envOptionsJson } from '../envs/env-options-text.ts';
import type { RunConfig } from './run-config.ts';
import type { MetricsRow } from './run-log.ts';

const tracer = trace.getTracer('o2o-pipeline');

/** What a run is, as span attributes (the services' names where they share one). */
export function runAttributes(config: RunConfig): Attributes {
  return {
    'o2o.env': config.env,
    'o2o.env_options': envOptionsJson(config.envOptions),
    'o2o.variant': config.variant,
    'o2o.pretrain': config.pretrain ?? 'none',
    'o2o.aug_fraction': config.augFraction,
    'o2o.seed': config.seed,
    ...(config.dataset === null ? {} : { 'o2o.dataset': config.dataset.file }),
    ...(config.dataset?.transitions == null ? {} : { 'o2o.dataset_transitions': config.dataset.transitions }),
    ...(config.worldModel === undefined ? {} : { 'o2o.world_model': config.worldModel }),
    ...(config.criticLayerNorm === true ? { 'o2o.critic_layer_norm': true } : {}),
  };
}

/**
 * Runs `fn` in an active span named `name`: a stage that returns 'interrupted' (checkpointed and stopped)
 * is marked so, a thrown error is recorded on the span and rethrown.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await fn(span);
      if (result === 'interrupted') span.setAttribute('o2o.interrupted', true);
      return result;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** An evaluation, as an event on the active stage span: where in the stage it came and what it measured. */
export function evaluationEvent(row: MetricsRow): void {
  trace.getActiveSpan()?.addEvent('evaluation', {
    'o2o.step': row.step,
    'o2o.return_mean': row.returnMean,
    'o2o.return_std': row.returnStd,
    ...(row.normalizedScore === null ? {} : { 'o2o.normalized_score': row.normalizedScore }),
  });
}
