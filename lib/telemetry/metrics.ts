// The metrics every service records, under one naming scheme. Instruments come from the global meter
// provider: create them AFTER startTelemetry (an instrument made before it stays a no-op for good).
import { type Counter, type Histogram, type Meter, metrics } from '@opentelemetry/api';

/** The meter for one service (`o2o-<service>`). */
export function meter(service: string): Meter {
  return metrics.getMeter(`o2o-${service}`);
}

export interface ServiceMetrics {
  /** Environment steps taken (simulator, learner rollouts). */
  steps: Counter;
  /** Gradient updates (learner, world-model training). */
  updates: Counter;
  /** Latency of one world-model prediction batch, in milliseconds. */
  predictLatencyMs: Histogram;
  /**
   * Reports `read()` as the gauge `o2o.queue.depth{queue}` at every export. Returns a function that
   * stops observing it.
   */
  observeQueueDepth(queue: string, read: () => number): () => void;
}

const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export function serviceMetrics(service: string): ServiceMetrics {
  const m = meter(service);
  const queueDepth = m.createObservableGauge('o2o.queue.depth', {
    description: 'items waiting in a queue',
    unit: '{item}',
  });
  return {
    steps: m.createCounter('o2o.env.steps', { description: 'environment steps', unit: '{step}' }),
    updates: m.createCounter('o2o.updates', { description: 'gradient updates', unit: '{update}' }),
    predictLatencyMs: m.createHistogram('o2o.wm.predict.duration', {
      description: 'world-model prediction batch latency',
      unit: 'ms',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    observeQueueDepth: (queue, read) => {
      const callback = (result: { observe(value: number, attrs: Record<string, string>): void }): void => {
        const value = read();
        if (Number.isFinite(value)) result.observe(value, { queue });
      };
      queueDepth.addCallback(callback);
      return () => queueDepth.removeCallback(callback);
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
