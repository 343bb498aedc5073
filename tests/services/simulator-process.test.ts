// The simulator as a real process with a real nats-server: ready line, heartbeats seen by
// watchSimulators, gone after SIGKILL, a restart with the same id announced as a new incarnation, clean
// exit 0 on SIGTERM, and config errors naming the variable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { SimulatorHeartbeat } from '../../generated/proto/o2o/v1/events.js';
import { subjects } from '../../lib/services/subjects.ts';
import { SimulatorClient } from '../../services/simulator/client.ts';
import { advertisedAddress, loadConfig } from '../../services/simulator/config.ts';
import { spawnSimulator } from '../../services/simulator/spawn.ts';
import { type SimulatorChange, watchSimulators } from '../../services/simulator/watch.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';

const HEARTBEAT_MS = 200;

describe('services/simulator process', function () {
  this.timeout(120_000);
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let runRoot: string;

  before(async () => {
    nats = await startNatsServer({ jetstream: false });
    nc = await connect({ servers: nats.url });
    runRoot = mkdtempSync(join(tmpdir(), 'o2o-sim-'));
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
    rmSync(runRoot, { recursive: true, force: true });
  });

  it('announces itself on NATS, is gone after a kill, comes back as a new incarnation, exits 0 on SIGTERM', async () => {
    const changes: SimulatorChange[] = [];
    const watch = watchSimulators(nc, {
      envId: 'InvertedPendulum-v5',
      heartbeatMs: HEARTBEAT_MS,
      onChange: (c) => changes.push(c),
    });
    const env = {
      O2O_SIM_ENV: 'InvertedPendulum-v5',
      O2O_SIM_ID: 'sim-a',
      O2O_SIM_HEARTBEAT_MS: String(HEARTBEAT_MS),
      O2O_NATS_URL: nats.url,
      O2O_RUN_ROOT: runRoot,
    };
    const first = await spawnSimulator(env);
    try {
      await watch.waitFor((live) => live.has('sim-a'), 15_000);
      const hb = watch.live().get('sim-a')!.heartbeat;
      assert.equal(hb.address, first.address);
      assert.equal(hb.incarnation, 1);
      assert.equal(hb.mode, 'idle');
      // The gRPC side works, and the heartbeat follows the mode.
      const client = await SimulatorClient.connect(first.address);
      await client.reset(0);
      await client.step(new Float32Array(1));
      client.close();
      await watch.waitFor((live) => live.get('sim-a')?.heartbeat.mode === 'lockstep', 5_000);

      await first.stop('SIGKILL');
      const killedAt = Date.now();
      await watch.waitFor((live) => !live.has('sim-a'), 5_000);
      assert.ok(Date.now() - killedAt >= 2 * HEARTBEAT_MS, 'gone too early: must allow 3 missed beats');
    } finally {
      await first.stop('SIGKILL');
    }

    const traceDir = join(runRoot, 'traces');
    const second = await spawnSimulator({ ...env, O2O_TRACE_DIR: traceDir });
    try {
      await watch.waitFor((live) => live.get('sim-a')?.heartbeat.incarnation === 2, 15_000);
      const client = await SimulatorClient.connect(second.address);
      assert.equal(client.meta.incarnation, 2);
      assert.deepEqual(
        changes.slice(0, 3).map((c) => c.type),
        ['added', 'gone', 'added'],
      );
      // Heartbeats resume after a NATS restart (the simulator reconnects by itself).
      await nats.restart();
      const restartedAt = Date.now();
      await watch.waitFor((live) => (live.get('sim-a')?.heartbeat.unixMs ?? 0) > restartedAt, 20_000);
      // SIGTERM while a consumer streams: the stream ends cleanly and the process exits 0.
      const received: number[] = [];
      const consumer = (async () => {
        for await (const batch of client.streamTransitions(0)) received.push(batch.seq);
      })();
      while (received.length < 2) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await second.stop('SIGTERM'), 0);
      await consumer;
      client.close();
      assert.deepEqual(
        received,
        received.map((_, i) => i + 1),
      );
      assert.match(second.stderr(), /\[simulator\] stopped/);
      // Its spans were flushed at shutdown: SERVER spans of the calls, with the service name.
      const spans = readFileSync(join(traceDir, `simulator-${second.pid}.jsonl`), 'utf8');
      assert.match(spans, /o2o\.v1\.Simulator\/Info/);
      assert.match(spans, /o2o\.v1\.Simulator\/StreamTransitions/);
      assert.match(spans, /o2o-simulator/);
    } finally {
      await second.stop('SIGKILL');
      watch.stop();
    }
  });

  it('runs its env with O2O_SIM_ENV_OPTIONS and announces them, keys sorted, in heartbeats and Info', async () => {
    const canonical = '{"contactCostWeight":0,"includeCfrcExtInObservation":false}';
    const watch = watchSimulators(nc, {
      envId: 'Ant-v5',
      envOptions: { includeCfrcExtInObservation: false, contactCostWeight: 0 },
      heartbeatMs: HEARTBEAT_MS,
    });
    const sim = await spawnSimulator({
      O2O_SIM_ENV: 'Ant-v5',
      O2O_SIM_ENV_OPTIONS: '{"includeCfrcExtInObservation":false,"contactCostWeight":0}',
      O2O_SIM_ID: 'sim-ant',
      O2O_SIM_HEARTBEAT_MS: String(HEARTBEAT_MS),
      O2O_NATS_URL: nats.url,
      O2O_RUN_ROOT: runRoot,
    });
    try {
      await watch.waitFor((live) => live.has('sim-ant'), 15_000);
      assert.equal(watch.live().get('sim-ant')!.heartbeat.envOptionsJson, canonical);
      const client = await SimulatorClient.connect(sim.address);
      assert.deepEqual([client.meta.obsDim, client.meta.envOptionsJson], [27, canonical]);
      client.close();
      assert.match(
        sim.stderr(),
        /serving 1× Ant-v5 \(contactCostWeight=0, includeCfrcExtInObservation=false\)/,
      );
    } finally {
      await sim.stop('SIGKILL');
      watch.stop();
    }
  });

  it('watchSimulators: restarts by incarnation, stale and foreign beats ignored, gone after 3 missed beats', async () => {
    const changes: string[] = [];
    const watch = watchSimulators(nc, {
      envId: 'Hopper-v5',
      heartbeatMs: 100,
      onChange: (c) =>
        changes.push(`${c.type}:${c.simulator.heartbeat.simulatorId}:${c.simulator.heartbeat.incarnation}`),
    });
    const beat = (simulatorId: string, incarnation: number, envId = 'Hopper-v5', envOptionsJson = '') =>
      nc.publish(
        subjects.simulatorHeartbeat,
        SimulatorHeartbeat.encode({
          simulatorId,
          address: '127.0.0.1:1',
          envId,
          numEnvs: 1,
          mode: 'idle',
          stepsTotal: 0,
          unixMs: Date.now(),
          incarnation,
          envOptionsJson,
        }).finish(),
      );
    try {
      beat('w1', 1);
      beat('w2', 1, 'Walker2d-v5'); // another env: not ours
      beat('w3', 1, 'Hopper-v5', '{"healthyZRange":[0.5,100]}'); // our env with other options: not ours
      nc.publish(subjects.simulatorHeartbeat, new TextEncoder().encode('not a heartbeat'));
      await watch.waitFor((live) => live.has('w1'), 5_000);
      beat('w1', 2);
      await watch.waitFor((live) => live.get('w1')?.heartbeat.incarnation === 2, 5_000);
      beat('w1', 1); // a late beat of the former incarnation
      await nc.flush();
      await watch.waitFor((live) => !live.has('w1'), 5_000);
      assert.deepEqual(changes, ['added:w1:1', 'restarted:w1:2', 'gone:w1:2']);
    } finally {
      watch.stop();
    }
  });

  it('fails at start with a message naming the bad variable', async () => {
    assert.throws(() => loadConfig({ O2O_SIM_NUM_ENVS: 'zero' }, []), /O2O_SIM_NUM_ENVS="zero"/);
    assert.throws(
      () => loadConfig({ O2O_SIM_ENV: 'Pong-v5' }, []),
      /O2O_SIM_ENV="Pong-v5": not a known environment/,
    );
    assert.throws(
      () => loadConfig({ O2O_LISTEN: 'nowhere' }, []),
      /O2O_LISTEN="nowhere": expected host:port/,
    );
    assert.throws(() => loadConfig({}, ['--num-envs', '-1']), /--num-envs="-1"/);
    assert.throws(() => loadConfig({}, ['--bogus', '1']), /unknown flag --bogus/);
    assert.throws(
      () => loadConfig({ O2O_SIM_NUM_ENVS: '64', O2O_SIM_BATCH_STEPS: '1000' }, []),
      /O2O_SIM_BATCH_STEPS="1000": .* at most 16384 rows/,
    );
    const ok = loadConfig({ O2O_SIM_ENV: 'Walker2d-v5', O2O_SEED: '9' }, ['--num-envs=4']);
    assert.deepEqual(
      [ok.envId, ok.numEnvs, ok.seed, ok.heartbeatMs, ok.listen],
      ['Walker2d-v5', 4, 9, 1000, '127.0.0.1:0'],
    );
    assert.throws(() => loadConfig({ O2O_SIM_ADVERTISE: 'http://x' }, []), /O2O_SIM_ADVERTISE="http:\/\/x"/);
    assert.throws(
      () => loadConfig({ O2O_SIM_ENV_OPTIONS: '[1]' }, []),
      /O2O_SIM_ENV_OPTIONS="\[1\]": env options must be a JSON object/,
    );
    assert.throws(
      () => loadConfig({}, ['--env-options', '{x']),
      /--env-options="\{x": env options are not JSON/,
    );
    assert.throws(
      () => loadConfig({ O2O_SIM_ENV: 'Ant-v5', O2O_SIM_ENV_OPTIONS: '{"contactCostWeight":"none"}' }, []),
      /O2O_SIM_ENV_OPTIONS=.*contactCostWeight/,
    );
    assert.throws(
      () => loadConfig({ O2O_SIM_ENV: 'Hopper-v5', O2O_SIM_ENV_OPTIONS: '{"contactCostWeight":0}' }, []),
      /O2O_SIM_ENV_OPTIONS=.*contactCostWeight/,
    );
    const ant = loadConfig({ O2O_SIM_ENV: 'Ant-v5', O2O_SIM_ENV_OPTIONS: '{"contactCostWeight":0}' }, []);
    assert.deepEqual(ant.envOptions, { contactCostWeight: 0 });
    assert.deepEqual(ok.envOptions, {});
    assert.equal(advertisedAddress('127.0.0.1:5000', undefined), '127.0.0.1:5000');
    assert.equal(advertisedAddress('0.0.0.0:5000', '10.1.2.3'), '10.1.2.3:5000');
    assert.equal(advertisedAddress('0.0.0.0:5000', 'sim-0.sims:6000'), 'sim-0.sims:6000');
    assert.match(advertisedAddress('0.0.0.0:5000', undefined), /^(?!0\.0\.0\.0)[^:]+:5000$/);
    // And the process exits non-zero with that message on stderr.
    const main = join(import.meta.dirname, '../../services/simulator/main.ts');
    await assert.rejects(
      promisify(execFile)(process.execPath, ['--import', 'tsx', main], {
        env: { ...process.env, O2O_NATS_URL: 'none', O2O_RUN_ROOT: runRoot, O2O_SIM_HEARTBEAT_MS: '5' },
      }),
      (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr, /\[simulator\] simulator config: O2O_SIM_HEARTBEAT_MS="5"/);
        return true;
      },
    );
  });
});
