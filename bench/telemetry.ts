// What tracing costs a service: unary gRPC round trips on loopback (traced client + traced server, both in
// this process) with telemetry off (no-op tracer), spans to a JSONL file, and spans over OTLP/HTTP to a
// local sink; plus the bare cost of starting and ending a span with each exporter. Variants run in
// interleaved rounds on the same machine and are reported as ratios to "off".
//   node --import tsx bench/telemetry.ts [--calls N] [--spans N] [--rounds N] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials, type Metadata, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { startTelemetry, type Telemetry, traceClientCall, tracedUnary } from '../lib/telemetry/index.ts';
import {
  ECHO_METHOD,
  EchoClient,
  type EchoMessage,
  echoDefinition,
} from '../tests/telemetry/fixtures/echo-definition.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    spans: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${text}`);
  return n;
}
const calls = positive('calls', values.calls);
const spanCount = positive('spans', values.spans);
const rounds = positive('rounds', values.rounds);

type Variant = 'off' | 'jsonl' | 'otlp';
const VARIANTS: Variant[] = ['off', 'jsonl', 'otlp'];

interface Echo {
  Echo(
    req: EchoMessage,
    md: Metadata,
    opts: { deadline: number },
    cb: (e: ServiceError | null, r?: EchoMessage) => void,
  ): void;
  close(): void;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-bench-telemetry-'));
  let otlpBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      otlpBytes += c.length;
    });
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

  const server = new Server();
  server.addService(echoDefinition, {
    Echo: tracedUnary<EchoMessage, EchoMessage>('o2o-bench', ECHO_METHOD, (req) => ({ text: req.text })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const client = new EchoClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Echo;
  const call = (): Promise<EchoMessage> =>
    traceClientCall('o2o-bench', ECHO_METHOD, (md) => {
      return new Promise((resolve, reject) =>
        client.Echo({ text: 'x' }, md, { deadline: Date.now() + 5000 }, (e, r) =>
          e ? reject(e) : resolve(r!),
        ),
      );
    });

  const start = (v: Variant): Telemetry => {
    const env = {};
    if (v === 'jsonl') return startTelemetry({ service: 'bench', spanDir: join(dir, 'spans'), env });
    if (v === 'otlp') return startTelemetry({ service: 'bench', otlpEndpoint: endpoint, env });
    return startTelemetry({ service: 'bench', env });
  };

  for (let i = 0; i < 200; i++) await call(); // warm up connections and JIT
  const rpcUs: Record<Variant, number[]> = { off: [], jsonl: [], otlp: [] };
  const spanUs: Record<Variant, number[]> = { off: [], jsonl: [], otlp: [] };
  for (let round = 0; round < rounds; round++) {
    for (const v of VARIANTS) {
      const telemetry = start(v);
      let t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) await call();
      rpcUs[v].push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
      const tracer = trace.getTracer('o2o-bench');
      t0 = process.hrtime.bigint();
      for (let i = 0; i < spanCount; i++) tracer.startSpan('bench-span', { attributes: { i } }).end();
      spanUs[v].push(Number(process.hrtime.bigint() - t0) / 1e3 / spanCount);
      await telemetry.shutdown(); // export cost of what is still buffered is outside the timed loops
    }
  }
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = VARIANTS.map((v) => ({
    variant: v,
    rpcUs: median(rpcUs[v]),
    rpcRatio: median(rpcUs[v]) / median(rpcUs.off),
    spanUs: median(spanUs[v]),
  }));
  if (values.json) {
    console.log(JSON.stringify({ calls, spans: spanCount, rounds, otlpBytes, rows }));
    return;
  }
  console.log(
    `unary gRPC round trip (traced client + server, ${calls} calls) and bare span cost (${spanCount} spans);`,
  );
  console.log(
    `median of ${rounds} interleaved rounds; OTLP sink received ${(otlpBytes / 1e6).toFixed(1)} MB`,
  );
  console.log('variant  us/call  vs off  us/span');
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(7)}  ${r.rpcUs.toFixed(1).padStart(7)}  ${r.rpcRatio.toFixed(2).padStart(6)}  ${r.spanUs.toFixed(2).padStart(7)}`,
    );
  }
}

await main();
