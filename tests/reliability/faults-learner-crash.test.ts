// Faults during `o2o run` (the launcher with real processes: nats-server, world model, a simulator,
// learner, coordinator), one after the other in the same run:
// 1. the learner is killed with SIGKILL in the middle of online fine-tuning: the launcher restarts it,
//    JetStream redelivers the unacked PHASE_ONLINE request, and the new learner resumes from the last
//    online checkpoint;
// 2. then the coordinator is killed with SIGKILL while it waits for the resumed phase: the launcher
//    restarts it as a resume, and it asks for the phase in flight again with the same msgID, so the
//    phase is not run a second time.
// Checked: the learner resumed at the checkpoint's step, once; evaluations logged after the checkpoint by
// the dead learner were dropped and redone (each step's row once); every step counted once (the final
// checkpoint's replay holds exactly `online.steps` rows, the agent made `steps - startSteps` updates);
// every phase finished at attempt 1. Also: a learner that keeps dying exhausts its restarts and the run
// stops with an error naming it and the policy.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { loadState, PHASE_ORDER } from '../../services/coordinator/state.ts';
import { launch } from '../../services/launcher/launch.ts';
import { loadOnlineCheckpoint } from '../../services/learner/checkpoint.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { alive } from '../helpers/process.ts';

const STEPS = 400;
const START_STEPS = 50;
const EVAL_EVERY = 100;
const CHECKPOINT_EVERY = 80; // not a multiple of EVAL_EVERY: a kill can fall after an evaluation and before the next checkpoint
const SPEC = `
name: faults-learner
seed: 5
env: InvertedPendulum-v5
variant: scratch
dataset: { generate: { kind: random, transitions: 20 } }
agent: { hidden: [16, 16] }
online: { steps: ${STEPS}, simulators: 1, startSteps: ${START_STEPS}, batchSize: 32, evalEvery: ${EVAL_EVERY}, evalEpisodes: 1 }
evaluation: { episodes: 1 }
`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('faults during o2o run: learner and coordinator killed', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-fault-learner-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('restarts the learner, which resumes the redelivered request from its checkpoint, then the coordinator as a resume; each step counted once', async () => {
    writeFileSync(join(dir, 'spec.yaml'), SPEC);
    const runDir = join(dir, 'run');
    const launcherLines: string[] = [];
    const serviceLines: string[] = [];
    let learner: { pid: number; address?: string } | undefined;
    let learnerStarts = 0;
    let killed: { atStep: number; checkpointStep: number; checkpointEvals: number[] } | undefined;
    let killer: Promise<void> | undefined;
    let runOver = false; // ends the killers' polling if the run finished without them
    let coordinatorPid = 0;
    let coordinatorStarts = 0;
    let coordinatorKiller: Promise<string> | undefined;
    // Kills the coordinator once the restarted learner has taken the redelivered request.
    const killCoordinatorWhileResumed = async (address: string): Promise<string> => {
      const client = new LearnerServiceClient(address);
      try {
        while (!runOver) {
          const s = await client.status().catch(() => undefined);
          if (s !== undefined && s.phase !== 'idle' && s.phase !== '') {
            process.kill(coordinatorPid, 'SIGKILL');
            return `${s.phase} step ${s.step}`;
          }
          await sleep(20);
        }
        return 'never';
      } finally {
        client.close();
      }
    };

    // Kills the first learner once it is past its first checkpoint (and the evaluation after it).
    const killMidOnline = async (pid: number, address: string): Promise<void> => {
      const client = new LearnerServiceClient(address);
      try {
        while (!runOver) {
          const s = await client.status().catch(() => undefined);
          if (s !== undefined && s.phase === 'online' && s.step >= CHECKPOINT_EVERY + 30) {
            process.kill(pid, 'SIGKILL');
            const saved = loadOnlineCheckpoint(join(runDir, 'online-checkpoints'));
            assert.ok(saved, 'a checkpoint existed when the learner was killed');
            killed = {
              atStep: s.step,
              checkpointStep: saved.state.step,
              checkpointEvals: saved.state.evaluations.map((e) => e.step),
            };
            return;
          }
          await sleep(20);
        }
      } finally {
        client.close();
      }
    };

    const result = await launch({
      specPath: join(dir, 'spec.yaml'),
      runDir,
      env: {
        O2O_LEARNER_CHECKPOINT_EVERY: String(CHECKPOINT_EVERY),
        O2O_LEARNER_ACK_WAIT_MS: '3000',
        O2O_LEARNER_PROGRESS_MS: '200',
        O2O_COORD_PROGRESS_MS: '0',
      },
      restart: { maxRestarts: 2, initialBackoffMs: 200, maxBackoffMs: 1000 },
      log: (line) => launcherLines.push(line),
      forward: (line) => serviceLines.push(line),
      onReady: (label, info) => {
        if (label === 'coordinator') {
          coordinatorPid = info.pid;
          coordinatorStarts++;
        }
        if (label !== 'learner') return;
        learnerStarts++;
        learner = info;
        if (learnerStarts === 1) killer = killMidOnline(info.pid, info.address!);
        if (learnerStarts === 2) coordinatorKiller = killCoordinatorWhileResumed(info.address!);
      },
      graceMs: 10_000,
    });
    runOver = true;
    const transcript = () => [...launcherLines, ...serviceLines].join('\n');
    assert.equal(result.ok, true, `run failed: ${result.reason}\n${transcript()}`);
    await killer;
    assert.ok(killed !== undefined, `the learner was killed mid-run\n${transcript()}`);
    assert.equal(learnerStarts, 2, 'one restart');
    const coordinatorKilledIn = await coordinatorKiller;
    assert.equal(coordinatorStarts, 2, `the coordinator was restarted\n${transcript()}`);
    assert.ok(launcherLines.some((l) => /coordinator exited unexpectedly \(SIGKILL\); restart 1\/2/.test(l)));
    assert.ok(
      serviceLines.some((l) => /\[coordinator\] resuming run /.test(l)),
      transcript(),
    );
    assert.ok(learner !== undefined);
    assert.ok(
      launcherLines.some((l) => /learner exited unexpectedly \(SIGKILL\); restart 1\/2/.test(l)),
      transcript(),
    );

    // The redelivered request resumed at the checkpoint's step, once.
    const state = loadState(runDir)!;
    const runId = state.runId;
    const resumed = serviceLines.filter((l) => l.includes(`resuming ${runId} online at step`));
    assert.deepEqual(
      resumed.map((l) => Number(/at step (\d+)/.exec(l)?.[1])),
      [killed.checkpointStep],
      transcript(),
    );
    assert.ok(killed.checkpointStep >= CHECKPOINT_EVERY && killed.checkpointStep <= killed.atStep);
    assert.equal(state.phases.online?.status, 'done');
    assert.equal(state.phases.online?.attempt, 1, 'the same request, redelivered, not a new attempt');
    for (const phase of PHASE_ORDER) {
      const record = state.phases[phase];
      assert.ok(['done', 'skipped'].includes(record?.status ?? ''), `${phase}: ${record?.status}`);
      assert.equal(record?.attempt, 1, `${phase}: attempt`);
    }
    assert.ok(result.reportPath !== undefined && existsSync(result.reportPath), 'report written');
    assert.equal(state.phases.online?.metrics['steps'], STEPS);

    // Evaluation history: the checkpoint's evaluations are kept, and every evaluation step is logged once.
    const expectedEvals = Array.from({ length: STEPS / EVAL_EVERY + 1 }, (_, i) => i * EVAL_EVERY);
    assert.deepEqual(
      killed.checkpointEvals,
      expectedEvals.filter((s) => s <= killed!.checkpointStep),
    );
    const rows = readFileSync(join(runDir, 'online-metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(rows, expectedEvals, 'each evaluation step logged exactly once');

    // No step counted twice (or lost): the last checkpoint is at the budget with one replay row per step.
    const last = loadOnlineCheckpoint(join(runDir, 'online-checkpoints'));
    assert.ok(last);
    assert.equal(last.state.step, STEPS);
    assert.equal(last.state.replay.size, STEPS);
    assert.deepEqual(
      last.state.evaluations.map((e) => e.step),
      expectedEvals,
    );
    assert.equal(loadAgent(join(runDir, 'final.safetensors')).agent.updates, STEPS - START_STEPS);
    console.log(
      `      killed at step ${killed.atStep}, resumed from checkpoint ${killed.checkpointStep}; ` +
        `${killed.atStep - killed.checkpointStep} step(s) redone; coordinator killed during ${coordinatorKilledIn}`,
    );
  });

  it('gives up with an error naming the service and the policy once its restarts are spent', async () => {
    writeFileSync(join(dir, 'spec.yaml'), SPEC);
    const pids: number[] = [];
    const launcherLines: string[] = [];
    const result = await launch({
      specPath: join(dir, 'spec.yaml'),
      runDir: join(dir, 'run-give-up'),
      simulators: 0, // not needed: the learner never gets to a phase
      restart: { maxRestarts: 1, initialBackoffMs: 100, maxBackoffMs: 100 },
      log: (line) => launcherLines.push(line),
      forward: () => {},
      onReady: (label, info) => {
        pids.push(info.pid);
        if (label === 'learner') process.kill(info.pid, 'SIGKILL'); // dies every time it comes up
      },
      graceMs: 5_000,
    });
    assert.equal(result.ok, false);
    assert.match(
      result.reason ?? '',
      /^learner exited unexpectedly \(SIGKILL\) after 1 restart\(s\); giving up \(at most 1 restart\(s\) per service/,
      launcherLines.join('\n'),
    );
    assert.ok(
      launcherLines.some((l) => /learner exited unexpectedly \(SIGKILL\); restart 1\/1 in 100 ms/.test(l)),
    );
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} stopped`);
  });
});
