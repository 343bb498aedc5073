// The gRPC wrappers in one process: status codes and errors on SERVER spans, handler exceptions answered
// instead of crashing the server, server-streaming spans that end on finish, error and cancellation.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClientReadableStream,
  credentials,
  type Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { FloatBatchError } from '../../lib/services/float-batch.ts';
import {
  grpcError,
  startTelemetry,
  type Telemetry,
  traceClientCall,
  tracedMetadata,
  tracedUnary,
  traceServerStreamHandler,
} from '../../lib/telemetry/index.ts';
import type { SpanRecord } from '../../lib/telemetry/span-record.ts';
import { readSpanFiles } from '../../lib/telemetry/summary.ts';
import {
  ECHO_METHOD,
  EchoClient,
  type EchoMessage,
  echoDefinition,
  REPEAT_METHOD,
} from './fixtures/echo-definition.ts';

interface Echo {
  Echo(
    req: EchoMessage,
    md: Metadata,
    opts: { deadline: number },
    cb: (e: ServiceError | null, r?: EchoMessage) => void,
  ): void;
  Repeat(req: EchoMessage, md: Metadata): ClientReadableStream<EchoMessage>;
  close(): void;
}

describe('telemetry: gRPC handler wrappers', () => {
  let dir: string;
  let telemetry: Telemetry;
  let server: Server;
  let client: Echo;
  let spans: SpanRecord[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-grpc-spans-'));
    telemetry = startTelemetry({ service: 'grpc-test', spanDir: dir });
    server = new Server();
    server.addService(echoDefinition, {
      Echo: tracedUnary<EchoMessage, EchoMessage>('o2o-grpc-test', ECHO_METHOD, (req) => {
        if (req.text === 'boom') throw new Error('handler bug');
        if (req.text === 'batch') throw new FloatBatchError('states: expected 3 columns, got 2');
        if (req.text === 'denied') throw grpcError(status.PERMISSION_DENIED, 'text: not allowed');
        return { text: req.text.toUpperCase() };
      }),
      Repeat: traceServerStreamHandler<EchoMessage, EchoMessage>(
        'o2o-grpc-test',
        REPEAT_METHOD,
        async (call) => {
          const count = call.request.count ?? 0;
          if (count < 0) throw grpcError(status.INVALID_ARGUMENT, 'count: must be >= 0');
          for (let i = 0; i < count; i++) {
            if (call.cancelled) return;
            call.write({ text: `${call.request.text}${i}` });
            await new Promise((r) => setTimeout(r, 5));
          }
          call.end();
        },
      ),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    client = new EchoClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Echo;
  });

  after(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await telemetry.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const echo = (text: string): Promise<EchoMessage> =>
    traceClientCall('o2o-grpc-test', ECHO_METHOD, (md) => {
      return new Promise((resolve, reject) =>
        client.Echo({ text }, md, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r!))),
      );
    });

  const collect = (stream: ClientReadableStream<EchoMessage>): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const got: string[] = [];
      stream.on('data', (m: EchoMessage) => got.push(m.text));
      stream.on('error', reject);
      stream.on('end', () => resolve(got));
    });

  it('answers unary calls and maps handler exceptions to statuses without crashing the server', async () => {
    assert.equal((await echo('hi')).text, 'HI');
    const codes: [string, status, RegExp][] = [
      ['boom', status.INTERNAL, /handler bug/],
      ['batch', status.INVALID_ARGUMENT, /^states: expected 3 columns/],
      ['denied', status.PERMISSION_DENIED, /^text: not allowed/],
    ];
    for (const [text, code, details] of codes) {
      const err = (await echo(text).catch((e: unknown) => e)) as ServiceError;
      assert.equal(err.code, code, text);
      assert.match(err.details, details);
    }
    assert.equal((await echo('still up')).text, 'STILL UP', 'the server survives handler exceptions');
  });

  it('streams, and ends stream spans on finish, on error and on cancellation', async () => {
    assert.deepEqual(await collect(client.Repeat({ text: 'r', count: 3 }, tracedMetadata())), [
      'r0',
      'r1',
      'r2',
    ]);
    const err = (await collect(client.Repeat({ text: 'r', count: -1 }, tracedMetadata())).catch(
      (e) => e,
    )) as ServiceError;
    assert.equal(err.code, status.INVALID_ARGUMENT);
    const long = client.Repeat({ text: 'c', count: 1000 }, tracedMetadata());
    await new Promise<void>((resolve) => long.once('data', () => resolve()));
    long.on('error', () => {});
    long.cancel();
    await new Promise((r) => setTimeout(r, 100));
  });

  it('recorded one SERVER span per call with its status code, parented by the CLIENT span', async () => {
    await telemetry.flush();
    spans = readSpanFiles(dir).spans;
    const servers = spans.filter((s) => s.kind === 'SERVER' && s.name === ECHO_METHOD);
    const clients = spans.filter((s) => s.kind === 'CLIENT' && s.name === ECHO_METHOD);
    assert.equal(servers.length, 5);
    assert.equal(clients.length, 5);
    for (const s of servers) {
      const parent = clients.find((c) => c.spanId === s.parentSpanId);
      assert.ok(parent, 'server span parented by a client span');
      assert.equal(parent.attributes['rpc.grpc.status_code'], s.attributes['rpc.grpc.status_code']);
    }
    const byCode = servers.map((s) => s.attributes['rpc.grpc.status_code']).sort();
    assert.deepEqual(byCode, [0, 0, 3, 7, 13].sort());
    const internal = servers.find((s) => s.attributes['rpc.grpc.status_code'] === status.INTERNAL)!;
    assert.equal(internal.status.code, 'ERROR');
    assert.ok(internal.events.some((e) => e.name === 'exception'));

    const streams = spans.filter((s) => s.kind === 'SERVER' && s.name === REPEAT_METHOD);
    assert.deepEqual(
      streams.map((s) => s.attributes['rpc.grpc.status_code']).sort(),
      [status.OK, status.CANCELLED, status.INVALID_ARGUMENT].sort(),
    );
    assert.equal(
      streams.find((s) => s.attributes['rpc.grpc.status_code'] === status.OK)!.status.code,
      'UNSET',
    );
  });

  it('recorded each handled call in the o2o.rpc.server.duration histogram', () => {
    const file = join(dir, `grpc-test-${process.pid}.metrics.jsonl`);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { name: string; attributes: Record<string, unknown>; value: { count: number } },
      );
    // Cumulative histograms: the last export holds the totals.
    const latest = new Map<string, number>();
    for (const l of lines.filter((x) => x.name === 'o2o.rpc.server.duration')) {
      latest.set(`${l.attributes['rpc.method']} ${l.attributes['rpc.grpc.status_code']}`, l.value.count);
    }
    assert.equal(latest.get(`${ECHO_METHOD} ${status.OK}`), 2);
    assert.equal(latest.get(`${ECHO_METHOD} ${status.INTERNAL}`), 1);
    assert.equal(latest.get(`${REPEAT_METHOD} ${status.CANCELLED}`), 1);
  });
});
