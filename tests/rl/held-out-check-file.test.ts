// critic-check.hdf5: the held-out check's rows survive the file exactly (the critic gives the same check
// as on the in-memory rows), an empty side round-trips, and damaged files are refused with their field.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { subsetRows } from '../../lib/data/subset.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import {
  criticOnHeldOutCheck,
  criticTrainVsHeldOut,
  drawHeldOutCheck,
} from '../../lib/rl/critic-diagnostics.ts';
import { readHeldOutCheck, writeHeldOutCheck } from '../../lib/rl/held-out-check-file.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { writeRawHdf5 } from '../data/raw-hdf5.ts';

describe('rl/held-out check file', () => {
  let dir: string;
  let source: OfflineDataset;
  let agent: Td3Agent;
  const options = { gamma: 0.99, samples: 64, seed: 5, horizon: 10 };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-check-'));
    const env = makeEnv('InvertedPendulum-v5');
    source = collectDataset(env, uniformRandomPolicy(env), 600, 2, 'check test');
    env.close();
    agent = new Td3Agent({
      obsDim: source.obsDim,
      actDim: source.actDim,
      maxAction: 3,
      hidden: [8],
      seed: 1,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips the drawn rows exactly: the critic on the read rows gives the in-memory check', async () => {
    const rows = subsetRows(source, { count: 200, mode: 'transition', seed: 3 });
    const check = drawHeldOutCheck(source, rows, options);
    assert.equal(check.train.count, 64);
    assert.equal(check.heldOut.count, 64);
    const file = join(dir, 'check.hdf5');
    await writeHeldOutCheck(file, { ...options, check });
    const read = await readHeldOutCheck(file);
    assert.deepEqual(
      { gamma: read.gamma, horizon: read.horizon, samples: read.samples, seed: read.seed },
      { gamma: 0.99, horizon: 10, samples: 64, seed: 5 },
    );
    assert.deepEqual(read.check, check);
    assert.ok(read.check.heldOut.returns instanceof Float64Array, 'returns keep float64');
    assert.deepEqual(
      criticOnHeldOutCheck(agent, read.check),
      criticTrainVsHeldOut(agent, source, rows, options),
    );
  });

  it('round-trips a side without rows (a subset that is its whole source)', async () => {
    const all = Uint32Array.from({ length: source.rewards.length }, (_, i) => i);
    const check = drawHeldOutCheck(source, all, options);
    assert.equal(check.heldOut.count, 0);
    const file = join(dir, 'empty-side.hdf5');
    await writeHeldOutCheck(file, { ...options, check });
    const read = await readHeldOutCheck(file);
    assert.deepEqual(read.check.heldOut, check.heldOut);
    assert.deepEqual(criticOnHeldOutCheck(agent, read.check).heldOut, {
      eligible: 0,
      vsReturns: null,
      meanAbsError: null,
    });
  });

  it('refuses a file that is not a check, or whose columns disagree, naming the field', async () => {
    const side = (n: number, returns = n) => ({
      'train/observations': { data: new Float32Array(n * 4), shape: [n, 4] },
      'train/actions': { data: new Float32Array(n), shape: [n, 1] },
      'train/returns': { data: new Float64Array(returns) },
      'held_out/observations': { data: new Float32Array(0), shape: [0, 4] },
      'held_out/actions': { data: new Float32Array(0), shape: [0, 1] },
      'held_out/returns': { data: new Float64Array(0) },
    });
    const attrs = {
      '@format': 'o2o-critic-held-out-check',
      '@version': 1,
      '@gamma': 0.99,
      '@horizon': 10,
      '@samples': 8,
      '@seed': 0,
      '@obs_dim': 4,
      '@act_dim': 1,
      'train@eligible': 20,
      'held_out@eligible': 0,
    };
    const ok = join(dir, 'raw-ok.hdf5');
    await writeRawHdf5(ok, side(3), attrs);
    assert.equal((await readHeldOutCheck(ok)).check.train.count, 3, 'the raw layout itself is valid');

    const foreign = join(dir, 'foreign.hdf5');
    await writeRawHdf5(foreign, side(3), { ...attrs, '@format': 'something-else' });
    await assert.rejects(readHeldOutCheck(foreign), /foreign\.hdf5: @format: /);

    const ragged = join(dir, 'ragged.hdf5');
    await writeRawHdf5(ragged, side(3, 2), attrs);
    await assert.rejects(readHeldOutCheck(ragged), /ragged\.hdf5: train: .*3, 3 and 2 rows/);

    const tooMany = join(dir, 'too-many.hdf5');
    await writeRawHdf5(tooMany, side(9), attrs);
    await assert.rejects(
      readHeldOutCheck(tooMany),
      /train: has 9 rows, more than min\(samples 8, eligible 20\)/,
    );

    const noGroup = join(dir, 'no-group.hdf5');
    const {
      'held_out/observations': _o,
      'held_out/actions': _a,
      'held_out/returns': _r,
      ...trainOnly
    } = side(3);
    const { 'held_out@eligible': _e, ...trainAttrs } = attrs;
    await writeRawHdf5(noGroup, trainOnly, trainAttrs);
    await assert.rejects(readHeldOutCheck(noGroup), /no-group\.hdf5: held_out: required group is missing/);
  });
});
