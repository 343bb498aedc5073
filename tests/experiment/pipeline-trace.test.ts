// A run stopped mid-stage (checkpointed, as Ctrl-C or the grid's deadline does) says so on its spans: the
// stage it stopped in and the run are marked o2o.interrupted, and no later stage has a span.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGrid } from '../../lib/experiment/grid.ts';
import { runPipeline } from '../../lib/experiment/pipeline.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { startTelemetry } from '../../lib/telemetry/index.ts';
import { readSpanFiles } from '../../lib/telemetry/summary.ts';
import { ENV, makeDatasets, tinySpec } from './fixtures.ts';

describe('experiment pipeline spans of a stopped run', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-pipeline-trace-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('marks the stage it stopped in, and the run, as interrupted', async () => {
    await makeDatasets(dir);
    const groups = [
      { name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-both'] },
    ];
    const [run] = expandGrid(parseSpec(tinySpec(dir, { groups }), 'traced.yaml'));
    const spanFile = join(dir, 'spans.jsonl');
    const telemetry = startTelemetry({ service: 'train', spanFile });
    let stage = '';
    try {
      const result = await runPipeline(run!.config, run!.paths, {
        name: run!.id,
        onStage: (s) => {
          stage = s;
        },
        // After the offline stage's first checkpointed segment.
        shouldStop: () => stage === 'offline',
      });
      assert.equal(result.status, 'interrupted');
    } finally {
      await telemetry.shutdown();
    }
    const { spans } = readSpanFiles(spanFile);
    const byName = new Map(spans.map((s) => [s.name, s]));
    assert.deepEqual([...byName.keys()].sort(), [`run ${run!.id}`, 'stage dataset', 'stage offline']);
    assert.equal(byName.get(`run ${run!.id}`)!.attributes['o2o.interrupted'], true);
    assert.equal(byName.get('stage offline')!.attributes['o2o.interrupted'], true);
    assert.equal(byName.get('stage dataset')!.attributes['o2o.interrupted'], undefined);
    assert.equal(byName.get(`run ${run!.id}`)!.attributes['o2o.final_return'], undefined);
  });
});
