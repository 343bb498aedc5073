// Runs that cannot finish before the grid's deadline are not started (their checkpoints are not committed,
// so a run cut off at a session's end starts over): estimates come from the stage times of finished runs
// and cache markers, stages already built cost nothing, a resumed online stage only its remaining steps.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GridRun } from '../../lib/experiment/grid.ts';
import {
  describeMachineScale,
  estimateRun,
  estimateTiers,
  RECENT_TIMES,
  type StageHistory,
  stageHistory,
} from '../../lib/experiment/run-estimate.ts';
import { type GridOptions, type GridSummary, runGrid, selectRuns } from '../../lib/experiment/scheduler.ts';
import { type GridSpec, parseSpec } from '../../lib/experiment/spec.ts';
import { ENV, makeDatasets, tinySpec } from './fixtures.ts';

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

function markDone(
  run: GridRun,
  online: number,
  worldModel: number | null,
  offline: number | null,
  finishedAt = '2026-01-01T00:00:00.000Z',
  /** What the run ran on (done records since session 33 say). */
  platform?: { gemm: string; cpu: string; node: string },
): void {
  writeJson(run.paths.done, {
    finishedAt,
    seconds: online,
    finalReturn: 1,
    finalNormalizedScore: 1,
    stageSeconds: { worldModel, offline, online },
    ...(platform === undefined ? {} : { platform }),
  });
}

function byLabel(runs: GridRun[], variant: string, seed: number): GridRun {
  const run = runs.find((r) => r.variantLabel === variant && r.seed === seed);
  assert.ok(run !== undefined, `${variant} seed ${seed} in the grid`);
  return run;
}

/** Runs the grid with children that exit at once; what they were started for and what the grid logged. */
async function runQuickGrid(
  spec: GridSpec,
  options: Partial<GridOptions>,
): Promise<{ summary: GridSummary; started: string[]; lines: string[] }> {
  const started: string[] = [];
  const lines: string[] = [];
  const summary = await runGrid(spec, {
    specFile: 'deadline.yaml',
    jobs: 1,
    only: [],
    dryRun: false,
    childCommand: (run) => {
      started.push(run.id);
      return { command: process.execPath, args: ['-e', ''] };
    },
    log: (line) => lines.push(line),
    shouldStop: () => false,
    tickMs: 20,
    ...options,
  });
  return { summary, started, lines };
}

describe('experiment grid: deadline-aware starts', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-deadline-'));
  let spec: GridSpec;
  let runs: GridRun[];
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    await makeDatasets(dir);
    spec = parseSpec(
      tinySpec(dir, {
        seeds: [0, 1, 2, 3],
        groups: [
          {
            name: 'main',
            tier: 0,
            envs: [ENV],
            datasets: ['random-400'],
            variants: ['td3bc-aug-both', 'scratch'],
          },
        ],
      }),
      'deadline.yaml',
    );
    runs = selectRuns(spec, []);
    // Seed 0 of both variants finished: scratch's online stage took 60 s, the augmented run's world model
    // 600 s, its pre-training 1,200 s and its online stage 100 s (the cache markers hold the first two).
    markDone(byLabel(runs, 'scratch', 0), 60, null, null);
    const aug0 = byLabel(runs, 'td3bc-aug-both', 0);
    markDone(aug0, 100, 600, 1200);
    writeJson(aug0.paths.worldModel.marker, { key: {}, finishedAt: 'x', seconds: 600 });
    writeJson(aug0.paths.offline.marker, { key: {}, finishedAt: 'x', seconds: 1200 });
  });

  it('estimates what a run still needs from the stages it has left', () => {
    const history = stageHistory(runs);
    assert.equal(estimateRun(byLabel(runs, 'scratch', 1), history).seconds, 80, 'median of 60 and 100');
    const aug1 = byLabel(runs, 'td3bc-aug-both', 1);
    const fresh = estimateRun(aug1, history);
    assert.equal(fresh.seconds, 600 + 1200 + 80);
    assert.match(fresh.detail, /world model 10 min \+ offline 20 min \+ online 1 min/);
    // Markers without their model files (a fresh clone) are built again: still counted.
    writeJson(aug1.paths.worldModel.marker, { key: {}, finishedAt: 'x', seconds: 600 });
    assert.equal(estimateRun(aug1, history).seconds, 600 + 1200 + 80);
    // With the world model's file it costs nothing; a checkpoint at step 150 of 300 halves the online stage.
    writeJson(aug1.paths.worldModel.file, {});
    writeJson(join(aug1.paths.onlineCheckpoints, 'latest.json'), { step: 150 });
    assert.equal(estimateRun(aug1, history).seconds, 1200 + 40);
  });

  it('estimates from the latest times seen, not from a slower past', () => {
    const many = parseSpec(
      tinySpec(join(dir, 'recent'), {
        seeds: [0, 1, 2, 3, 4, 5, 6, 7],
        groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch'] }],
      }),
      'recent.yaml',
    );
    const scratch = selectRuns(many, []);
    // Seeds 0..6 finished; the two that finished first (seeds 5 and 6, in another load) took 1,000 s, the
    // five after them 60..100 s, 100 s the latest. Listed by seed, not by finish time.
    const finished: [number, number, string][] = [
      [0, 100, '2026-01-05T00:00:00.000Z'],
      [1, 60, '2026-01-03T00:00:00.000Z'],
      [2, 90, '2026-01-04T12:00:00.000Z'],
      [3, 70, '2026-01-03T12:00:00.000Z'],
      [4, 80, '2026-01-04T00:00:00.000Z'],
      [5, 1000, '2026-01-01T00:00:00.000Z'],
      [6, 1000, '2026-01-02T00:00:00.000Z'],
    ];
    for (const [seed, online, at] of finished)
      markDone(byLabel(scratch, 'scratch', seed), online, null, null, at);
    assert.equal(RECENT_TIMES, 3);
    const history = stageHistory(scratch);
    assert.equal(estimateRun(byLabel(scratch, 'scratch', 7), history).seconds, 90, 'median of 80, 90, 100');
    // A finish time that does not parse is the oldest: it does not push out a recent one.
    markDone(byLabel(scratch, 'scratch', 5), 5000, null, null, 'not a time');
    assert.equal(estimateRun(byLabel(scratch, 'scratch', 7), stageHistory(scratch)).seconds, 90);
  });

  it("estimates from this machine's times, and scales the others' by how much slower it ran what both timed", () => {
    const machines = parseSpec(
      tinySpec(join(dir, 'machines'), {
        seeds: [0, 1, 2, 3, 4, 5],
        groups: [
          {
            name: 'main',
            tier: 0,
            envs: [ENV],
            datasets: ['random-400'],
            variants: ['scratch', 'td3bc-both'],
          },
        ],
      }),
      'machines.yaml',
    );
    const all = selectRuns(machines, []);
    const avx512 = { gemm: 'native OpenBLAS (1 thread, Cooperlake kernels)', cpu: 'EPYC', node: 'v20.20.2' };
    const avx2 = { ...avx512, gemm: 'native OpenBLAS (1 thread, Zen kernels)' };
    // Elsewhere (one record naming its kernels, two from before records did): scratch's online stage 100 s,
    // TD3+BC's pre-training 1,000 s. Here (Zen kernels): scratch's online stage 200 s.
    markDone(byLabel(all, 'scratch', 0), 100, null, null, '2026-01-01T00:00:00.000Z', avx512);
    markDone(byLabel(all, 'scratch', 1), 100, null, null, '2026-01-02T00:00:00.000Z');
    const bc = byLabel(all, 'td3bc-both', 0);
    markDone(bc, 100, null, 1000, '2026-01-02T00:00:00.000Z');
    writeJson(bc.paths.offline.marker, { key: {}, finishedAt: '2026-01-02T00:00:00.000Z', seconds: 1000 });
    markDone(byLabel(all, 'scratch', 2), 200, null, null, '2026-01-03T00:00:00.000Z', avx2);
    const bc1 = byLabel(all, 'td3bc-both', 1);
    // Without a machine: the latest three of every time, as before.
    assert.equal(estimateRun(byLabel(all, 'scratch', 5), stageHistory(all)).seconds, 100);
    const here = stageHistory(all, { gemm: avx2.gemm });
    assert.deepEqual(here.otherMachines, { factor: 2, keys: 1 });
    // Online: this machine's own time only; the pre-training never timed here: 1,000 s elsewhere × 2.
    assert.equal(estimateRun(byLabel(all, 'scratch', 5), here).seconds, 200);
    assert.equal(estimateRun(bc1, here).seconds, 2000 + 200);
    assert.match(describeMachineScale(here.otherMachines), /× 2\.00 \(the median over 1 stage key timed/);
    // A record that names no kernels but finished since this session began was taken here too.
    markDone(byLabel(all, 'scratch', 3), 400, null, null, '2026-01-04T00:00:00.000Z');
    const since = stageHistory(all, { gemm: avx2.gemm, since: Date.parse('2026-01-03T12:00:00.000Z') });
    assert.equal(estimateRun(byLabel(all, 'scratch', 5), since).seconds, 300, 'median of 200 and 400');
    assert.deepEqual(since.otherMachines, { factor: 3, keys: 1 });
    assert.equal(estimateRun(bc1, since).seconds, 3000 + 300);
    // Nothing timed here yet: no scaling, and status says so.
    const elsewhere = stageHistory(all, { gemm: 'native OpenBLAS (1 thread, Haswell kernels)' });
    assert.deepEqual(elsewhere.otherMachines, { factor: 1, keys: 0 });
    assert.match(describeMachineScale(elsewhere.otherMachines), /no stage timed both/);
  });

  it('totals core time per tier with each shared pre-training counted once', () => {
    const shared = parseSpec(
      tinySpec(dir, {
        seeds: [2],
        groups: [
          { name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-aug-both'] },
          {
            name: 'ablation',
            tier: 1,
            envs: [ENV],
            datasets: ['random-400'],
            variants: ['td3bc-aug-actor', 'scratch'],
          },
        ],
      }),
      'shared.yaml',
    );
    // Seed 2's world model and pre-training are built once, for the tier-0 run; the actor-only run of
    // tier 1 only fine-tunes, like the scratch run.
    assert.deepEqual(estimateTiers(selectRuns(shared, []), stageHistory(runs)), [
      { tier: 0, runs: 1, seconds: 600 + 1200 + 80, unknown: 0 },
      { tier: 1, runs: 2, seconds: 80 + 80, unknown: 0 },
    ]);
  });

  it('guesses settings never timed from the times seen scaled to the run, and says nothing with no history', () => {
    const other = parseSpec(
      tinySpec(dir, {
        budgets: { ...(tinySpec(dir)['budgets'] as object), onlineSteps: 600 },
        datasets: { 'random-800': { kind: 'random', transitions: 800, by: 'transition' } },
        groups: [
          { name: 'main', tier: 0, envs: [ENV], datasets: ['random-800'], variants: ['td3bc-aug-both'] },
        ],
      }),
      'other.yaml',
    );
    const [run] = selectRuns(other, []);
    // Online 600 steps: the two 300-step online stages seen (60 s, 100 s) doubled, median 160 s; a world
    // model on 800 transitions: the one timed on 400 (600 s) scaled to twice the data; offline
    // pre-training does not depend on the dataset size, so its own median (1,200 s) applies.
    const guessed = estimateRun(run!, stageHistory(runs));
    assert.equal(guessed.seconds, 1200 + 1200 + 160);
    assert.match(guessed.detail, /world model ~20 min \+ offline 20 min \+ online ~3 min/);
    assert.equal(estimateRun(run!, stageHistory([])).seconds, undefined, 'nothing finished yet');
    // The same env and kind first (augmentation doubles an update's cost), then the same kind.
    const c = run!.config;
    const timed = (env: string, kind: string, work: number, seconds: number) => ({
      env,
      kind,
      work,
      seconds,
    });
    const wmWork = (c.dataset?.transitions ?? 0) * c.wmEpochs;
    const history: StageHistory = {
      seconds: new Map(),
      byStage: new Map([
        ['worldModel', [timed('Other-v5', 'vae', wmWork, 50)]],
        ['offline', [timed(ENV, 'bc', c.offlineSteps, 300), timed('Other-v5', 'aug', c.offlineSteps, 900)]],
        ['online', [timed(ENV, '', c.onlineSteps / 2, 100), timed('Other-v5', '', c.onlineSteps, 1000)]],
      ]),
    };
    assert.equal(estimateRun(run!, history).seconds, 50 + 900 + 200);
    // A control world model is fitted in seconds and predicts cheaply: guessed from controls only, even
    // from another env, never from the VAE's times on this one.
    const linearRun = { ...run!, config: { ...c, worldModel: 'linear' as const } };
    const withControl: StageHistory = {
      seconds: new Map(),
      byStage: new Map([
        ['worldModel', [timed(ENV, 'vae', wmWork, 600), timed('Other-v5', 'vae|linear', wmWork, 1)]],
        [
          'offline',
          [timed(ENV, 'aug', c.offlineSteps, 900), timed('Other-v5', 'aug|linear', c.offlineSteps, 300)],
        ],
        ['online', [timed(ENV, '', c.onlineSteps, 100)]],
      ]),
    };
    assert.equal(estimateRun(linearRun, withControl).seconds, 1 + 300 + 100);
  });

  it('times LayerNorm-critic runs apart from the paper networks', () => {
    const ln = parseSpec(
      tinySpec(dir, {
        seeds: [0, 1],
        variants: {
          scratch: { variant: 'scratch' },
          'scratch-ln': { variant: 'scratch', criticLayerNorm: true },
        },
        groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch-ln'] }],
      }),
      'ln.yaml',
    );
    const lnRuns = selectRuns(ln, []);
    markDone(byLabel(lnRuns, 'scratch-ln', 0), 150, null, null);
    const history = stageHistory([...runs, ...lnRuns]);
    // The paper-network runs of the same env and budget (60 s, 100 s) are no estimate for it, nor it for them.
    assert.equal(estimateRun(byLabel(lnRuns, 'scratch-ln', 1), history).seconds, 150);
    assert.equal(estimateRun(byLabel(runs, 'scratch', 1), history).seconds, 80);
    rmSync(byLabel(lnRuns, 'scratch-ln', 0).paths.done);
  });

  it('with 10 minutes left starts the short scratch runs and holds back the long augmented ones', async () => {
    const { summary, started, lines } = await runQuickGrid(spec, { deadline: Date.now() + 10 * 60_000 });
    // Seed 1's augmented run (world model built, 20 min of pre-training left) and seeds 2-3 (~31 min) wait.
    assert.deepEqual(started, [
      `${ENV}/none/scratch/seed-1`,
      `${ENV}/none/scratch/seed-2`,
      `${ENV}/none/scratch/seed-3`,
    ]);
    assert.equal(summary.notStarted, 3);
    const held = lines.filter((l) => l.includes('holding back'));
    assert.equal(held.length, 1, 'one line for the highest-priority run held back, not one per run');
    assert.match(
      held[0]!,
      /td3bc-aug-both\/seed-1: it needs ~21 min \(offline 20 min \+ online 1 min\), 10 min are left/,
    );
  });

  it('--start-late starts them anyway, and without a deadline nothing is held back', async () => {
    for (const options of [{ deadline: Date.now() + 60_000, startLate: true }, {}]) {
      const { started } = await runQuickGrid(spec, { jobs: 2, only: ['variant=td3bc-aug-both'], ...options });
      assert.equal(started.length, 3, JSON.stringify(options));
    }
  });

  it('--fill-idle starts the runs that fit first, then the held-back ones rather than leave the job idle', async () => {
    const { started, lines } = await runQuickGrid(spec, {
      deadline: Date.now() + 10 * 60_000,
      fillIdle: true,
    });
    // The scratch runs fit in 10 minutes and go first, although the augmented ones come first in the
    // priority order; then the augmented ones, which do not fit, in that order.
    assert.deepEqual(started, [
      `${ENV}/none/scratch/seed-1`,
      `${ENV}/none/scratch/seed-2`,
      `${ENV}/none/scratch/seed-3`,
      `${ENV}/random-400/td3bc-aug-both/seed-1`,
      `${ENV}/random-400/td3bc-aug-both/seed-2`,
      `${ENV}/random-400/td3bc-aug-both/seed-3`,
    ]);
    const filled = lines.filter((l) => l.includes('--fill-idle'));
    assert.equal(filled.length, 3, lines.join('\n'));
    assert.match(filled[0]!, /start .*td3bc-aug-both\/seed-1 .*nothing left fits before the deadline/);
  });

  it('estimates a selection (--only) from every finished run of the spec, not only the selected ones', async () => {
    // Two more scratch runs, finished later, took 1,000 s online: the median of the spec's latest three
    // online times is now 1,000 s (100, 1,000, 1,000); over the augmented runs alone it would still be 100 s.
    markDone(byLabel(runs, 'scratch', 2), 1000, null, null, '2026-01-02T00:00:00.000Z');
    markDone(byLabel(runs, 'scratch', 3), 1000, null, null, '2026-01-03T00:00:00.000Z');
    const lines: string[] = [];
    await runGrid(spec, {
      specFile: 'deadline.yaml',
      jobs: 1,
      only: ['variant=td3bc-aug-both'],
      dryRun: true,
      childCommand: () => assert.fail('a dry run starts nothing'),
      log: (line) => lines.push(line),
      shouldStop: () => false,
      tickMs: 20,
    });
    // Seed 2: world model 600 s + pre-training 1,200 s + online 1,000 s.
    const seed2 = lines.find((l) => l.includes('td3bc-aug-both/seed-2'));
    assert.match(seed2 ?? lines.join('\n'), /~47 min/);
  });
});
