// Secrets stay secret, and NATS auth is enforced end to end: a world model and a simulator run against a
// token-protected nats-server with gRPC TLS keys configured and span files on; after gRPC calls (one
// echoing the token back in an error) neither stdout, stderr nor any span/metric file holds the token or
// the private key. A wrong token stops the world model with a clear message that does not print it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';
import { spawnSimulator } from '../../services/simulator/spawn.ts';
import { WorldModelServiceClient } from '../../services/world-model/client.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { makeTestPki, pem, type TestPki } from './tls-certs.ts';

const WM_MAIN = fileURLToPath(new URL('../../services/world-model/main.ts', import.meta.url));

function collectOutput(svc: SpawnedService): () => string {
  let out = '';
  svc.child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  return () => out;
}

describe('secrets: NATS token auth end to end, nothing secret in logs or traces (real processes)', function () {
  this.timeout(180_000);
  const token = `tok-${randomBytes(12).toString('hex')}`;
  let pki: TestPki;
  let nats: NatsServerHandle;

  before(async () => {
    pki = makeTestPki();
    nats = await startNatsServer({ token });
  });
  after(async () => {
    await nats?.stop();
    if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('a wrong token is refused with a clear error naming the setting, without printing the token', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    await assert.rejects(
      spawnService({
        name: 'world-model',
        main: WM_MAIN,
        env: { O2O_NATS_URL: nats.url, O2O_NATS_TOKEN: wrong, O2O_RUN_ROOT: join(pki.dir, 'runs') },
        readyTimeoutMs: 60_000,
        stopGraceMs: 5_000,
      }),
      (e: Error) => {
        assert.match(e.message, /exited \(1\) before it was ready/);
        assert.match(e.message, /Authorization Violation/i);
        assert.match(e.message, /O2O_NATS_URL/);
        assert.ok(!e.message.includes(wrong), 'the wrong token is printed');
        return true;
      },
    );
  });

  it('with the right token the services connect; no token or key in stdout, stderr, spans or metrics', async () => {
    const traceDir = join(pki.dir, 'traces');
    mkdirSync(traceDir);
    const env = {
      O2O_NATS_URL: nats.url,
      O2O_NATS_TOKEN: token,
      O2O_TLS_CERT: pki.serverCert,
      O2O_TLS_KEY: pki.serverKey,
      O2O_TRACE_DIR: traceDir,
      O2O_METRICS_INTERVAL_MS: '200',
      O2O_RUN_ROOT: join(pki.dir, 'runs'),
    };
    const wm = await spawnService({
      name: 'world-model',
      main: WM_MAIN,
      env,
      readyTimeoutMs: 60_000,
      stopGraceMs: 10_000,
    });
    const wmOut = collectOutput(wm);
    const sim = await spawnSimulator({
      ...env,
      O2O_SIM_ENV: 'InvertedPendulum-v5',
      O2O_SIM_HEARTBEAT_MS: '100',
    });
    const simOut = collectOutput(sim);
    try {
      const client = new WorldModelServiceClient(wm.address, {
        tls: { ca: pem(pki.ca) },
        callTimeoutMs: 10_000,
      });
      try {
        assert.equal((await client.info()).implementation, 'native');
        // A request that quotes the token: the error answer echoes it, the span of that call must not.
        await assert.rejects(
          client.load(`token=${token}/model.safetensors`),
          (e: { code?: number }) => e.code === status.NOT_FOUND,
        );
      } finally {
        client.close();
      }
      await new Promise((r) => setTimeout(r, 500)); // a few heartbeats and a metrics export
    } finally {
      assert.equal(await wm.stop(), 0);
      assert.equal(await sim.stop(), 0);
    }
    const logs = {
      'world-model stdout': wmOut(),
      'world-model stderr': wm.stderr(),
      'simulator stdout': simOut(),
      'simulator stderr': sim.stderr(),
    };
    assert.match(
      logs['world-model stderr'],
      /consuming world-model phase requests/,
      'the world model connected to NATS',
    );
    assert.match(logs['simulator stderr'], /NATS connected .*auth=token/, 'the simulator connected to NATS');
    const files = readdirSync(traceDir).map((f) => [f, readFileSync(join(traceDir, f), 'utf8')] as const);
    assert.ok(
      files.some(([f, text]) => f.startsWith('world-model') && text.includes('o2o.v1.WorldModel/Load')),
      'the Load span was written',
    );

    // The echoed token reached the span's status message, redacted (so the check below is not vacuous).
    assert.ok(
      files.some(([, text]) => text.includes('[REDACTED]')),
      'no redacted value in the spans',
    );
    // Every base64 line of the private key, and the token, must be absent everywhere.
    const keyLines = readFileSync(pki.serverKey, 'utf8')
      .split('\n')
      .filter((l) => l.length >= 40 && !l.startsWith('-----'));
    assert.ok(keyLines.length > 5);
    for (const [where, text] of [...Object.entries(logs), ...files]) {
      assert.ok(!text.includes(token), `${where} contains the NATS token`);
      for (const line of keyLines) assert.ok(!text.includes(line), `${where} contains the TLS private key`);
      assert.ok(!text.includes('PRIVATE KEY'), `${where} contains a PEM private key`);
    }
  });
});
