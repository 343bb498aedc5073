// A grid invocation with O2O_TRACE_DIR is one trace across its processes: the grid's root span, a span per
// run it starts, and under each the run's own spans written by its child process (handed TRACEPARENT).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSpanFiles, summarizeTraceFiles } from '../../lib/telemetry/summary.ts';
import { ENV, makeDatasets, tinySpec, writeSpec } from './fixtures.ts';

const bin = fileURLToPath(new URL('../../bin/o2o.mjs', import.meta.url));

describe('experiment grid: one trace across the grid and its runs', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-grid-trace-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("parents each child's run spans on the grid's span of that run", async () => {
    await makeDatasets(dir);
    const groups = [
      { name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch', 'td3bc-both'] },
    ];
    const file = writeSpec(dir, 'traced', tinySpec(dir, { groups }));
    const traces = join(dir, 'traces');
    const r = spawnSync(process.execPath, [bin, 'experiment', 'run', file], {
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, O2O_TRACE_DIR: traces },
    });
    assert.equal(r.status, 0, r.stderr);

    const summary = summarizeTraceFiles(traces);
    assert.equal(summary.traces.length, 1, `traces: ${summary.traces.map((t) => t.root).join(', ')}`);
    assert.deepEqual(summary.traces[0]!.services, ['o2o-experiment', 'o2o-grid']);
    assert.equal(summary.traces[0]!.missingParents, 0);
    const { spans } = readSpanFiles(traces);
    const root = spans.find((s) => s.name === `grid ${file}`);
    assert.ok(root && root.parentSpanId === undefined);
    assert.equal(root.attributes['o2o.finished'], 2);
    for (const variant of ['scratch', 'td3bc-both']) {
      const id = `${ENV}/${variant === 'scratch' ? 'none' : 'random-400'}/${variant}/seed-0`;
      const gridRun = spans.find((s) => s.name === `grid run ${id}`);
      assert.ok(gridRun, `grid span of ${id}`);
      assert.equal(gridRun.parentSpanId, root.spanId);
      assert.equal(gridRun.service, 'o2o-grid');
      assert.equal(gridRun.attributes['o2o.outcome'], 'done');
      const run = spans.find((s) => s.name === `run ${id}`);
      assert.ok(run, `the child's span of ${id}`);
      assert.equal(run.service, 'o2o-experiment');
      assert.equal(run.parentSpanId, gridRun.spanId);
      const stages = spans.filter((s) => s.parentSpanId === run.spanId).map((s) => s.name);
      assert.deepEqual(
        stages,
        variant === 'scratch' ? ['stage online'] : ['stage dataset', 'stage offline', 'stage online'],
      );
    }
  });
});
