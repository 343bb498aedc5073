// The world-model stage stops between epochs when asked, saving its training state, and a run resumed from
// it trains on to the same model, bit for bit, as one that never stopped; the state is removed once the
// model is saved, and a state saved for other settings is not used.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGrid, type GridRun } from '../../lib/experiment/grid.ts';
import { runPipeline } from '../../lib/experiment/pipeline.ts';
import { estimateRun, type StageHistory } from '../../lib/experiment/run-estimate.ts';
import { pretrainingProgress, progressDetail, runState } from '../../lib/experiment/run-state.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { readSafetensors } from '../../lib/nn/safetensors.ts';
import { ENV, makeDatasets, tinySpec } from './fixtures.ts';

const WM_EPOCHS = 14;

/** Stage times as if seen on this run's settings: world model 1,400 s, offline 1,000 s, online 100 s. */
function historyFor(run: GridRun): StageHistory {
  const c = run.config;
  const timed = (kind: string, work: number, seconds: number) => ({ env: c.env, kind, work, seconds });
  return {
    seconds: new Map(),
    byStage: new Map([
      ['worldModel', [timed('vae', (c.dataset?.transitions ?? 0) * c.wmEpochs, 1400)]],
      ['offline', [timed('aug', c.offlineSteps, 1000)]],
      ['online', [timed('', c.onlineSteps, 100)]],
    ]),
  };
}

function runOf(spec: Record<string, unknown>): GridRun {
  const runs = expandGrid(parseSpec(spec, 'world-model-resume.yaml'));
  assert.equal(runs.length, 1);
  return runs[0]!;
}

/** The saved world model's tensors, by name. */
function modelTensors(run: GridRun): Record<string, number[]> {
  const { tensors } = readSafetensors(run.paths.worldModel.file);
  return Object.fromEntries([...tensors].map(([name, t]) => [name, Array.from(t.data)]));
}

describe('world-model training stops between epochs and resumes exactly', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-wm-resume-'));
  const specFor = (name: string, wmEpochs = WM_EPOCHS) => {
    const base = tinySpec(dir);
    return {
      ...base,
      resultsDir: join(dir, name),
      budgets: { ...(base['budgets'] as Record<string, unknown>), wmEpochs, onlineSteps: 120 },
    };
  };
  let reference: Record<string, number[]>;
  before(async () => {
    await makeDatasets(dir);
    const run = runOf(specFor('reference'));
    assert.equal((await runPipeline(run.config, run.paths)).status, 'done');
    reference = modelTensors(run);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stopped mid-training, then resumed: the same world model as uninterrupted', async () => {
    const run = runOf(specFor('stopped'));
    const lines: string[] = [];
    let polls = 0;
    const first = await runPipeline(run.config, run.paths, {
      shouldStop: () => ++polls > 6,
      log: (l) => lines.push(l),
    });
    assert.equal(first.status, 'interrupted');
    const stopped = lines.map((l) => /stopped at epoch (\d+)\/14/.exec(l)?.[1]).find((e) => e !== undefined);
    assert.ok(stopped !== undefined && Number(stopped) > 0, `a stop between epochs: ${lines.join('\n')}`);
    assert.ok(existsSync(run.paths.worldModel.training), 'the training state is saved');
    assert.ok(!existsSync(run.paths.worldModel.marker), 'no model yet');
    // Status and the deadline's estimates see how far it got: only the epochs left are counted.
    const k = Number(stopped);
    assert.deepEqual(pretrainingProgress(run), {
      worldModel: k / WM_EPOCHS,
      detail: `world model epoch ${k}/${WM_EPOCHS}`,
    });
    assert.equal(estimateRun(run, historyFor(run)).seconds, 1400 * (1 - k / WM_EPOCHS) + 1000 + 100);
    assert.equal(progressDetail(run), `world model epoch ${k}/${WM_EPOCHS}`, 'the grid says so too');
    // TD3+BC without augmentation on the same subset does not use the world model: not under way.
    const plain = runOf({
      ...specFor('stopped'),
      groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-both'] }],
    });
    assert.equal(plain.paths.worldModel.training, run.paths.worldModel.training);
    assert.deepEqual(pretrainingProgress(plain), {});
    assert.equal(runState(plain).kind, 'waiting');

    lines.length = 0;
    assert.equal((await runPipeline(run.config, run.paths, { log: (l) => lines.push(l) })).status, 'done');
    assert.ok(
      lines.some((l) => l.includes(`resuming at epoch ${stopped}/14`)),
      lines.join('\n'),
    );
    assert.deepEqual(modelTensors(run), reference);
    assert.ok(!existsSync(run.paths.worldModel.training), 'the training state goes once the model is saved');
    assert.deepEqual(pretrainingProgress(run), {}, 'built: nothing in progress');
  });

  it('an offline stage with checkpoints is reported and estimated by the updates it has left', () => {
    const run = runOf(specFor('offline-progress'));
    mkdirSync(run.paths.offline.checkpoints, { recursive: true });
    writeFileSync(join(run.paths.offline.checkpoints, 'latest.json'), JSON.stringify({ update: 90 }));
    const c = run.config;
    assert.deepEqual(pretrainingProgress(run), {
      offline: 90 / c.offlineSteps,
      detail: `offline update 90/${c.offlineSteps}`,
    });
    mkdirSync(run.paths.onlineCheckpoints, { recursive: true });
    writeFileSync(join(run.paths.onlineCheckpoints, 'latest.json'), JSON.stringify({ step: 60 }));
    assert.equal(progressDetail(run), `online step 60/${c.onlineSteps}`, 'online, once it has a checkpoint');
    rmSync(run.paths.onlineCheckpoints, { recursive: true });
    // Its world model is not here (no marker, no file): counted whole.
    assert.equal(estimateRun(run, historyFor(run)).seconds, 1400 + 1000 * (1 - 90 / c.offlineSteps) + 100);
  });

  it('a training state saved for other settings is not used', async () => {
    // Stopped while training 20 epochs; the same directory then asked for 14: a state from the other key.
    const other = runOf(specFor('other', 20));
    let polls = 0;
    const first = await runPipeline(other.config, other.paths, { shouldStop: () => ++polls > 4 });
    assert.equal(first.status, 'interrupted');
    assert.ok(existsSync(other.paths.worldModel.training));
    const run = runOf(specFor('other'));
    assert.equal(run.paths.worldModel.training, other.paths.worldModel.training, 'one cache entry');
    const lines: string[] = [];
    assert.equal((await runPipeline(run.config, run.paths, { log: (l) => lines.push(l) })).status, 'done');
    assert.ok(
      lines.some((l) =>
        /not resuming from .*other data or options: epochs \(checkpoint 20, here 14\).*; training from the start/.test(
          l,
        ),
      ),
    );
    assert.deepEqual(modelTensors(run), reference);
  });
});
