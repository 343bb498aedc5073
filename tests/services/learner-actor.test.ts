// Actor mode with real simulator processes found through their NATS heartbeats: two simulators stream
// from the start, a third joins mid-run and one is killed mid-run. Every stored transition is accounted
// for per simulator incarnation by sequence number: contiguous from 1, no gaps, no duplicates stored.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import { makeEnv } from '../../lib/envs/registry.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { trainActorMode } from '../../services/learner/actor-mode.ts';
import { runOnlinePhase } from '../../services/learner/online-phase.ts';
import { type SpawnedSimulator, spawnSimulator } from '../../services/simulator/spawn.ts';
import { watchSimulators } from '../../services/simulator/watch.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { ACTOR_ENV_ID, actorSimEnv, actorTestConfig, tinyAgent } from './actor-mode-fixture.ts';
import { inProcessDeps, RUN_DIR, request, tinySpec } from './learner-fixture.ts';

const ENV_ID = ACTOR_ENV_ID;

describe('services/learner actor mode', function () {
  this.timeout(240_000);
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  const sims: SpawnedSimulator[] = [];

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.stop('SIGTERM', 5_000)));
    await nc?.drain();
    await nats?.stop();
  });

  it('learns from simulators joining and leaving, with gap-free per-simulator sequence accounting', async () => {
    const simEnv = (id: string) => actorSimEnv({ natsUrl: nats.url, id, batchSteps: 16 });
    const [a, b] = await Promise.all([spawnSimulator(simEnv('sim-a')), spawnSimulator(simEnv('sim-b'))]);
    sims.push(a, b);
    const watch = watchSimulators(nc, { envId: ENV_ID, heartbeatMs: 200 });
    await watch.waitFor((live) => live.size >= 2, 30_000);
    // The third simulator starts now and joins whenever it is ready, while the run is going.
    const joining = spawnSimulator(simEnv('sim-c')).then((c) => {
      sims.push(c);
      return c;
    });

    const evalEnv = makeEnv(ENV_ID);
    const agent = tinyAgent(evalEnv, [32, 32], 5);
    let killedB = false;
    let done = false;
    const logs: string[] = [];
    const result = await trainActorMode(
      watch,
      evalEnv,
      agent,
      actorTestConfig({ seed: 5, evalEvery: 2_000 }),
      {
        log: (m) => logs.push(m),
        onProgress: (p) => {
          const rows = (id: string) => p.tallies.find((t) => t.simulatorId === id)?.rows ?? 0;
          if (!killedB && rows('sim-b') >= 300) {
            killedB = true;
            void b.stop('SIGKILL');
          }
          // Enough once the newcomer has contributed after sim-b's death.
          if (killedB && rows('sim-c') >= 300 && rows('sim-a') >= 300) done = true;
        },
        stopping: () => done,
      },
    );
    watch.stop();
    evalEnv.close();
    await joining;

    assert.equal(result.interrupted, true, 'the test ends the run once every simulator has contributed');
    const byId = new Map(result.tallies.map((t) => [t.simulatorId, t]));
    assert.deepEqual([...byId.keys()].sort(), ['sim-a', 'sim-b', 'sim-c'], logs.join('\n'));
    let rows = 0;
    for (const t of result.tallies) {
      assert.equal(t.gaps, 0, `${t.simulatorId}: gaps`);
      assert.equal(t.firstSeq, 1, `${t.simulatorId}: first seq`);
      assert.equal(t.batches, t.lastSeq - t.firstSeq + 1, `${t.simulatorId}: contiguous seqs`);
      rows += t.rows;
    }
    assert.equal(rows, result.steps);
    assert.equal(result.replaySize, result.steps);
    assert.ok(byId.get('sim-b')!.streamErrors >= 1, 'the killed simulator was dropped');
    assert.ok(logs.some((l) => /sim-b#\d+ dropped/.test(l)));
    // Update-to-data ratio 0.25 after the 100-transition warm-up (the batch crossing it counts whole).
    const expected = (result.steps - 100) * 0.25;
    assert.ok(
      Math.abs(result.updates - expected) <= 16 * 0.25 + 1,
      `updates ${result.updates} vs ${expected}`,
    );
    assert.equal(agent.updates, result.updates);
    assert.ok(result.evaluations.length >= 1);
  });

  it('PHASE_ONLINE in actor mode: from scratch, random actions first, then policy snapshots; final agent saved', async () => {
    const root = join(nats.storeDir, '..', `learner-actor-${process.pid}`);
    mkdirSync(join(root, RUN_DIR), { recursive: true });
    try {
      const spec = tinySpec({
        variant: 'scratch',
        online: {
          steps: 600,
          startSteps: 100,
          batchSize: 32,
          evalEvery: 300,
          evalEpisodes: 1,
          policySyncEvery: 20,
        },
      });
      const deps = inProcessDeps(root, {
        onlineMode: 'actor',
        openSimulatorDirectory: async (envId) => watchSimulators(nc, { envId, heartbeatMs: 200 }),
      });
      const out = await runOnlinePhase(request(Phase.PHASE_ONLINE, spec, {}), deps);
      assert.equal(out.metrics.steps, 600);
      assert.equal(out.metrics.seq_gaps, 0);
      assert.ok(out.metrics.simulators! >= 1);
      const { agent } = loadAgent(join(root, RUN_DIR, 'final.safetensors'));
      assert.equal(agent.updates, out.metrics.updates);
      assert.ok(agent.updates >= 450 && agent.updates <= 600, `updates ${agent.updates}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
