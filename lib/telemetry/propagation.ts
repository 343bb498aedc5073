// Trace context across process boundaries: W3C `traceparent` / `tracestate` in gRPC metadata and in
// NATS message headers. Uses the globally registered propagator (startTelemetry registers W3C trace
// context); before that, or without telemetry, these are no-ops and cost nothing.
import type { Metadata } from '@grpc/grpc-js';
import {
  type Context,
  context,
  propagation,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import type { MsgHdrs } from 'nats';

const metadataSetter: TextMapSetter<Metadata> = {
  set: (md, key, value) => md.set(key, value),
};
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const v = md.get(key);
    if (v.length === 0) return undefined;
    return v.map((x) => (typeof x === 'string' ? x : x.toString('utf8')));
  },
};

/** Writes the active (or given) trace context into outgoing gRPC metadata. */
export function injectIntoMetadata(md: Metadata, ctx: Context = context.active()): Metadata {
  propagation.inject(ctx, md, metadataSetter);
  return md;
}

/** The trace context carried by incoming gRPC metadata (the root context when there is none). */
export function extractFromMetadata(md: Metadata): Context {
  return propagation.extract(context.active(), md, metadataGetter);
}

const natsSetter: TextMapSetter<MsgHdrs> = {
  set: (h, key, value) => h.set(key, value),
};
const natsGetter: TextMapGetter<MsgHdrs> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => (h.has(key) ? h.get(key) : undefined),
};

/** Writes the active (or given) trace context into NATS headers. */
export function injectIntoNatsHeaders(h: MsgHdrs, ctx: Context = context.active()): MsgHdrs {
  propagation.inject(ctx, h, natsSetter);
  return h;
}

/** The trace context carried by a NATS message's headers (the root context without headers). */
export function extractFromNatsHeaders(h: MsgHdrs | undefined): Context {
  if (h === undefined) return context.active();
  return propagation.extract(context.active(), h, natsGetter);
}

/**
 * The active (or given) trace context as environment variables for a child process: TRACEPARENT and
 * TRACESTATE, the names of OpenTelemetry's environment-variable carrier. Empty without telemetry.
 */
export function injectIntoEnv(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return Object.fromEntries(Object.entries(carrier).map(([key, value]) => [key.toUpperCase(), value]));
}

/** The trace context a parent process passed in TRACEPARENT / TRACESTATE (the active one without). */
export function extractFromEnv(env: NodeJS.ProcessEnv = process.env): Context {
  const carrier: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = env[key.toUpperCase()];
    if (value !== undefined && value !== '') carrier[key] = value;
  }
  return propagation.extract(context.active(), carrier);
}
