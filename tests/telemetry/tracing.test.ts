// One trace across two processes and two transports: this process (service `caller`) calls the Echo
// server in a child process (service `echo`) over gRPC; the server publishes on NATS inside the request;
// this process consumes the message. Every hop must be a child of the previous one in the span files.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { credentials, type Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { connect, type NatsConnection, StringCodec } from 'nats';
import {
  startTelemetry,
  type Telemetry,
  traceClientCall,
  traceNatsConsume,
} from '../../lib/telemetry/index.ts';
import { readSpanFiles, summarizeSpans, tracesSpanning } from '../../lib/telemetry/summary.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { ECHO_METHOD, ECHO_SUBJECT, EchoClient, type EchoMessage } from './fixtures/echo-definition.ts';

const TOKEN = 'tk-7f3a9c-very-secret';

interface Echo {
  Echo(
    req: EchoMessage,
    md: Metadata,
    opts: { deadline: number },
    cb: (e: ServiceError | null, r?: EchoMessage) => void,
  ): void;
  close(): void;
}

function startEchoServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'echo-server.ts')],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo server not ready in 30 s:\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`echo server exited (${code}):\n${stderr}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const ready = JSON.parse(line) as { event: string; address: string };
      assert.equal(ready.event, 'ready');
      resolve({ child, address: ready.address });
    });
  });
}

function call(client: Echo, text: string, md: Metadata): Promise<EchoMessage> {
  return new Promise((resolve, reject) => {
    client.Echo({ text }, md, { deadline: Date.now() + 10_000 }, (err, res) =>
      err ? reject(err) : resolve(res!),
    );
  });
}

describe('telemetry: trace context across gRPC and NATS between processes', () => {
  let nats: NatsServerHandle;
  let dir: string;
  let telemetry: Telemetry | undefined;
  let nc: NatsConnection | undefined;
  let child: ChildProcess | undefined;

  before(async () => {
    nats = await startNatsServer({ jetstream: false, token: TOKEN });
    dir = mkdtempSync(join(tmpdir(), 'o2o-trace-'));
  });

  after(async () => {
    child?.kill('SIGKILL');
    await nc?.close();
    await telemetry?.shutdown();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links client → server → producer → consumer spans in one trace, across two span files', async () => {
    telemetry = startTelemetry({ service: 'caller', spanDir: dir });
    const server = await startEchoServer({
      O2O_NATS_URL: nats.url,
      O2O_NATS_TOKEN: TOKEN,
      O2O_TRACE_DIR: dir,
    });
    child = server.child;
    nc = await connect({ servers: nats.url, token: TOKEN });
    const codec = StringCodec();
    const received: string[] = [];
    const sub = nc.subscribe(ECHO_SUBJECT);
    const consumed = (async () => {
      for await (const msg of sub) {
        await traceNatsConsume('o2o-caller', msg, () => received.push(codec.decode(msg.data)));
        if (received.length === 1) break;
      }
    })();
    await nc.flush();

    const client = new EchoClient(server.address, credentials.createInsecure()) as unknown as Echo;
    const tracer = trace.getTracer('o2o-caller');
    const rootTraceId = await tracer.startActiveSpan('test-root', async (root) => {
      const res = await traceClientCall('o2o-caller', ECHO_METHOD, (md) => call(client, 'hello', md));
      assert.equal(res.text, 'hello');
      const bad = await traceClientCall('o2o-caller', ECHO_METHOD, (md) => call(client, '', md)).catch(
        (e) => e,
      );
      assert.equal((bad as ServiceError).code, status.INVALID_ARGUMENT);
      assert.match((bad as ServiceError).details, /^text: /);
      root.end();
      return root.spanContext().traceId;
    });
    await consumed;
    assert.deepEqual(received, ['hello']);
    client.close();

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'the echo server exits 0 on SIGTERM');
    child = undefined;
    await telemetry.shutdown();
    telemetry = undefined;

    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl') && !f.endsWith('.metrics.jsonl'));
    assert.deepEqual(
      files.map((f) => f.replace(/-\d+\.jsonl$/, '')).sort(),
      ['caller', 'echo'],
      'one span file per process',
    );
    const { spans, malformed } = readSpanFiles(dir);
    assert.deepEqual(malformed, []);
    const inTrace = spans.filter((s) => s.traceId === rootTraceId);
    const find = (service: string, name: string, kind: string) => {
      const found = inTrace.filter((s) => s.service === service && s.name === name && s.kind === kind);
      assert.ok(found.length > 0, `no ${kind} span ${service} ${name} in the trace`);
      return found;
    };
    const root = find('o2o-caller', 'test-root', 'INTERNAL')[0]!;
    const clients = find('o2o-caller', ECHO_METHOD, 'CLIENT');
    const servers = find('o2o-echo', ECHO_METHOD, 'SERVER');
    assert.equal(clients.length, 2);
    assert.equal(servers.length, 2);
    for (const c of clients) assert.equal(c.parentSpanId, root.spanId);
    for (const s of servers) {
      assert.ok(
        clients.some((c) => c.spanId === s.parentSpanId),
        'each server span is a child of a client span',
      );
    }
    const failed = servers.find((s) => s.status.code === 'ERROR');
    assert.ok(failed, 'the INVALID_ARGUMENT call is an error span');
    assert.equal(failed.attributes['rpc.grpc.status_code'], status.INVALID_ARGUMENT);
    const producer = find('o2o-echo', `${ECHO_SUBJECT} publish`, 'PRODUCER')[0]!;
    const okServer = servers.find((s) => s.status.code !== 'ERROR')!;
    assert.equal(producer.parentSpanId, okServer.spanId);
    const consumer = find('o2o-caller', `${ECHO_SUBJECT} process`, 'CONSUMER')[0]!;
    assert.equal(consumer.parentSpanId, producer.spanId);

    const summary = summarizeSpans(readSpanFiles(dir));
    const spanning = tracesSpanning(summary, ['o2o-caller', 'o2o-echo']);
    assert.deepEqual(
      spanning.map((t) => t.traceId),
      [rootTraceId],
    );
    assert.equal(spanning[0]!.missingParents, 0);
    assert.equal(spanning[0]!.spans, 7);
    assert.equal(spanning[0]!.root, 'test-root');
    const serverOp = summary.operations.find((o) => o.service === 'o2o-echo' && o.name === ECHO_METHOD)!;
    assert.equal(serverOp.count, 2);
    assert.equal(serverOp.errors, 1);

    for (const f of readdirSync(dir)) {
      assert.ok(!readFileSync(join(dir, f), 'utf8').includes(TOKEN), `the NATS token leaked into ${f}`);
    }
    const startup = spans.find((s) => s.name === 'startup')!;
    assert.equal(startup.attributes['nats.token'], '[REDACTED]');
  });

  it('without an exporter configured, startTelemetry registers nothing and spans are no-ops', async () => {
    const t = startTelemetry({ service: 'quiet', env: {} });
    assert.equal(t.enabled, false);
    const span = trace.getTracer('o2o-quiet').startSpan('nothing');
    assert.equal(span.isRecording(), false);
    span.end();
    await t.shutdown();
  });
});
