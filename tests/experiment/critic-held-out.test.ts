import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeD4rl } from '../../lib/data/d4rl.ts';
import { subsetRows } from '../../lib/data/subset.ts';
import {
  CRITIC_HELD_OUT_FILE,
  type CriticHeldOutFile,
  checkEntry,
  findEntries,
} from '../../lib/experiment/critic-held-out.ts';
import { saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { syntheticDataset, tempDir } from '../data/fixtures.ts';

describe("experiment: the critic's held-out check of a shared pre-training", () => {
  // Hopper-v5's shapes (11, 3), every episode terminated: every row has an exact return.
  const lengths = [30, 12, 45, 8, 25, 40];
  const source = syntheticDataset({
    lengths,
    ends: lengths.map(() => 'terminal'),
    envId: 'Hopper-v5',
    seed: 3,
  });
  let dir: ReturnType<typeof tempDir>;
  let entry: string;
  let marker: { key: Record<string, unknown>; finishedAt: string; seconds: number };

  beforeEach(async () => {
    dir = tempDir();
    const file = join(dir.path, 'medium.hdf5');
    await writeD4rl(source, file);
    entry = join(dir.path, 'results', 'Hopper-v5', 'medium-40', '_pretrained', 'aug-0.5-seed-2');
    mkdirSync(join(entry, 'checkpoints'), { recursive: true });
    const dataset = { file, kind: 'medium', transitions: 40, by: 'transition', subsetSeed: 2, sha256: null };
    marker = { key: { env: 'Hopper-v5', dataset, seed: 2, augFraction: 0.5 }, finishedAt: 'T1', seconds: 1 };
    writeFileSync(join(entry, 'offline.json'), JSON.stringify(marker));
  });
  afterEach(() => dir.remove());

  it('writes train and held-out errors for the subset the entry trained on, once per build', async () => {
    const agent = new Td3Agent({ obsDim: 11, actDim: 3, maxAction: 1, hidden: [8], seed: 0 });
    saveAgent(join(entry, 'checkpoints', 'offline.safetensors'), agent);
    assert.deepEqual(findEntries(join(dir.path, 'results')), [entry]);
    assert.equal(await checkEntry(entry), 'written');
    const out = JSON.parse(readFileSync(join(entry, CRITIC_HELD_OUT_FILE), 'utf8')) as CriticHeldOutFile;
    const rows = subsetRows(source, { count: 40, mode: 'transition', seed: 2 });
    assert.equal(out.train.eligible, rows.length);
    assert.equal(out.heldOut.eligible, source.rewards.length - rows.length);
    assert.equal(out.train.vsReturns?.samples, 40, 'fewer rows than samples: all of them');
    assert.deepEqual([out.pretrainedAt, out.seed, out.gamma], ['T1', 2, agent.config.gamma]);
    assert.equal(await checkEntry(entry), 'up to date');
    assert.equal(await checkEntry(entry, { force: true }), 'written');
    // A rebuilt entry (new finishedAt) is checked again.
    writeFileSync(join(entry, 'offline.json'), JSON.stringify({ ...marker, finishedAt: 'T2' }));
    assert.equal(await checkEntry(entry), 'written');
  });

  it('skips an entry whose model file is not here, and names what is wrong in a bad marker', async () => {
    assert.equal(await checkEntry(entry), 'no model file');
    writeFileSync(join(entry, 'offline.json'), JSON.stringify({ key: { env: 'Hopper-v5', seed: 2 } }));
    await assert.rejects(checkEntry(entry), /offline\.json: key\.dataset: /);
  });
});
