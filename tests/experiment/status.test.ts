// `o2o experiment status`: one row per env × dataset × variant with its seeds' states, then each tier's
// progress, so a session can see at a glance how far the grid is.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGrid } from '../../lib/experiment/grid.ts';
import type { RunState } from '../../lib/experiment/run-state.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { formatStatus, gridStatus } from '../../lib/experiment/status.ts';
import { ENV, tinySpec } from './fixtures.ts';

describe('experiment status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-status-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts each row by state and sums every tier', () => {
    const spec = tinySpec(dir, {
      seeds: [0, 1, 2],
      groups: [
        { name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch', 'td3bc-both'] },
        { name: 'ablation', tier: 1, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-aug-actor'] },
      ],
    });
    const runs = expandGrid(parseSpec(spec, 'status.yaml'));
    // Tier 0 done but one failed scratch seed; tier 1: one running, one started (resumable), one waiting.
    const stateOf = (run: (typeof runs)[number]): RunState => {
      if (run.tier === 0)
        return run.variantLabel === 'scratch' && run.seed === 2
          ? { kind: 'failed', detail: 'boom' }
          : { kind: 'done', detail: '' };
      if (run.seed === 2) return { kind: 'started', detail: 'world model epoch 120/300' };
      return run.seed === 0 ? { kind: 'running', detail: '' } : { kind: 'waiting', detail: '' };
    };
    const rows = gridStatus(runs, stateOf);
    assert.deepEqual(
      rows.map((r) => [
        r.tier,
        r.variant,
        r.counts.done,
        r.counts.failed,
        r.counts.running,
        r.counts.started,
        r.counts.waiting,
      ]),
      [
        [0, 'scratch', 2, 1, 0, 0, 0],
        [0, 'td3bc-both', 3, 0, 0, 0, 0],
        [1, 'td3bc-aug-actor', 0, 0, 1, 1, 1],
      ],
    );
    const text = formatStatus(rows);
    assert.match(text, /seed 2 failed: boom/);
    assert.match(text, /td3bc-aug-actor .* seed 2: world model epoch 120\/300/);
    assert.match(
      text,
      /\ntier 0: 5 of 6 done \(1 failed\)\ntier 1: 0 of 3 done \(1 running, 1 started, 1 waiting\)\ntotal: 5 done, 1 running, 1 started, 1 waiting, 0 blocked, 1 failed$/,
    );
    // With the core time each tier still needs (estimateTiers): per tier, and in all.
    const estimated = formatStatus(rows, [
      { tier: 0, runs: 1, seconds: 1800, unknown: 0 },
      { tier: 1, runs: 3, seconds: 5400, unknown: 1 },
    ]);
    assert.match(
      estimated,
      /\ntier 0: 5 of 6 done \(1 failed\); core time left: ~0\.5 h for 1 run\ntier 1: 0 of 3 done \(1 running, 1 started, 1 waiting\); core time left: ~1\.5 h for 2 runs \+ 1 run with stages never timed here\ntotal: .*\ncore time left: ~2\.0 h \+ 1 run never timed$/,
    );
  });
});
