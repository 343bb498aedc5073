// The launcher's failure path with real processes: a service that dies before it is ready stops the
// whole run (every started service and nats-server are gone) and the result says which one and why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../../services/launcher/launch.ts';
import { alive } from '../helpers/process.ts';

describe('launcher', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-launch-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stops every service and reports the one that died when a service fails to start', async () => {
    const specPath = join(dir, 'spec.yaml');
    writeFileSync(
      specPath,
      'name: broken\nenv: InvertedPendulum-v5\ndataset: { generate: { kind: random, transitions: 10 } }\n',
    );
    const lines: string[] = [];
    const result = await launch({
      specPath,
      runDir: join(dir, 'run'),
      simulators: 1,
      // A learner setting it refuses: it exits with a config error before its ready line.
      env: { O2O_LEARNER_CHECKPOINT_EVERY: 'often' },
      log: (l) => lines.push(l),
      graceMs: 5_000,
    });
    assert.equal(result.ok, false);
    assert.match(result.reason ?? '', /learner exited (unexpectedly )?\(1\)/);
    const pids = lines.flatMap((l) => [...l.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])));
    assert.ok(pids.length >= 2, `world model and simulator were up: ${lines.join('\n')}`);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} stopped`);
  });
});
