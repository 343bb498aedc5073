// The Simulator gRPC server over a SimulatorEngine. Unary handlers are traced and map thrown errors to
// statuses (lib/telemetry/grpc.ts); the transition stream serves batches from the engine's window in
// seq order, waiting for new ones and honouring the HTTP/2 flow control. One consumer at a time: a new
// StreamTransitions call (a reconnect) ends the previous one, which may be a half-dead connection.
import { Server, type ServerDuplexStream, type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  type SimStepRequest,
  type SimStepResponse,
  type SimulatorServer,
  SimulatorService,
  type StreamTransitionsRequest,
  type TransitionBatch,
} from '../../generated/proto/o2o/v1/simulator.js';
import { type ServerTls, serverCredentials } from '../../lib/services/grpc-security.ts';
import { strictDecoding } from '../../lib/services/strict-decoding.ts';
import { grpcError, grpcStatusOf, tracedUnary, traceServerStreamHandler } from '../../lib/telemetry/grpc.ts';
import { type EngineOptions, SimulatorEngine } from './engine.ts';

const TRACER = 'o2o-simulator';
const METHOD = (name: string) => `o2o.v1.Simulator/${name}`;
/** Large enough for a big actor snapshot or a 1024-env step; bigger requests are refused by grpc-js. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface RunningSimulator {
  engine: SimulatorEngine;
  /** host:port actually bound. */
  address: string;
  /** Stops accepting calls, ends open streams, waits for in-flight calls, frees the envs. */
  shutdown(): Promise<void>;
}

function logError(message: string): void {
  process.stderr.write(`[simulator] ${message}\n`);
}

export function simulatorHandlers(engine: SimulatorEngine): SimulatorServer {
  let consumer: ServerWritableStream<StreamTransitionsRequest, TransitionBatch> | undefined;

  const streamTransitions = async (
    call: ServerWritableStream<StreamTransitionsRequest, TransitionBatch>,
  ): Promise<void> => {
    const { fromSeq, maxBatchRows } = call.request;
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 0) {
      throw grpcError(status.INVALID_ARGUMENT, `from_seq: must be a non-negative integer, got ${fromSeq}`);
    }
    engine.openStream(maxBatchRows);
    const window = engine.window;
    if (fromSeq > window.nextSeq) {
      throw grpcError(
        status.INVALID_ARGUMENT,
        `from_seq: ${fromSeq} is beyond the next batch to be produced (${window.nextSeq})`,
      );
    }
    // Everything before from_seq was received by the consumer: release it.
    if (fromSeq > window.oldestSeq) window.ack(fromSeq - 1);
    if (consumer !== undefined && !consumer.writableEnded) {
      consumer.destroy(grpcError(status.ABORTED, 'a newer StreamTransitions call replaced this one'));
    }
    consumer = call;
    let gone = false;
    let stop = () => {};
    const disconnected = new Promise<void>((resolve) => {
      stop = () => {
        gone = true;
        resolve();
      };
    });
    call.once('cancelled', stop);
    call.once('close', stop);
    call.once('error', stop);
    let cursor = Math.max(fromSeq, window.oldestSeq);
    while (!gone && consumer === call) {
      // Batches acked by someone else meanwhile are skipped, never re-sent.
      cursor = Math.max(cursor, window.oldestSeq);
      const batch = window.get(cursor);
      if (batch === undefined) {
        if (window.isClosed) break;
        await Promise.race([window.changed(), disconnected]);
        continue;
      }
      cursor++;
      if (!call.write(batch)) {
        await Promise.race([new Promise<void>((resolve) => call.once('drain', resolve)), disconnected]);
      }
    }
    if (!gone && consumer === call && !call.writableEnded) call.end();
    if (consumer === call) consumer = undefined;
  };

  const lockstep = (call: ServerDuplexStream<SimStepRequest, SimStepResponse>): void => {
    let failed = false;
    call.on('data', (req: SimStepRequest) => {
      if (failed) return; // the stream already ended with the first failure's status
      try {
        // A client that sends without reading answers stops being read (bounded buffering).
        if (!call.write(engine.step(req))) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      } catch (err) {
        // An 'error' event becomes the call's status (grpc-js); destroy() would drop it and leave the
        // client waiting for its deadline.
        failed = true;
        call.emit('error', grpcError(grpcStatusOf(err), (err as Error).message));
      }
    });
    call.on('end', () => {
      if (!failed) call.end();
    });
    call.on('error', () => {});
  };

  return {
    info: tracedUnary(TRACER, METHOD('Info'), () => engine.info()),
    reset: tracedUnary(TRACER, METHOD('Reset'), (req) => engine.reset(req)),
    step: tracedUnary(TRACER, METHOD('Step'), (req) => engine.step(req)),
    lockstep,
    setPolicy: tracedUnary(TRACER, METHOD('SetPolicy'), (req) => engine.setPolicy(req)),
    streamTransitions: traceServerStreamHandler(TRACER, METHOD('StreamTransitions'), streamTransitions),
    ack: tracedUnary(TRACER, METHOD('Ack'), (req) => engine.ack(req.seq)),
  };
}

/** Builds the engine, binds `listen` (host:port, port 0 = any) and starts serving (TLS with `tls`). */
export async function startSimulatorServer(
  options: EngineOptions,
  listen: string,
  tls?: ServerTls,
): Promise<RunningSimulator> {
  const engine = new SimulatorEngine(options);
  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(...strictDecoding(SimulatorService, simulatorHandlers(engine)));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(listen, serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    await engine.close();
    throw new Error(`O2O_LISTEN=${listen}: cannot bind: ${(err as Error).message}`);
  }
  const host = listen.slice(0, listen.lastIndexOf(':'));
  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      // Closing the window ends the transition streams; then in-flight calls drain.
      await engine.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logError('calls still open after 5 s; forcing the server down');
          server.forceShutdown();
          resolve();
        }, 5000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    })();
    return stopped;
  };
  return { engine, address: `${host}:${port}`, shutdown };
}
