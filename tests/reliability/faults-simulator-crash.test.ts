// Fault: a simulator is killed with SIGKILL in the middle of an episode during actor-mode fine-tuning
// (real simulator processes found through NATS heartbeats; tests/services/learner-actor.test.ts covers a
// kill with a newcomer joining). Here the killed simulator is restarted with the same id and rejoins as a
// new incarnation. Checked per incarnation: seqs stored from 1 without gaps, every stored batch acked and
// nothing acked that was not stored (the simulators' own oldest unacked seq follows the learner's last
// stored one), rows stored = replay size = steps, and the dead incarnation's unfinished episode stays in
// the replay buffer as a cut episode (its rows counted, no terminal made up).
// Lockstep (a learner process and two simulators): killing the simulator in use hands the PHASE_ONLINE
// request back (PhaseRetryLater → nak); its redelivery resumes from the last checkpoint on the other
// simulator, and the run still stores exactly `online.steps` transitions.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import { makeEnv } from '../../lib/envs/registry.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { requestPhase } from '../../lib/services/phase-client.ts';
import { type SimulatorTally, trainActorMode } from '../../services/learner/actor-mode.ts';
import { loadOnlineCheckpoint } from '../../services/learner/checkpoint.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { spawnLearner } from '../../services/learner/spawn.ts';
import { SimulatorClient } from '../../services/simulator/client.ts';
import { type SpawnedSimulator, spawnSimulator } from '../../services/simulator/spawn.ts';
import { watchSimulators } from '../../services/simulator/watch.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { ACTOR_ENV_ID, actorSimEnv, actorTestConfig, tinyAgent } from '../services/actor-mode-fixture.ts';
import { RUN_DIR, request, tinySpec } from '../services/learner-fixture.ts';

const ENV_ID = ACTOR_ENV_ID;
const BATCH_STEPS = 16;

describe('fault: simulator killed mid-episode', function () {
  this.timeout(180_000);
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let root: string;
  const sims: SpawnedSimulator[] = [];

  const simEnv = (id: string) =>
    actorSimEnv({ natsUrl: nats.url, runRoot: root, id, batchSteps: BATCH_STEPS });

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    root = mkdtempSync(join(tmpdir(), 'o2o-fault-sim-'));
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.stop('SIGTERM', 5_000)));
    await nc?.drain();
    await nats?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('actor mode: carries on with the other simulator, relinks the restarted one (same id), and accounts for every transition once', async () => {
    const [a, b] = await Promise.all([spawnSimulator(simEnv('sim-a')), spawnSimulator(simEnv('sim-b'))]);
    sims.push(a, b);
    const watch = watchSimulators(nc, { envId: ENV_ID, heartbeatMs: 200 });
    await watch.waitFor((live) => live.size >= 2, 30_000);

    const evalEnv = makeEnv(ENV_ID);
    const agent = tinyAgent(evalEnv, [16, 16], 11);
    let killedAt: { rows: number; openEpisodeRows: number } | undefined;
    let restarted: Promise<SpawnedSimulator> | undefined;
    // sim-b is frozen (SIGSTOP) once a stored batch leaves an episode open, so that it sends nothing more;
    // batches already on the wire are stored meanwhile and may close that episode. After DRAIN_MS the
    // tally is final: open episode → SIGKILL, else thaw and wait for the next open one.
    const DRAIN_MS = 500;
    let frozenAt: number | undefined;
    let done = false;
    const logs: string[] = [];
    const tallyOf = (tallies: SimulatorTally[], id: string, incarnation: number) =>
      tallies.find((t) => t.simulatorId === id && t.incarnation === incarnation);
    const result = await trainActorMode(watch, evalEnv, agent, actorTestConfig({ seed: 11 }), {
      log: (m) => logs.push(m),
      onProgress: (p) => {
        const b1 = tallyOf(p.tallies, 'sim-b', 1);
        // Mid-episode: the last batch stored from sim-b left an episode unfinished.
        if (killedAt === undefined && b1 !== undefined && b1.rows >= 200) {
          if (frozenAt === undefined && b1.openEpisodeRows > 0) {
            process.kill(b.pid, 'SIGSTOP');
            frozenAt = Date.now();
          } else if (frozenAt !== undefined && Date.now() - frozenAt >= DRAIN_MS) {
            if (b1.openEpisodeRows > 0) {
              killedAt = { rows: b1.rows, openEpisodeRows: b1.openEpisodeRows };
              restarted = b.stop('SIGKILL').then(() => spawnSimulator(simEnv('sim-b')));
            } else {
              process.kill(b.pid, 'SIGCONT');
              frozenAt = undefined;
            }
          }
        }
        const b2 = tallyOf(p.tallies, 'sim-b', 2);
        const a1 = tallyOf(p.tallies, 'sim-a', 1);
        if (b2 !== undefined && b2.rows >= 200 && (a1?.rows ?? 0) >= 400) done = true;
      },
      stopping: () => done,
    });
    watch.stop();
    evalEnv.close();
    assert.ok(restarted !== undefined, `sim-b was killed\n${logs.join('\n')}`);
    const b2proc = await restarted;
    sims.push(b2proc);

    const keys = result.tallies.map((t) => `${t.simulatorId}#${t.incarnation}`).sort();
    assert.deepEqual(keys, ['sim-a#1', 'sim-b#1', 'sim-b#2'], logs.join('\n'));
    let rows = 0;
    for (const t of result.tallies) {
      const key = `${t.simulatorId}#${t.incarnation}`;
      assert.equal(t.gaps, 0, `${key}: gaps`);
      assert.equal(t.firstSeq, 1, `${key}: stored from seq 1`);
      assert.equal(t.batches, t.lastSeq, `${key}: seqs 1..${t.lastSeq} stored once each`);
      assert.equal(t.rows, t.batches * BATCH_STEPS, `${key}: whole batches stored`);
      assert.ok(t.openEpisodeRows < t.rows && t.terminals <= t.rows);
      rows += t.rows;
    }
    assert.equal(rows, result.steps, 'every stored row is counted once');
    assert.equal(result.replaySize, result.steps, 'nothing removed: the cut episode stays');

    // The killed incarnation: dropped, its rows (the cut episode included) kept.
    const b1 = tallyOf(result.tallies, 'sim-b', 1)!;
    assert.ok(b1.streamErrors >= 1, 'sim-b#1 was dropped');
    assert.ok(b1.rows >= killedAt!.rows && b1.openEpisodeRows > 0, JSON.stringify(b1));
    assert.ok(
      logs.some(
        (l) =>
          l.includes(`sim-b#1 dropped`) &&
          l.includes(`unfinished episodes (${b1.openEpisodeRows} stored rows) stay in the replay buffer`),
      ),
      logs.join('\n'),
    );

    // The simulators agree: their oldest unacked batch is the one after the learner's last stored seq.
    for (const [proc, id] of [
      [a, 'sim-a'],
      [b2proc, 'sim-b'],
    ] as const) {
      const t = tallyOf(result.tallies, id, id === 'sim-a' ? 1 : 2)!;
      const client = await SimulatorClient.connect(proc.address);
      try {
        for await (const batch of client.streamTransitions(0)) {
          assert.equal(batch.seq, t.lastSeq + 1, `${id}: nothing acked beyond what was stored`);
          break;
        }
      } finally {
        client.close();
      }
    }
    console.log(
      `      sim-b#1 killed after ${b1.rows} rows (${b1.openEpisodeRows} of an unfinished episode); ` +
        `sim-b#2 ${tallyOf(result.tallies, 'sim-b', 2)!.rows} rows, sim-a ${tallyOf(result.tallies, 'sim-a', 1)!.rows}`,
    );
  });

  it('actor mode: a frozen simulator (SIGSTOP) does not stall the learner; it catches up once thawed', async () => {
    const [live, frozen] = await Promise.all([
      spawnSimulator(simEnv('sim-live')),
      spawnSimulator(simEnv('sim-frozen')),
    ]);
    sims.push(live, frozen);
    const watch = watchSimulators(nc, { envId: ENV_ID, heartbeatMs: 200 });
    await watch.waitFor((l) => l.has('sim-live') && l.has('sim-frozen'), 30_000);
    const evalEnv = makeEnv(ENV_ID);
    const agent = tinyAgent(evalEnv, [16, 16], 12);
    // Frozen for less than a call's 10 s deadline, so that the link survives: a learner that awaited the
    // frozen simulator's Ack or SetPolicy would store nothing from the live one meanwhile.
    const FREEZE_MS = 3_000;
    const rowsOf = (tallies: SimulatorTally[], id: string) =>
      tallies.find((t) => t.simulatorId === id)?.rows ?? 0;
    let freeze: { at: number; liveRows: number; frozenRows: number } | undefined;
    let duringFreeze: number | undefined;
    let thawedFrozenRows: number | undefined;
    let done = false;
    const logs: string[] = [];
    const result = await trainActorMode(
      watch,
      evalEnv,
      agent,
      actorTestConfig({ seed: 12, totalSteps: 500_000, evalEvery: 500_000, policySyncEvery: 25 }),
      {
        log: (m) => logs.push(m),
        onProgress: (p) => {
          const liveRows = rowsOf(p.tallies, 'sim-live');
          const frozenRows = rowsOf(p.tallies, 'sim-frozen');
          if (freeze === undefined) {
            if (liveRows >= 200 && frozenRows >= 200) {
              process.kill(frozen.pid, 'SIGSTOP');
              freeze = { at: Date.now(), liveRows, frozenRows };
            }
          } else if (duringFreeze === undefined) {
            if (Date.now() - freeze.at >= FREEZE_MS) {
              duringFreeze = liveRows - freeze.liveRows;
              thawedFrozenRows = frozenRows;
              process.kill(frozen.pid, 'SIGCONT');
            }
          } else if (frozenRows >= thawedFrozenRows! + 200) {
            done = true;
          }
        },
        stopping: () => done,
      },
    );
    watch.stop();
    evalEnv.close();
    assert.ok(duringFreeze !== undefined && freeze !== undefined, logs.join('\n'));
    const frozenTally = result.tallies.find((t) => t.simulatorId === 'sim-frozen')!;
    assert.equal(frozenTally.streamErrors, 0, `the frozen simulator kept its link\n${logs.join('\n')}`);
    assert.equal(frozenTally.gaps, 0);
    assert.ok(
      duringFreeze >= 1_000,
      `the live simulator's rows kept flowing while the other was frozen: ${duringFreeze} in ${FREEZE_MS} ms`,
    );
    console.log(
      `      ${duringFreeze} rows from sim-live during the ${FREEZE_MS} ms freeze; ` +
        `sim-frozen ${freeze.frozenRows} → ${frozenTally.rows} rows after the thaw`,
    );
  });

  it('lockstep: the phase hands its request back, resumes from its checkpoint on the other simulator, counting each step once', async () => {
    const simEnv = (id: string) => ({
      O2O_NATS_URL: nats.url,
      O2O_RUN_ROOT: root,
      O2O_SIM_ENV: ENV_ID,
      O2O_SIM_ID: id,
      O2O_SIM_HEARTBEAT_MS: '200',
    });
    const lockstep = await Promise.all([spawnSimulator(simEnv('lock-1')), spawnSimulator(simEnv('lock-2'))]);
    sims.push(...lockstep);
    const learner = await spawnLearner({
      O2O_NATS_URL: nats.url,
      O2O_RUN_ROOT: root,
      O2O_LEARNER_CHECKPOINT_EVERY: '50',
      O2O_LEARNER_ACK_WAIT_MS: '3000',
      O2O_LEARNER_PROGRESS_MS: '200',
    });
    const status = new LearnerServiceClient(learner.address);
    const watch = watchSimulators(nc, { envId: ENV_ID, heartbeatMs: 200 });
    try {
      mkdirSync(join(root, RUN_DIR), { recursive: true });
      const steps = 300;
      const spec = tinySpec({
        variant: 'scratch',
        online: { steps, startSteps: 50, batchSize: 32, evalEvery: 100, evalEpisodes: 1 },
      });
      const pending = requestPhase(nc, request(Phase.PHASE_ONLINE, spec, {}, 'lock-run'), {
        timeoutMs: 150_000,
      });
      let victim: string | undefined;
      for (;;) {
        const s = await status.status();
        const inUse = [...watch.live().values()].find((l) => l.heartbeat.mode === 'lockstep');
        if (s.runId === 'lock-run' && s.phase === 'online' && s.step >= 80 && inUse !== undefined) {
          victim = inUse.heartbeat.simulatorId;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const killed = lockstep.find((p) => p.address === watch.live().get(victim)!.heartbeat.address)!;
      await killed.stop('SIGKILL');
      const result = await pending;
      assert.equal(result.ok, true, `${result.error}\n${learner.stderr()}`);
      const log = learner.stderr();
      assert.match(
        log,
        /simulator lost at step \d+ .*handed back for redelivery in 1000 ms \(delivery 1\/5\)/,
      );
      const resumedAt = Number(/resuming lock-run online at step (\d+)/.exec(log)?.[1]);
      assert.ok(resumedAt >= 50 && resumedAt % 50 === 0, `resumed from a checkpoint: ${resumedAt}`);
      const last = loadOnlineCheckpoint(join(root, RUN_DIR, 'online-checkpoints'))!;
      assert.equal(last.state.step, steps);
      assert.equal(last.state.replay.size, steps, 'each step stored once');
      assert.deepEqual(
        last.state.evaluations.map((e) => e.step),
        [0, 100, 200, 300],
      );
      assert.equal(loadAgent(join(root, RUN_DIR, 'final.safetensors')).agent.updates, steps - 50);
      console.log(`      lockstep: ${victim} killed, resumed from step ${resumedAt} on the other simulator`);
    } finally {
      watch.stop();
      status.close();
      await learner.stop();
    }
  });
});
