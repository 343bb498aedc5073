// Security default: with no O2O_LISTEN, every gRPC service binds the loopback interface only. Checked on
// real processes: the ready line's address is 127.0.0.1, and the same port is unreachable through the
// machine's other IPv4 addresses. (The coordinator serves nothing; it only connects to NATS.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';
import { spawnLearner } from '../../services/learner/spawn.ts';
import { spawnSimulator } from '../../services/simulator/spawn.ts';

/** Resolves with the connection error code, or 'connected'. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port, timeout: 3_000 });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve('timeout');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const otherAddresses = (): string[] =>
  Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a !== undefined && a.family === 'IPv4' && !a.internal ? [a.address] : []));

describe('services bind 127.0.0.1 by default (real processes)', function () {
  this.timeout(120_000);
  let root: string;
  const running: SpawnedService[] = [];

  before(function () {
    if (process.env['O2O_LISTEN'] !== undefined) this.skip(); // the default is what is under test
    root = mkdtempSync(join(tmpdir(), 'o2o-bind-'));
  });
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('world model, simulator and learner: loopback address in the ready line, unreachable from other interfaces', async () => {
    const common = { O2O_NATS_URL: 'none', O2O_RUN_ROOT: root };
    const started = await Promise.all([
      spawnService({
        name: 'world-model',
        main: fileURLToPath(new URL('../../services/world-model/main.ts', import.meta.url)),
        env: common,
        readyTimeoutMs: 60_000,
        stopGraceMs: 10_000,
      }),
      spawnSimulator({ ...common, O2O_SIM_ENV: 'InvertedPendulum-v5' }),
      spawnLearner(common),
    ]);
    running.push(...started);
    for (const [name, svc] of [
      ['world-model', started[0]],
      ['simulator', started[1]],
      ['learner', started[2]],
    ] as const) {
      const m = /^127\.0\.0\.1:(\d+)$/.exec(svc.address);
      assert.ok(m, `${name}: ready line address ${svc.address} is not 127.0.0.1:<port>`);
      const port = Number(m[1]);
      assert.equal(await tryConnect('127.0.0.1', port), 'connected', `${name}: reachable on loopback`);
      for (const ip of otherAddresses()) {
        const outcome = await tryConnect(ip, port);
        assert.notEqual(outcome, 'connected', `${name}: port ${port} is reachable on ${ip}`);
      }
    }
  });
});
