// Behaviour-policy runs and the datasets cut from them, on InvertedPendulum-v5 with tiny budgets: a real
// `o2o dataset behaviour` process is SIGKILLed mid-interval and resumed, and must end exactly where an
// uninterrupted run from the same checkpoint ends; then every kind is generated from it and read back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LiveTrainingState, restoreTraining, trainBehaviour } from '../../lib/data/behaviour.ts';
import { behaviourDataset, chooseSnapshots, openRun } from '../../lib/data/behaviour-datasets.ts';
import {
  END,
  readCheckpoint,
  readChunk,
  readRunFile,
  readTrainingLog,
  type TrainingLine,
} from '../../lib/data/behaviour-store.ts';
import { contentChecksum } from '../../lib/data/dataset.ts';
import { loadDataset, saveDataset } from '../../lib/data/load.ts';
import { tempDir } from './fixtures.ts';

const bin = fileURLToPath(new URL('../../bin/o2o.mjs', import.meta.url));
const ENV = 'InvertedPendulum-v5';
const STEPS = 600;
const EVERY = 100;
const tiny = {
  envId: ENV,
  seed: 4,
  snapshotEvery: EVERY,
  startSteps: 100,
  batchSize: 32,
  evalEpisodes: 2,
  hidden: [32, 32],
};
const tinyFlags = [
  ...['--env', ENV, '--seed', '4', '--snapshot-every', String(EVERY), '--start-steps', '100'],
  ...['--batch-size', '32', '--eval-episodes', '2', '--hidden', '32,32'],
];

function line(step: number, evalReturn: number): TrainingLine {
  return {
    step,
    snapshot: `snapshots/step-${step}.safetensors`,
    evalReturn,
    evalStd: 0,
    evalReturns: [evalReturn],
    episodes: 0,
    updates: 0,
    elapsedSeconds: 0,
  };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Everything that must agree between two runs (timings excluded). */
function fingerprint(dir: string): string {
  const cp = readCheckpoint(dir)!;
  const hash = createHash('sha256');
  hash.update(JSON.stringify(cp));
  for (const c of cp.chunks) hash.update(readFileSync(join(dir, c.file)));
  for (const l of readTrainingLog(join(dir, 'training.jsonl'))) {
    hash.update(JSON.stringify({ ...l, elapsedSeconds: 0 }));
    hash.update(readFileSync(join(dir, l.snapshot)));
  }
  return hash.digest('hex');
}

describe('data: behaviour-policy runs and D4RL-style kinds', function () {
  this.timeout(240_000);
  let dir: ReturnType<typeof tempDir>;
  let killed: string;
  before(() => {
    dir = tempDir();
    killed = join(dir.path, 'killed');
  });
  after(() => dir.remove());

  it('chooses the best snapshot as expert and the one closest to a third of it as medium', () => {
    const log = [line(0, -12), line(10, 40), line(20, 95), line(30, 300), line(40, 280), line(50, 300)];
    const c = chooseSnapshots(log);
    assert.equal(c.expert.step, 50, 'ties for best go to the later snapshot');
    assert.equal(c.mediumTarget, 100);
    assert.equal(c.medium.step, 20);
    // Negative returns (HalfCheetah early on): a third of the best is still the target.
    const neg = chooseSnapshots([line(0, -300), line(10, -30), line(20, -90), line(30, -150)]);
    assert.equal(neg.expert.step, 10);
    assert.equal(neg.medium.step, 10, '-10 is the target; -30 is nearest');
    assert.equal(chooseSnapshots([line(0, 9), line(5, 4), line(9, 2)]).medium.step, 5);
    assert.throws(() => chooseSnapshots([]), /no snapshots/);
    // Ant: the untrained network stands still for ~1,000; medium must be a trained snapshot.
    const trained = (step: number, evalReturn: number) => ({ ...line(step, evalReturn), updates: step });
    const ant = chooseSnapshots([line(0, 990), trained(10, 400), trained(20, 1500), trained(30, 3000)]);
    assert.equal(ant.medium.step, 20, 'the untrained snapshot (990, nearest 1000) is not a medium');
    assert.equal(ant.expert.step, 30);
  });

  it('a SIGKILLed run resumes from its checkpoint and ends exactly as an uninterrupted one from there', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'dataset', 'behaviour', ...tinyFlags, '--steps', String(STEPS), '--out', killed],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    const done = exited(child);
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    // Kill just after the checkpoint at step ≥ 300, i.e. somewhere inside a later interval.
    while (!finished && (readCheckpointQuiet(killed)?.step ?? 0) < 300) await sleep(10);
    child.kill('SIGKILL');
    const { signal } = await done;
    assert.equal(signal, 'SIGKILL', `the run finished before it could be killed: ${stderr}`);
    const at = readCheckpoint(killed)!.step;
    assert.ok(at >= 300 && at < STEPS && at % EVERY === 0, `checkpoint at ${at}`);

    const resumed = spawnSync(
      process.execPath,
      [bin, 'dataset', 'behaviour', ...tinyFlags, '--steps', String(STEPS), '--out', killed],
      { encoding: 'utf8', timeout: 180_000 },
    );
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resumed from step ${at}`));

    const cp = readCheckpoint(killed)!;
    assert.equal(cp.step, STEPS);
    let next = 0;
    for (const c of cp.chunks) {
      assert.equal(c.start, next, 'transition files are contiguous');
      next += c.rows;
    }
    assert.equal(next, STEPS);
    const log = readTrainingLog(join(killed, 'training.jsonl'));
    assert.deepEqual(
      log.map((l) => l.step),
      Array.from({ length: STEPS / EVERY + 1 }, (_, i) => i * EVERY),
      'one snapshot line per interval, none duplicated by the resume',
    );
    for (const l of log) assert.ok(existsSync(join(killed, l.snapshot)), l.snapshot);
    const boundary = cp.chunks.find((c) => c.start + c.rows === at)!;
    const rows = readChunk(join(killed, boundary.file), 4, 1, boundary.rows);
    assert.ok(
      rows.ends[rows.rows - 1] !== END.none,
      'the episode in progress at the checkpoint ends there (cut, unless it ended anyway)',
    );

    // The same run stopped cleanly at that checkpoint: what a restore rebuilds is what training held.
    const clean = join(dir.path, 'clean');
    let live: LiveTrainingState | undefined;
    await trainBehaviour(clean, { ...tiny, totalSteps: at, onCheckpoint: (s) => (live = s) });
    assert.equal(live?.step, at);
    const cleanCp = readCheckpoint(clean)!;
    const restored = restoreTraining(clean, readRunFile(clean), cleanCp);
    assert.deepEqual(restored.replay.exportState(), live.replay.exportState());
    assert.deepEqual(cleanCp.explorationRng, live.explorationRng);
    assert.equal(restored.agent.updates, live.agent.updates);
    assert.deepEqual(restored.agent.noiseRng.getState(), live.agent.noiseRng.getState());
    assert.deepEqual(restored.agent.actorOpt.expAvgSq, live.agent.actorOpt.expAvgSq);
    const probe = new Float64Array(4).fill(0.05);
    assert.deepEqual(restored.agent.act(probe), live.agent.act(probe));
    assert.deepEqual(
      restored.agent.qValues(Float32Array.from(probe), new Float32Array([0.3]), 1),
      live.agent.qValues(Float32Array.from(probe), new Float32Array([0.3]), 1),
    );
    // ...and extending it from there ends exactly as the killed-and-resumed run did.
    const extended = await trainBehaviour(clean, { ...tiny, totalSteps: STEPS });
    assert.equal(extended.resumedFrom, at);
    assert.equal(fingerprint(clean), fingerprint(killed));

    await assert.rejects(
      trainBehaviour(clean, { ...tiny, hidden: [16], totalSteps: STEPS }),
      /started with hidden = \[32,32\]/,
    );
  });

  it('generates expert, medium, medium-replay and medium-expert datasets with counts and provenance', async () => {
    const { log, run } = openRun(killed);
    const { expert, medium } = chooseSnapshots(log);
    const n = 240;
    const options = { transitions: n, seed: 11, noise: 0.1 };
    const med = behaviourDataset(killed, { kind: 'medium', ...options });
    const exp = behaviourDataset(killed, { kind: 'expert', ...options });
    const both = behaviourDataset(killed, { kind: 'medium-expert', ...options });
    for (const [d, snap] of [
      [med, medium],
      [exp, expert],
    ] as const) {
      assert.equal(d.metadata.transitions, n);
      assert.equal(d.metadata.policy.return, snap.evalReturn);
      assert.equal(d.metadata.behaviour?.parts[0]?.snapshotStep, snap.step);
      assert.equal(d.metadata.seed, 11);
    }
    assert.deepEqual(both.metadata.behaviour?.parts, [
      { source: 'medium', snapshotStep: medium.step, rows: n / 2 },
      { source: 'expert', snapshotStep: expert.step, rows: n / 2 },
    ]);
    // Same seed: each half is a prefix of the full rollout of its snapshot.
    const half = (n / 2) * run.obsDim;
    assert.deepEqual(both.observations.subarray(0, half), med.observations.subarray(0, half));
    assert.deepEqual(both.observations.subarray(half), exp.observations.subarray(0, half));

    const replay = behaviourDataset(killed, { kind: 'medium-replay', ...options });
    assert.equal(replay.metadata.transitions, medium.step);
    assert.equal(replay.metadata.behaviour?.explorationNoise, null);
    const recorded = readCheckpoint(killed)!.chunks.flatMap((c) =>
      Array.from(readChunk(join(killed, c.file), run.obsDim, run.actDim, c.rows).actions),
    );
    assert.deepEqual(Array.from(replay.actions), recorded.slice(0, medium.step * run.actDim));

    for (const [name, d] of [
      ['medium', med],
      ['medium-replay', replay],
      ['medium-expert', both],
    ] as const) {
      const file = join(dir.path, `${name}.hdf5`);
      await saveDataset(d, 'd4rl', file);
      const back = (await loadDataset(file)).dataset;
      assert.equal(back.metadata.checksum, contentChecksum(back));
      assert.deepEqual(back.metadata, d.metadata);
    }
  });

  it('o2o dataset generate writes the file and a manifest with its sha256 and command', () => {
    const out = join(dir.path, 'cli-expert.hdf5');
    const manifest = join(dir.path, 'manifest', 'expert.json');
    const ok = spawnSync(
      process.execPath,
      [
        ...[bin, 'dataset', 'generate', '--env', ENV, '--kind', 'expert', '--transitions', '50'],
        ...['--behaviour', killed, '--out', out, '--manifest', manifest, '--noise', '0'],
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(ok.status, 0, ok.stderr);
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    assert.equal(m.sha256, `sha256:${createHash('sha256').update(readFileSync(out)).digest('hex')}`);
    assert.match(m.command, /--kind expert --transitions 50/);
    assert.equal(m.metadata.transitions, 50);
    assert.equal(m.metadata.behaviour.explorationNoise, 0);
    const missing = spawnSync(
      process.execPath,
      [bin, 'dataset', 'generate', '--env', ENV, '--kind', 'medium', '--out', join(dir.path, 'x.hdf5')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--behaviour: required/);
    const notRun = spawnSync(
      process.execPath,
      [
        ...[bin, 'dataset', 'generate', '--env', ENV, '--kind', 'medium', '--behaviour', dir.path],
        ...['--out', join(dir.path, 'y.hdf5')],
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(notRun.status, 1);
    assert.match(notRun.stderr, /not a behaviour run \(no run\.json/);
  });
});

function readCheckpointQuiet(dir: string) {
  try {
    return readCheckpoint(dir);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
