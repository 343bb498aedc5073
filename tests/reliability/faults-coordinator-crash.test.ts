// Fault: the coordinator is killed with SIGKILL while it waits for the online phase of `o2o run`. The
// launcher restarts it as a resume: the finished phases are skipped, the online request is published
// again with the same msgID (de-duplicated by JetStream) and its result read from the stream, so the
// learner runs the phase once, and the run finishes with its report.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, PHASE_ORDER } from '../../services/coordinator/state.ts';
import { launch } from '../../services/launcher/launch.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';

const SPEC = `
name: faults-coordinator
seed: 8
env: InvertedPendulum-v5
variant: scratch
dataset: { generate: { kind: random, transitions: 20 } }
agent: { hidden: [16, 16] }
online: { steps: 400, simulators: 1, startSteps: 50, batchSize: 32, evalEvery: 100, evalEpisodes: 1 }
evaluation: { episodes: 1 }
`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('fault: coordinator killed while a phase runs (o2o run)', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-fault-coord-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is restarted as a resume and picks up the running phase without running it twice', async () => {
    writeFileSync(join(dir, 'spec.yaml'), SPEC);
    const launcherLines: string[] = [];
    const serviceLines: string[] = [];
    let learnerAddress: string | undefined;
    let coordinatorStarts = 0;
    let killer: Promise<number> | undefined;
    const killMidOnline = async (pid: number): Promise<number> => {
      const client = new LearnerServiceClient(learnerAddress!);
      try {
        for (;;) {
          const s = await client.status().catch(() => undefined);
          if (s !== undefined && s.phase === 'online' && s.step >= 100) {
            process.kill(pid, 'SIGKILL');
            return s.step;
          }
          await sleep(20);
        }
      } finally {
        client.close();
      }
    };
    const result = await launch({
      specPath: join(dir, 'spec.yaml'),
      runDir: join(dir, 'run'),
      env: { O2O_LEARNER_PROGRESS_MS: '200', O2O_COORD_PROGRESS_MS: '0' },
      restart: { maxRestarts: 1, initialBackoffMs: 200, maxBackoffMs: 200 },
      log: (line) => launcherLines.push(line),
      forward: (line) => serviceLines.push(line),
      onReady: (label, info) => {
        if (label === 'learner') learnerAddress = info.address;
        if (label !== 'coordinator') return;
        coordinatorStarts++;
        if (coordinatorStarts === 1) killer = killMidOnline(info.pid);
      },
      graceMs: 10_000,
    });
    const transcript = () => [...launcherLines, ...serviceLines].join('\n');
    assert.equal(result.ok, true, `run failed: ${result.reason}\n${transcript()}`);
    const atStep = await killer;
    assert.equal(coordinatorStarts, 2, transcript());
    assert.ok(launcherLines.some((l) => /coordinator exited unexpectedly \(SIGKILL\); restart 1\/1/.test(l)));
    assert.ok(
      serviceLines.some((l) => /\[coordinator\] resuming run /.test(l)),
      transcript(),
    );
    assert.ok(result.reportPath !== undefined && existsSync(result.reportPath));

    const state = loadState(result.runDir)!;
    for (const phase of PHASE_ORDER) {
      assert.ok(['done', 'skipped'].includes(state.phases[phase]?.status ?? ''), `${phase} finished`);
    }
    assert.equal(state.phases.online?.attempt, 1, 'the phase in flight was asked for again, same attempt');
    // The learner ran it once: one row per evaluation step, never a resume.
    const rows = readFileSync(join(result.runDir, 'online-metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(rows, [0, 100, 200, 300, 400]);
    assert.ok(!serviceLines.some((l) => /resuming .* online at step/.test(l)), 'online ran once');
    console.log(`      coordinator killed at online step ${atStep}`);
  });
});
