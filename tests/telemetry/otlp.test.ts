// OTLP/HTTP export to a collector stand-in (a local HTTP server): spans and metrics arrive at
// /v1/traces and /v1/metrics with the service's resource, parent links intact and secrets redacted.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { serviceMetrics, startTelemetry } from '../../lib/telemetry/index.ts';

const PASSWORD = 'pw-91be77-hunter2';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';

interface Received {
  path: string;
  contentType: string;
  body: string;
}

describe('telemetry: OTLP/HTTP export', () => {
  let server: Server;
  const received: Received[] = [];
  let endpoint: string;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends redacted spans with parent links and metrics to the configured endpoint', async () => {
    const telemetry = startTelemetry({
      service: 'otlp-test',
      otlpEndpoint: endpoint,
      // The password reaches the process as a secret-named variable, so it is redacted even in free text.
      env: { O2O_NATS_PASSWORD: PASSWORD },
    });
    assert.equal(telemetry.spanPath, undefined, 'no file export unless asked for');
    const metrics = serviceMetrics('otlp-test');
    const tracer = trace.getTracer('o2o-otlp-test');
    let parentId = '';
    let childId = '';
    tracer.startActiveSpan('parent-op', (parent) => {
      parentId = parent.spanContext().spanId;
      const child = tracer.startSpan('child-op', {
        attributes: {
          'nats.url': `nats://learner:${PASSWORD}@nats:4222`,
          'tls.key': PEM,
          'o2o.seed': 7,
        },
      });
      childId = child.spanContext().spanId;
      child.recordException(new Error(`connect failed: password=${PASSWORD}`));
      child.setStatus({ code: SpanStatusCode.ERROR, message: `auth with ${PASSWORD} rejected` });
      child.end();
      parent.end();
    });
    metrics.steps.add(42, { env: 'InvertedPendulum-v5' });
    await telemetry.shutdown();

    const traces = received.filter((r) => r.path === '/v1/traces');
    assert.ok(traces.length > 0, `no POST to /v1/traces (got ${received.map((r) => r.path).join(', ')})`);
    assert.ok(
      received.some((r) => r.path === '/v1/metrics'),
      'no POST to /v1/metrics',
    );
    for (const r of received) {
      assert.ok(!r.body.includes(PASSWORD), `${r.path} carries the password`);
      assert.ok(!r.body.includes('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), `${r.path} carries the private key`);
    }
    const all = traces.map((r) => r.body).join('\n');
    assert.ok(all.includes('o2o-otlp-test'), 'service.name resource is exported');
    assert.ok(all.includes('child-op') && all.includes('parent-op'));
    // exporter-trace-otlp-http speaks OTLP/JSON, where ids are hex strings: check the parent link exactly.
    assert.match(traces[0]!.contentType, /json/);
    {
      const spans = traces.flatMap((r) =>
        (
          JSON.parse(r.body) as {
            resourceSpans: {
              scopeSpans: { spans: { name: string; spanId: string; parentSpanId?: string }[] }[];
            }[];
          }
        ).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
      );
      const child = spans.find((s) => s.name === 'child-op')!;
      assert.equal(child.spanId, childId);
      assert.equal(child.parentSpanId, parentId);
    }
    assert.ok(all.includes('o2o.seed'), 'non-secret attributes are kept');
  });
});
