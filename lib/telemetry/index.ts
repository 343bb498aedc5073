// Process-wide tracing and metrics for the o2o services. startTelemetry() registers a NodeTracerProvider
// (resource service.name = o2o-<service>), the W3C trace-context propagator and the AsyncLocalStorage
// context manager globally, and exports spans over OTLP/HTTP and/or to a JSONL file. With neither
// configured nothing is registered and every tracer stays the API's no-op, so calling it costs nothing.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { JsonlMetricExporter } from './jsonl-metric-exporter.ts';
import { JsonlSpanProcessor } from './jsonl-span-processor.ts';
import { rebindServiceMetrics } from './metrics.ts';
import { registerSecretsFromEnv } from './redact.ts';
import { RedactingSpanExporter } from './redacting-exporter.ts';

export * from './grpc.ts';
export * from './metrics.ts';
export * from './nats.ts';
export {
  isSecretKey,
  REDACTED,
  redact,
  redactAttributes,
  redactString,
  registerSecret,
  registerSecretsFromEnv,
} from './redact.ts';
export type { SpanRecord } from './span-record.ts';

export interface TelemetryOptions {
  /** Short service name (`simulator`, `learner`, ...); the resource gets `service.name = o2o-<service>`. */
  service: string;
  /** OTLP/HTTP base endpoint (e.g. http://collector:4318); default $OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint?: string;
  /** One JSONL span file (several processes may append to it); default $O2O_TRACE_FILE. */
  spanFile?: string;
  /** A directory getting `<service>-<pid>.jsonl` per process; default $O2O_TRACE_DIR. */
  spanDir?: string;
  /** How often metrics are exported (ms); default $O2O_METRICS_INTERVAL_MS or 10000. */
  metricsIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** True when spans are exported somewhere (false: everything is a no-op). */
  readonly enabled: boolean;
  /** Where spans go, for the ready/log line: the JSONL path and/or the OTLP endpoint. */
  readonly spanPath: string | undefined;
  readonly metricsPath: string | undefined;
  readonly otlpEndpoint: string | undefined;
  /** Exports everything pending now. */
  flush(): Promise<void>;
  /** Flushes and unregisters the global providers (a later startTelemetry may register again). */
  shutdown(): Promise<void>;
}

let active: Telemetry | undefined;

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** `<base>/v1/<signal>` for an OTLP/HTTP base endpoint, validating it is an http(s) URL. */
export function otlpSignalUrl(endpoint: string, signal: 'traces' | 'metrics'): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT: not a URL: ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT: expected http:// or https://, got ${url.protocol}`);
  }
  return endpoint.replace(/\/+$/, '') + `/v1/${signal}`;
}

export function startTelemetry(opts: TelemetryOptions): Telemetry {
  if (!SERVICE_NAME.test(opts.service)) {
    throw new Error(
      `startTelemetry: service must match ${SERVICE_NAME}, got ${JSON.stringify(opts.service)}`,
    );
  }
  if (active !== undefined) {
    throw new Error('startTelemetry: telemetry is already running in this process; shut it down first');
  }
  const env = opts.env ?? process.env;
  registerSecretsFromEnv(env);
  const otlpEndpoint = nonEmpty(opts.otlpEndpoint) ?? nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  const spanDir = nonEmpty(opts.spanDir) ?? nonEmpty(env['O2O_TRACE_DIR']);
  const spanFile =
    nonEmpty(opts.spanFile) ??
    nonEmpty(env['O2O_TRACE_FILE']) ??
    (spanDir === undefined
      ? undefined
      : `${spanDir.replace(/\/+$/, '')}/${opts.service}-${process.pid}.jsonl`);
  const intervalText = env['O2O_METRICS_INTERVAL_MS'];
  const metricsIntervalMs =
    opts.metricsIntervalMs ?? (intervalText === undefined ? 10_000 : Number(intervalText));
  if (!Number.isInteger(metricsIntervalMs) || metricsIntervalMs < 100) {
    throw new Error(
      `O2O_METRICS_INTERVAL_MS: expected an integer >= 100, got ${JSON.stringify(intervalText)}`,
    );
  }

  if (otlpEndpoint === undefined && spanFile === undefined) {
    return {
      enabled: false,
      spanPath: undefined,
      metricsPath: undefined,
      otlpEndpoint: undefined,
      flush: async () => {},
      shutdown: async () => {},
    };
  }

  const resource = resourceFromAttributes({
    'service.name': `o2o-${opts.service}`,
    'service.namespace': 'o2o',
    'service.instance.id': `${opts.service}-${process.pid}`,
    'process.pid': process.pid,
  });

  const spanProcessors: SpanProcessor[] = [];
  const metricReaders: MetricReader[] = [];
  let metricsPath: string | undefined;
  if (otlpEndpoint !== undefined) {
    const exporter = new RedactingSpanExporter(
      new OTLPTraceExporter({ url: otlpSignalUrl(otlpEndpoint, 'traces') }),
    );
    spanProcessors.push(
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: 1000,
        maxQueueSize: 8192,
        maxExportBatchSize: 1024,
      }),
    );
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: otlpSignalUrl(otlpEndpoint, 'metrics') }),
        exportIntervalMillis: metricsIntervalMs,
      }),
    );
  }
  if (spanFile !== undefined) {
    spanProcessors.push(new JsonlSpanProcessor(spanFile));
    if (otlpEndpoint === undefined) {
      metricsPath = spanFile.replace(/\.jsonl$/, '') + '.metrics.jsonl';
      metricReaders.push(
        new PeriodicExportingMetricReader({
          exporter: new JsonlMetricExporter(metricsPath),
          exportIntervalMillis: metricsIntervalMs,
        }),
      );
    }
  }

  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() });
  const meterProvider = new MeterProvider({ resource, readers: metricReaders });
  metrics.setGlobalMeterProvider(meterProvider);
  rebindServiceMetrics();

  // A process that has no SIGINT/SIGTERM handler of its own would die without flushing: for it, flush
  // and then re-raise the signal with its default action. Services with their own handler call shutdown().
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const onSignal = (signal: NodeJS.Signals): void => {
    const alone = process.listenerCount(signal) === 1;
    void flush().finally(() => {
      if (!alone) return;
      removeSignalHandlers();
      process.kill(process.pid, signal);
    });
  };
  const removeSignalHandlers = (): void => {
    for (const s of signals) process.off(s, onSignal);
  };
  for (const s of signals) process.on(s, onSignal);

  const flush = async (): Promise<void> => {
    await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
  };

  let stopped: Promise<void> | undefined;
  const telemetry: Telemetry = {
    enabled: true,
    spanPath: spanFile,
    metricsPath,
    otlpEndpoint,
    flush,
    shutdown: () => {
      stopped ??= (async () => {
        removeSignalHandlers();
        await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
        if (active === telemetry) active = undefined;
      })();
      return stopped;
    },
  };
  active = telemetry;
  return telemetry;
}
