// The grid's start order: runs already under way (their checkpoints are not committed) come before
// runs not yet started, then runs whose shared pre-training was built since the grid started (model files
// are not committed either), then the rest, each in the spec's priority order; --first moves the runs it
// matches ahead of all the others, keeping that order within each part; --spec-order keeps new
// pre-trainings in place.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GridRun } from '../../lib/experiment/grid.ts';
import { tryLock } from '../../lib/experiment/lock.ts';
import { runLockPath } from '../../lib/experiment/run-state.ts';
import { type GridOptions, runGrid, selectRuns } from '../../lib/experiment/scheduler.ts';
import { type GridSpec, parseSpec } from '../../lib/experiment/spec.ts';
import { ENV, makeDatasets, tinySpec } from './fixtures.ts';

/** A dry run's "would run" lines, in order, and its summary. */
async function dryRun(spec: GridSpec, options: Partial<GridOptions> = {}) {
  const lines: string[] = [];
  const summary = await runGrid(spec, {
    specFile: 'order.yaml',
    jobs: 1,
    only: [],
    dryRun: true,
    childCommand: () => assert.fail('a dry run starts nothing'),
    log: (line) => lines.push(line),
    shouldStop: () => false,
    ...options,
  });
  return { planned: lines.filter((l) => l.includes('would run')), summary };
}

/** "<seed> <state>" of a dry-run line. */
const seedAndState = (line: string) => /seed-(\d)\s.*\s(\w+)$/.exec(line)!.slice(1).join(' ');

describe('experiment grid order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-order-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists started runs first, then the waiting ones in priority order', async () => {
    const spec = parseSpec(
      tinySpec(dir, {
        seeds: [0, 1, 2, 3],
        groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch'] }],
      }),
      'order.yaml',
    );
    const runs = selectRuns(spec, []);
    assert.deepEqual(
      runs.map((r) => r.config.seed),
      [0, 1, 2, 3],
    );
    // Seed 2 was started by an earlier invocation: its run dir holds its config.
    mkdirSync(runs[2]!.paths.runDir, { recursive: true });
    writeFileSync(join(runs[2]!.paths.runDir, 'config.json'), JSON.stringify(runs[2]!.config));
    const { planned, summary } = await dryRun(spec);
    const order = planned.map(seedAndState);
    assert.deepEqual(order, ['2 started', '0 waiting', '1 waiting', '3 waiting']);
    assert.equal(summary.notStarted, 4);
  });

  it('puts the runs --first matches ahead, under way first within each part', async () => {
    const spec = parseSpec(
      tinySpec(join(dir, 'first'), {
        seeds: [0, 1, 2, 3],
        groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch'] }],
      }),
      'first.yaml',
    );
    const runs = selectRuns(spec, []);
    // Seeds 1 and 2 were started by an earlier invocation.
    for (const i of [1, 2]) {
      mkdirSync(runs[i]!.paths.runDir, { recursive: true });
      writeFileSync(join(runs[i]!.paths.runDir, 'config.json'), JSON.stringify(runs[i]!.config));
    }
    const orderWith = async (first: string[]) => (await dryRun(spec, { first })).planned.map(seedAndState);
    assert.deepEqual(await orderWith(['seed=3,2']), ['2 started', '3 waiting', '1 started', '0 waiting']);
    assert.deepEqual(await orderWith(['seed=0']), ['0 waiting', '1 started', '2 started', '3 waiting']);
    assert.deepEqual(await orderWith([]), ['1 started', '2 started', '0 waiting', '3 waiting']);
    await assert.rejects(orderWith(['colour=red']), /--first colour=red: unknown field/);
  });

  // td3bc-aug-both (main, tier 0) builds the world model and the augmented pre-training that
  // td3bc-aug-actor (ablation, tier 1) of the same seed only loads.
  const sharedSpec = async (sub: string) => {
    await makeDatasets(join(dir, sub));
    return parseSpec(
      tinySpec(join(dir, sub), {
        seeds: [0, 1],
        groups: [
          { name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-aug-both'] },
          { name: 'ablation', tier: 1, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-aug-actor'] },
        ],
      }),
      `${sub}.yaml`,
    );
  };
  const label = (id: string) => /(td3bc-aug-\w+)\/seed-(\d)/.exec(id)!.slice(1).join(' ');

  it('plans a run whose pre-training an earlier run builds right after it, unless --spec-order', async () => {
    const spec = await sharedSpec('planned');
    const dryOrder = async (specOrder: boolean) => (await dryRun(spec, { specOrder })).planned.map(label);
    assert.deepEqual(await dryOrder(false), [
      'td3bc-aug-both 0',
      'td3bc-aug-actor 0',
      'td3bc-aug-both 1',
      'td3bc-aug-actor 1',
    ]);
    assert.deepEqual(await dryOrder(true), [
      'td3bc-aug-both 0',
      'td3bc-aug-both 1',
      'td3bc-aug-actor 0',
      'td3bc-aug-actor 1',
    ]);
  });

  it('counts the pre-training a run in another process is building as planned', async () => {
    const spec = await sharedSpec('elsewhere');
    // Another process runs seed 0's td3bc-aug-both: its run lock is held by a live process (this one).
    const both0 = selectRuns(spec, []).find((r) => r.id.endsWith('td3bc-aug-both/seed-0'))!;
    mkdirSync(both0.paths.runDir, { recursive: true });
    const lock = tryLock(runLockPath(both0));
    assert.ok('release' in lock);
    try {
      // Seed 0's actor-only run only needs online training once seed 0's pre-training is built, so it goes
      // first (without counting that: seed 1's td3bc-aug-both, then its actor-only run, then seed 0's).
      const { planned } = await dryRun(spec);
      assert.deepEqual(planned.map(label), ['td3bc-aug-actor 0', 'td3bc-aug-both 1', 'td3bc-aug-actor 1']);
    } finally {
      lock.release();
    }
  });

  /** Seed 1's world model and augmented pre-training built at `at` (ms): marker and model file both here. */
  const buildSeed1 = (spec: GridSpec, at: number) => {
    const seed1 = selectRuns(spec, []).find((r: GridRun) => r.config.seed === 1)!;
    const { offline, worldModel } = seed1.paths;
    const finishedAt = new Date(at).toISOString();
    for (const [marker, file] of [
      [offline.marker, offline.agent],
      [worldModel.marker, worldModel.file],
    ] as const) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(marker, JSON.stringify({ key: {}, finishedAt, seconds: 1 }));
      writeFileSync(file, 'model');
    }
  };

  it('starts the runs whose shared pre-training was built since the grid started first, and says why', async () => {
    const spec = await sharedSpec('built');
    // As if a run of this grid had built it: the grid started an hour ago, the pre-training a minute ago.
    buildSeed1(spec, Date.now() - 60_000);
    const lines: string[] = [];
    const summary = await runGrid(spec, {
      specFile: 'built.yaml',
      jobs: 1,
      only: [],
      dryRun: false,
      builtSince: Date.now() - 3_600_000,
      // Children that exit at once: only the order they are started in matters here.
      childCommand: () => ({ command: process.execPath, args: ['-e', ''] }),
      log: (line) => lines.push(line),
      shouldStop: () => false,
      tickMs: 10,
    });
    const starts = lines.filter((l) => l.startsWith('[grid] start '));
    assert.deepEqual(
      starts.map((l) => label(l)),
      ['td3bc-aug-both 1', 'td3bc-aug-actor 1', 'td3bc-aug-both 0', 'td3bc-aug-actor 0'],
    );
    assert.deepEqual(
      starts.map((l) => l.includes('its shared pre-training was built since the grid started')),
      [true, true, false, false],
    );
    assert.equal(summary.finished.length, 4);
  });

  it('keeps the priority order for a pre-training built before the grid started', async () => {
    const spec = await sharedSpec('kept');
    // Built by an earlier grid (a kept workspace): not about to be lost, so seed 1 waits for seed 0, whose
    // ablation still follows the main run that builds its pre-training.
    const builtAt = Date.now() - 60_000;
    buildSeed1(spec, builtAt);
    const order = async (builtSince?: number) => (await dryRun(spec, { builtSince })).planned.map(label);
    assert.deepEqual(await order(), [
      'td3bc-aug-both 0',
      'td3bc-aug-actor 0',
      'td3bc-aug-both 1',
      'td3bc-aug-actor 1',
    ]);
    // Built since: it moves ahead (from the very millisecond the grid started).
    assert.deepEqual(await order(builtAt), [
      'td3bc-aug-both 1',
      'td3bc-aug-actor 1',
      'td3bc-aug-both 0',
      'td3bc-aug-actor 0',
    ]);
  });
});
