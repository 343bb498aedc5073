// Requests whose bytes do not decode as the method's message (garbage, truncated, a uint64 above 2^53
// that ts-proto's forceLong=number refuses) are the client's fault: answer INVALID_ARGUMENT naming the
// message, where grpc-js by itself answers INTERNAL "Error deserializing request" before any handler
// runs. Wrap a service with `strictDecoding(Service, handlers)` at `server.addService`.
import {
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { grpcError } from '../telemetry/grpc.ts';

const UNDECODABLE = Symbol('undecodable request');

interface Undecodable {
  [UNDECODABLE]: string;
}

function undecodable(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && UNDECODABLE in value
    ? (value as Undecodable)[UNDECODABLE]
    : undefined;
}

/** `definition` and `handlers` with decode failures turned into INVALID_ARGUMENT answers. */
export function strictDecoding<H extends UntypedServiceImplementation>(
  definition: ServiceDefinition,
  handlers: H,
): [ServiceDefinition, UntypedServiceImplementation] {
  const defs: Record<string, ServiceDefinition[string]> = {};
  const wrapped: UntypedServiceImplementation = {};
  for (const [key, def] of Object.entries(definition)) {
    const problem = (why: string) =>
      grpcError(status.INVALID_ARGUMENT, `request: not a valid ${def.path} request message (${why})`);
    defs[key] = {
      ...def,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return def.requestDeserialize(bytes);
        } catch (err) {
          return { [UNDECODABLE]: (err as Error).message || 'malformed' } satisfies Undecodable;
        }
      },
    };
    const handler = handlers[key] as ((...args: unknown[]) => unknown) | undefined;
    if (handler === undefined) continue;
    if (!def.requestStream) {
      if (!def.responseStream) {
        wrapped[key] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
          const why = undecodable(call.request);
          if (why !== undefined) callback(problem(why), null);
          else handler(call, callback);
        };
      } else {
        wrapped[key] = (call: ServerWritableStream<unknown, unknown>) => {
          const why = undecodable(call.request);
          if (why !== undefined) call.emit('error', problem(why));
          else handler(call);
        };
      }
    } else {
      // Streamed requests: a message that does not decode ends the call before the handler sees it.
      wrapped[key] = (call: ServerDuplexStream<unknown, unknown>) => {
        const on = call.on.bind(call);
        let ended = false;
        call.on = ((event: string, listener: (...args: unknown[]) => void) => {
          if (event !== 'data') return on(event, listener);
          return on('data', (message: unknown) => {
            if (ended) return; // the call already has its status; later messages are dropped
            const why = undecodable(message);
            if (why === undefined) return listener(message);
            ended = true;
            call.emit('error', problem(why));
          });
        }) as typeof call.on;
        handler(call);
      };
    }
  }
  return [defs as ServiceDefinition, wrapped];
}
