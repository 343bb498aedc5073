// TLS and mutual TLS on real service processes: throw-away certificates from openssl, each service
// started with O2O_TLS_*, and the project's own clients dialling with and without the right material.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { type ClientTls, GrpcTlsConfigError, grpcTlsFromEnv } from '../../lib/services/grpc-security.ts';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { spawnLearner } from '../../services/learner/spawn.ts';
import { SimulatorClient } from '../../services/simulator/client.ts';
import { spawnSimulator } from '../../services/simulator/spawn.ts';
import { WorldModelServiceClient } from '../../services/world-model/client.ts';
import { makeTestPki, pem, type TestPki } from './tls-certs.ts';

const simEnv = (runRoot: string) => ({
  O2O_SIM_ENV: 'InvertedPendulum-v5',
  O2O_NATS_URL: 'none',
  O2O_RUN_ROOT: runRoot,
});

function trusting(pki: TestPki, withCert?: 'own' | 'rogue'): ClientTls {
  const tls: ClientTls = { ca: pem(pki.ca) };
  if (withCert === 'own') Object.assign(tls, { cert: pem(pki.clientCert), key: pem(pki.clientKey) });
  if (withCert === 'rogue')
    Object.assign(tls, { cert: pem(pki.rogueClientCert), key: pem(pki.rogueClientKey) });
  return tls;
}

async function simInfo(address: string, tls: ClientTls | null): Promise<string> {
  const c = await SimulatorClient.connect(address, { tls, connectTimeoutMs: 3_000, deadlineMs: 3_000 });
  try {
    return (await c.info()).envId;
  } finally {
    c.close();
  }
}

describe('gRPC TLS and mutual TLS (real processes, openssl certificates)', function () {
  this.timeout(120_000);
  let pki: TestPki;
  const running: SpawnedService[] = [];

  before(() => {
    pki = makeTestPki();
  });
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('TLS: a client trusting the CA gets through, a plaintext one is refused', async () => {
    const sim = await spawnSimulator({
      ...simEnv(join(pki.dir, 'runs')),
      O2O_TLS_CERT: pki.serverCert,
      O2O_TLS_KEY: pki.serverKey,
    });
    running.push(sim);
    assert.equal(await simInfo(sim.address, trusting(pki)), 'InvertedPendulum-v5');
    await assert.rejects(simInfo(sim.address, null), /simulator at .*(UNAVAILABLE|DEADLINE_EXCEEDED|14|4)/);
    assert.match(sim.stderr(), /gRPC server TLS/);
  });

  it('mutual TLS: only a client certificate signed by the CA is accepted (simulator, world model, learner)', async () => {
    const mtls = {
      O2O_TLS_CERT: pki.serverCert,
      O2O_TLS_KEY: pki.serverKey,
      O2O_TLS_CA: pki.ca,
      O2O_TLS_CLIENT_AUTH: 'require',
    };
    const root = join(pki.dir, 'runs');
    const [sim, wm, learner] = await Promise.all([
      spawnSimulator({ ...simEnv(root), ...mtls }),
      spawnService({
        name: 'world-model',
        main: fileURLToPath(new URL('../../services/world-model/main.ts', import.meta.url)),
        env: { O2O_NATS_URL: 'none', O2O_RUN_ROOT: root, ...mtls },
        readyTimeoutMs: 60_000,
        stopGraceMs: 10_000,
      }),
      spawnLearner({ O2O_NATS_URL: 'none', O2O_RUN_ROOT: root, ...mtls }),
    ]);
    running.push(sim, wm, learner);

    assert.equal(await simInfo(sim.address, trusting(pki, 'own')), 'InvertedPendulum-v5');
    await assert.rejects(simInfo(sim.address, trusting(pki)));
    await assert.rejects(simInfo(sim.address, trusting(pki, 'rogue')));
    await assert.rejects(simInfo(sim.address, null));

    const wmInfo = async (tls: ClientTls | null) => {
      const c = new WorldModelServiceClient(wm.address, { tls, callTimeoutMs: 3_000, retryTotalMs: 500 });
      try {
        return await c.info();
      } finally {
        c.close();
      }
    };
    assert.equal((await wmInfo(trusting(pki, 'own'))).implementation, 'native');
    for (const tls of [trusting(pki), trusting(pki, 'rogue'), null])
      await assert.rejects(wmInfo(tls), (e: Error & { code?: number }) => e.code === status.UNAVAILABLE);

    const learnerStatus = async (tls: ClientTls | null) => {
      const c = new LearnerServiceClient(learner.address, 3_000, tls);
      try {
        return await c.status();
      } finally {
        c.close();
      }
    };
    assert.equal((await learnerStatus(trusting(pki, 'own'))).phase, 'idle');
    for (const tls of [trusting(pki), trusting(pki, 'rogue'), null])
      await assert.rejects(
        learnerStatus(tls),
        (e: Error & { code?: number }) => e.code === status.UNAVAILABLE,
      );
  });

  it('a missing or unreadable file stops the service with a message naming the variable and the path', async () => {
    const missing = join(pki.dir, 'nope.key');
    await assert.rejects(
      spawnSimulator({
        ...simEnv(join(pki.dir, 'runs')),
        O2O_TLS_CERT: pki.serverCert,
        O2O_TLS_KEY: missing,
      }),
      (e: Error) => e.message.includes(`O2O_TLS_KEY=${missing}: cannot read the private key`),
    );
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ O2O_TLS_CERT: pki.serverCert }, /O2O_TLS_CERT and O2O_TLS_KEY must be set together/],
      [{ O2O_TLS_CA: missing }, /^O2O_TLS_CA=.*nope\.key: cannot read the certificate/],
      [
        { O2O_TLS_CERT: pki.serverKey, O2O_TLS_KEY: pki.serverKey },
        /^O2O_TLS_CERT=.*: not a PEM certificate/,
      ],
      [
        { O2O_TLS_CERT: pki.serverCert, O2O_TLS_KEY: pki.serverKey, O2O_TLS_CLIENT_AUTH: 'require' },
        /needs .*O2O_TLS_CA/,
      ],
      [{ O2O_TLS_CLIENT_AUTH: 'maybe' }, /^O2O_TLS_CLIENT_AUTH: expected/],
      [{ O2O_TLS_CLIENT_CERT: pki.clientCert }, /O2O_TLS_CLIENT_CERT and O2O_TLS_CLIENT_KEY/],
    ];
    for (const [env, re] of cases)
      assert.throws(
        () => grpcTlsFromEnv(env),
        (e: unknown) => e instanceof GrpcTlsConfigError && re.test(e.message),
      );
    const ok = grpcTlsFromEnv({ O2O_TLS_CA: pki.ca, O2O_TLS_SERVER_NAME: 'localhost' });
    assert.equal(ok.server, undefined);
    assert.equal(ok.client?.serverName, 'localhost');
    assert.ok(!ok.description.includes('BEGIN'));
  });
});
