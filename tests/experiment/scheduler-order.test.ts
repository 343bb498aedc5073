// The grid's start order: runs already under way (their checkpoints are not committed) come before
// runs not yet started, which keep the spec's priority order among themselves; --first moves the runs it
// matches ahead of all the others, keeping that order within each part.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGrid, selectRuns } from '../../lib/experiment/scheduler.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { ENV, tinySpec } from './fixtures.ts';

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
    const lines: string[] = [];
    const summary = await runGrid(spec, {
      specFile: 'order.yaml',
      jobs: 1,
      only: [],
      dryRun: true,
      childCommand: () => assert.fail('a dry run starts nothing'),
      log: (line) => lines.push(line),
      shouldStop: () => false,
    });
    const order = lines
      .filter((l) => l.includes('would run'))
      .map((l) => /seed-(\d)\s.*\s(\w+)$/.exec(l)!.slice(1).join(' '));
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
    const orderWith = async (first: string[]) => {
      const lines: string[] = [];
      await runGrid(spec, {
        specFile: 'first.yaml',
        jobs: 1,
        only: [],
        first,
        dryRun: true,
        childCommand: () => assert.fail('a dry run starts nothing'),
        log: (line) => lines.push(line),
        shouldStop: () => false,
      });
      return lines
        .filter((l) => l.includes('would run'))
        .map((l) => /seed-(\d)\s.*\s(\w+)$/.exec(l)!.slice(1).join(' '));
    };
    assert.deepEqual(await orderWith(['seed=3,2']), ['2 started', '3 waiting', '1 started', '0 waiting']);
    assert.deepEqual(await orderWith(['seed=0']), ['0 waiting', '1 started', '2 started', '3 waiting']);
    assert.deepEqual(await orderWith([]), ['1 started', '2 started', '0 waiting', '3 waiting']);
    await assert.rejects(orderWith(['colour=red']), /--first colour=red: unknown field/);
  });
});
