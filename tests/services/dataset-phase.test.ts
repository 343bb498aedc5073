// The coordinator's dataset phase: a subset of a dataset file comes with the critic's held-out check rows
// drawn from its whole source (rows it kept on one side, the rest on the other); a generated dataset,
// which has no source beyond itself, comes without.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { loadDataset, saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { readHeldOutCheck } from '../../lib/rl/held-out-check-file.ts';
import { parseSpec } from '../../lib/services/spec.ts';
import { runDatasetPhase } from '../../services/coordinator/dataset-phase.ts';

const ENV_ID = 'InvertedPendulum-v5';

/** The observation rows of a dataset, as strings, to tell whether a state is in it. */
function rowSet(observations: Float32Array, obsDim: number): Set<string> {
  const rows = new Set<string>();
  for (let r = 0; r < observations.length / obsDim; r++) {
    rows.add(observations.subarray(r * obsDim, (r + 1) * obsDim).join(','));
  }
  return rows;
}

describe('services/coordinator dataset phase', function () {
  this.timeout(60_000);
  let runDir: string;
  let source: OfflineDataset;
  before(async () => {
    runDir = mkdtempSync(join(tmpdir(), 'o2o-dataset-phase-'));
    const env = makeEnv(ENV_ID);
    source = collectDataset(env, uniformRandomPolicy(env), 3000, 11, 'dataset phase test');
    env.close();
    await saveDataset(source, 'd4rl', join(runDir, 'data', 'source.hdf5'));
  });
  after(() => rmSync(runDir, { recursive: true, force: true }));

  it('a subset: writes the subset and the held-out check rows of its whole source', async () => {
    const spec = parseSpec({
      name: 'subset',
      env: ENV_ID,
      seed: 4,
      dataset: { file: 'data/source.hdf5', subset: { transitions: 500, by: 'transition', seed: 2 } },
    });
    const out = await runDatasetPhase(spec, runDir);
    assert.deepEqual(out.outputs, { dataset: 'dataset.hdf5', critic_check: 'critic-check.hdf5' });
    const { dataset: subset } = await loadDataset(join(runDir, 'dataset.hdf5'), { envId: ENV_ID });
    const drawn = await readHeldOutCheck(join(runDir, 'critic-check.hdf5'));
    assert.deepEqual(
      { gamma: drawn.gamma, seed: drawn.seed, samples: drawn.samples, horizon: drawn.horizon },
      { gamma: 0.99, seed: 4, samples: 4096, horizon: 500 },
    );
    const { train, heldOut } = drawn.check;
    // Random-policy pendulum episodes all terminate, so every row's return is known.
    assert.equal(train.eligible, 500);
    assert.equal(heldOut.eligible, 2500);
    assert.equal(train.count, 500);
    const inSubset = rowSet(subset.observations, subset.obsDim);
    const inSource = rowSet(source.observations, source.obsDim);
    const sides = { train: rowSet(train.observations, 4), heldOut: rowSet(heldOut.observations, 4) };
    assert.equal(inSource.size, 3000, 'every source state is distinct');
    for (const row of sides.train) assert.ok(inSubset.has(row), 'a training-side row is in the subset');
    for (const row of sides.heldOut) {
      assert.ok(inSource.has(row) && !inSubset.has(row), 'a held-out row is from the source, not the subset');
    }
  });

  it('a generated dataset: no held-out check', async () => {
    const spec = parseSpec({
      name: 'generated',
      env: ENV_ID,
      dataset: { generate: { kind: 'random', transitions: 50 } },
    });
    const out = await runDatasetPhase(spec, runDir);
    assert.deepEqual(out.outputs, { dataset: 'dataset.hdf5' });
  });
});
