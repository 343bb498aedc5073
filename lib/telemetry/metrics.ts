// The metrics every service records, under one naming scheme. The OpenTelemetry API hands out no-op
// instruments until a meter provider is registered, and they stay no-ops; so serviceMetrics() binds its
// instruments to whichever provider is registered when they are used, and may be called before
// startTelemetry.
import { type Attributes, type Histogram, type Meter, type MeterProvider, metrics } from '@opentelemetry/api';

/** The meter for one service (`o2o-<service>`) from the provider registered now. */
export function meter(service: string): Meter {
  return metrics.getMeter(`o2o-${service}`);
}

export interface ServiceMetrics {
  /** Environment steps taken (simulator, learner rollouts): counter `o2o.env.steps`. */
  steps: { add(value: number, attributes?: Attributes): void };
  /** Gradient updates (learner, world-model training): counter `o2o.updates`. */
  updates: { add(value: number, attributes?: Attributes): void };
  /** Latency of one world-model prediction batch, in milliseconds: histogram `o2o.wm.predict.duration`. */
  predictLatencyMs: { record(value: number, attributes?: Attributes): void };
  /**
   * Reports `read()` as the gauge `o2o.queue.depth{queue}` at every export. Returns a function that
   * stops observing it.
   */
  observeQueueDepth(queue: string, read: () => number): () => void;
}

const rebinders = new Set<() => void>();

/** Called by startTelemetry once its meter provider is registered. */
export function rebindServiceMetrics(): void {
  for (const rebind of rebinders) rebind();
}

const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export function serviceMetrics(service: string): ServiceMetrics {
  const queues = new Map<string, () => number>();
  const observeQueues = (result: { observe(value: number, attrs: Attributes): void }): void => {
    for (const [queue, read] of queues) {
      const value = read();
      if (Number.isFinite(value)) result.observe(value, { queue });
    }
  };
  let bound: ReturnType<typeof bind> | undefined;
  function bind(provider: MeterProvider) {
    const m = provider.getMeter(`o2o-${service}`);
    m.createObservableGauge('o2o.queue.depth', {
      description: 'items waiting in a queue',
      unit: '{item}',
    }).addCallback(observeQueues);
    return {
      provider,
      steps: m.createCounter('o2o.env.steps', { description: 'environment steps', unit: '{step}' }),
      updates: m.createCounter('o2o.updates', { description: 'gradient updates', unit: '{update}' }),
      predict: m.createHistogram('o2o.wm.predict.duration', {
        description: 'world-model prediction batch latency',
        unit: 'ms',
        advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
      }),
    };
  }
  const current = () => {
    const provider = metrics.getMeterProvider();
    if (bound === undefined || bound.provider !== provider) bound = bind(provider);
    return bound;
  };
  // Queue gauges are read by the provider, not driven by calls: rebind them when telemetry starts.
  rebinders.add(() => {
    if (queues.size > 0) current();
  });
  return {
    steps: { add: (value, attributes) => current().steps.add(value, attributes) },
    updates: { add: (value, attributes) => current().updates.add(value, attributes) },
    predictLatencyMs: { record: (value, attributes) => current().predict.record(value, attributes) },
    observeQueueDepth: (queue, read) => {
      current();
      queues.set(queue, read);
      return () => queues.delete(queue);
    },
  };
}

let rpcHistogram: { provider: unknown; histogram: Histogram } | undefined;

/**
 * The `o2o.rpc.server.duration` histogram of the currently registered meter provider (re-created when
 * telemetry starts or stops), for the gRPC wrappers to record every handled call.
 */
export function rpcServerDuration(): Histogram {
  const provider = metrics.getMeterProvider();
  if (rpcHistogram === undefined || rpcHistogram.provider !== provider) {
    const histogram = provider.getMeter('o2o-grpc').createHistogram('o2o.rpc.server.duration', {
      description: 'handled RPC duration',
      unit: 'ms',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    rpcHistogram = { provider, histogram };
  }
  return rpcHistogram.histogram;
}
