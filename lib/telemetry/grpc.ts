// Tracing for grpc-js servers and clients. A server handler wrapped with traceUnaryHandler runs inside a
// SERVER span whose parent is the trace context in the call's metadata; a client wraps its call in
// traceClientCall (a CLIENT span) and sends tracedMetadata(), so the two join into one trace.
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { FloatBatchError } from '../services/float-batch.ts';
import { rpcServerDuration } from './metrics.ts';
import { extractFromMetadata, injectIntoMetadata } from './propagation.ts';
import { redactString } from './redact.ts';

/** The gRPC status an error maps to: its own numeric `code`, INVALID_ARGUMENT for bad batches, else INTERNAL. */
export function grpcStatusOf(err: unknown): status {
  if (err instanceof FloatBatchError) return status.INVALID_ARGUMENT;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16) return code as status;
  return status.INTERNAL;
}

/** An error carrying a gRPC status, for handlers to throw (e.g. `grpcError(status.INVALID_ARGUMENT, ...)`). */
export function grpcError(code: status, message: string): ServerErrorResponse {
  const err = new Error(message) as ServerErrorResponse;
  err.code = code;
  return err;
}

function errorMessage(err: unknown): string {
  return redactString(err instanceof Error ? err.message : String(err));
}

function endWithStatus(span: Span, code: status, err?: unknown): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (code !== status.OK) {
    const message = err === undefined ? status[code] : errorMessage(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    if (err instanceof Error) {
      span.addEvent('exception', { 'exception.type': err.name, 'exception.message': errorMessage(err) });
    }
  }
  span.end();
}

/** Records a handled call's duration (ms since `started`, from performance.now()). */
function recordServerDuration(methodName: string, code: status, started: number): void {
  rpcServerDuration().record(performance.now() - started, {
    'rpc.method': methodName,
    'rpc.grpc.status_code': code,
  });
}

function rpcAttributes(methodName: string): Record<string, string> {
  const slash = methodName.lastIndexOf('/');
  return {
    'rpc.system': 'grpc',
    'rpc.service': slash < 0 ? '' : methodName.slice(0, slash),
    'rpc.method': slash < 0 ? methodName : methodName.slice(slash + 1),
  };
}

/** A unary handler that may be async; a throw or rejection before answering becomes an error status. */
export type UnaryHandler<Req, Res> = (
  call: ServerUnaryCall<Req, Res>,
  callback: sendUnaryData<Res>,
) => void | Promise<void>;

/**
 * Wraps a grpc-js unary handler in a SERVER span named `methodName` (e.g. `o2o.v1.WorldModel/Predict`)
 * whose parent comes from the call metadata. Records the status code and errors; an exception thrown by
 * the handler is answered with its status (grpcStatusOf) instead of crashing the server.
 */
export function traceUnaryHandler<Req, Res>(
  tracerName: string,
  methodName: string,
  handler: UnaryHandler<Req, Res>,
): handleUnaryCall<Req, Res> {
  const tracer = trace.getTracer(tracerName);
  return (call, callback) => {
    const parent = extractFromMetadata(call.metadata);
    const span = tracer.startSpan(
      methodName,
      { kind: SpanKind.SERVER, attributes: rpcAttributes(methodName) },
      parent,
    );
    const started = performance.now();
    let answered = false;
    const wrapped: sendUnaryData<Res> = (error, value, trailer, flags) => {
      if (answered) return;
      answered = true;
      const code = error ? (error.code ?? status.UNKNOWN) : status.OK;
      endWithStatus(span, code, error ?? undefined);
      recordServerDuration(methodName, code, started);
      callback(error, value, trailer, flags);
    };
    const fail = (err: unknown): void => {
      if (answered) return;
      wrapped(grpcError(grpcStatusOf(err), errorMessage(err)), null);
    };
    context.with(trace.setSpan(parent, span), () => {
      try {
        const result = handler(call, wrapped);
        if (result instanceof Promise) result.catch(fail);
      } catch (err) {
        fail(err);
      }
    });
  };
}

/**
 * The convenient form: `impl(request, call)` returns (or resolves to) the response; thrown errors become
 * statuses via grpcStatusOf (throw grpcError(status.INVALID_ARGUMENT, 'field x: ...') for bad input).
 */
export function tracedUnary<Req, Res>(
  tracerName: string,
  methodName: string,
  impl: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  return traceUnaryHandler<Req, Res>(tracerName, methodName, async (call, callback) => {
    const response = await impl(call.request, call);
    callback(null, response);
  });
}

/**
 * Wraps a server-streaming handler in a SERVER span that ends when the stream finishes, errors or is
 * cancelled by the client. The handler may be async; a throw ends the stream with an error status.
 */
export function traceServerStreamHandler<Req, Res>(
  tracerName: string,
  methodName: string,
  handler: (call: ServerWritableStream<Req, Res>) => void | Promise<void>,
): handleServerStreamingCall<Req, Res> {
  const tracer = trace.getTracer(tracerName);
  return (call) => {
    const parent = extractFromMetadata(call.metadata);
    const span = tracer.startSpan(
      methodName,
      { kind: SpanKind.SERVER, attributes: rpcAttributes(methodName) },
      parent,
    );
    const started = performance.now();
    let ended = false;
    const end = (code: status, err?: unknown): void => {
      if (ended) return;
      ended = true;
      endWithStatus(span, code, err);
      recordServerDuration(methodName, code, started);
    };
    call.once('finish', () => end(status.OK));
    call.once('cancelled', () => end(status.CANCELLED));
    call.once('error', (err: unknown) => end(grpcStatusOf(err), err));
    const fail = (err: unknown): void => {
      end(grpcStatusOf(err), err);
      // grpc-js turns an 'error' event on a server stream into the call's final status.
      if (!call.writableEnded) call.emit('error', grpcError(grpcStatusOf(err), errorMessage(err)));
    };
    context.with(trace.setSpan(parent, span), () => {
      try {
        const result = handler(call);
        if (result instanceof Promise) result.catch(fail);
      } catch (err) {
        fail(err);
      }
    });
  };
}

/** gRPC metadata carrying the active trace context (for client calls). */
export function tracedMetadata(md: Metadata = new Metadata()): Metadata {
  return injectIntoMetadata(md);
}

/**
 * Runs a client call inside a CLIENT span; `call(md)` gets metadata carrying that span's context. The
 * span records the status code of a failed call.
 */
export async function traceClientCall<T>(
  tracerName: string,
  methodName: string,
  call: (md: Metadata) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(tracerName);
  return await tracer.startActiveSpan(
    methodName,
    { kind: SpanKind.CLIENT, attributes: rpcAttributes(methodName) },
    async (span) => {
      try {
        const result = await call(tracedMetadata());
        endWithStatus(span, status.OK);
        return result;
      } catch (err) {
        endWithStatus(span, grpcStatusOf(err), err);
        throw err;
      }
    },
  );
}
