// Damaged and inconsistent files: each must fail with a DatasetError naming the file, the field (dataset
// path or JSON key) and, where it applies, the index — never a crash and never silently wrong data.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readD4rl, writeD4rl } from '../../lib/data/d4rl.ts';
import { DatasetError, type DatasetErrorKind } from '../../lib/data/errors.ts';
import { readMinari, writeMinari } from '../../lib/data/minari.ts';
import { syntheticDataset, tempDir } from './fixtures.ts';
import { labelledEpisodes, type RawEntry, writeRawHdf5, writeRawMinari } from './raw-hdf5.ts';

interface Expected {
  kind: DatasetErrorKind;
  file: string;
  field?: string;
  index?: number | string;
  message: RegExp;
}

async function rejects(read: () => Promise<unknown>, expected: Expected): Promise<void> {
  await assert.rejects(read, (err: unknown) => {
    assert.ok(err instanceof DatasetError, `expected a DatasetError, got ${String(err)}`);
    assert.equal(err.kind, expected.kind, err.message);
    assert.equal(err.file, expected.file, err.message);
    assert.equal(err.field, expected.field, err.message);
    assert.equal(err.index, expected.index, err.message);
    assert.match(err.message, expected.message);
    assert.ok(err.message.startsWith(expected.file), err.message);
    return true;
  });
}

/** A valid D4RL file's entries: 4 rows, Hopper dims, two episodes. */
function d4rlEntries(rows = 4, obsDim = 11, actDim = 3): Record<string, RawEntry> {
  const observations = Float32Array.from({ length: rows * obsDim }, (_, i) => i / 10);
  return {
    observations: { data: observations, shape: [rows, obsDim] },
    next_observations: {
      data: Float32Array.from(observations, (v) => v + obsDim / 10),
      shape: [rows, obsDim],
    },
    actions: { data: new Float32Array(rows * actDim).fill(0.25), shape: [rows, actDim] },
    rewards: { data: Float32Array.from({ length: rows }, (_, i) => i) },
    terminals: { data: Uint8Array.from({ length: rows }, (_, i) => (i === 1 ? 1 : 0)) },
    timeouts: { data: Uint8Array.from({ length: rows }, (_, i) => (i === rows - 1 ? 1 : 0)) },
    'metadata/env_id': { data: 'Hopper-v5' },
  };
}

describe('data: malformed files', () => {
  let dir: ReturnType<typeof tempDir>;
  let flat: string;
  let minariDir: string;
  let minariFile: string;
  beforeEach(() => {
    dir = tempDir();
    flat = join(dir.path, 'data.hdf5');
    minariDir = join(dir.path, 'test', 'hopper', 'raw-v0');
    minariFile = join(minariDir, 'data', 'main_data.hdf5');
  });
  afterEach(() => dir.remove());

  it('accepts the undamaged fixtures (so the failures below come from the damage)', async () => {
    await writeRawHdf5(flat, d4rlEntries());
    assert.equal((await readD4rl(flat)).dataset.rewards.length, 4);
    await writeRawMinari(minariDir, labelledEpisodes([3, 2]));
    assert.equal((await readMinari(minariDir)).dataset.rewards.length, 5);
  });

  it('NaN in a Minari episode names the episode dataset and row,column', async () => {
    await writeRawMinari(minariDir, labelledEpisodes([3, 4]), {
      editEntries: (entries) => {
        (entries['episode_1/observations']!.data as Float32Array)[2 * 11 + 5] = Number.NaN;
      },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'non-finite',
      file: minariFile,
      field: 'episode_1/observations',
      index: '2,5',
      message: /value is NaN/,
    });
  });

  it('Inf in D4RL rewards names the row', async () => {
    const entries = d4rlEntries();
    (entries['rewards']!.data as Float32Array)[2] = Number.POSITIVE_INFINITY;
    await writeRawHdf5(flat, entries);
    await rejects(() => readD4rl(flat), {
      kind: 'non-finite',
      file: flat,
      field: 'rewards',
      index: 2,
      message: /value is Infinity/,
    });
  });

  it('a missing D4RL field and a missing Minari episode field', async () => {
    const entries = d4rlEntries();
    delete entries['actions'];
    await writeRawHdf5(flat, entries);
    await rejects(() => readD4rl(flat), {
      kind: 'missing-field',
      file: flat,
      field: 'actions',
      message: /required dataset is missing/,
    });
    await writeRawMinari(minariDir, labelledEpisodes([3, 2]), {
      editEntries: (e) => {
        delete e['episode_1/truncations'];
      },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'missing-field',
      file: minariFile,
      field: 'episode_1/truncations',
      message: /missing/,
    });
  });

  it('row counts that disagree between D4RL fields', async () => {
    const entries = d4rlEntries();
    entries['rewards'] = { data: Float32Array.from([1, 2, 3]) };
    await writeRawHdf5(flat, entries);
    await rejects(() => readD4rl(flat), {
      kind: 'shape',
      file: flat,
      field: 'rewards',
      message: /has 3 rows, expected 4/,
    });
  });

  it('observation width wrong for the declared env', async () => {
    await writeRawHdf5(flat, d4rlEntries(4, 12, 3));
    await rejects(() => readD4rl(flat), {
      kind: 'env-dims',
      file: flat,
      field: 'observations',
      message: /12 columns but Hopper-v5 observations have 11/,
    });
    await writeRawMinari(minariDir, labelledEpisodes([3], 11, 2));
    await rejects(() => readMinari(minariDir), {
      kind: 'env-dims',
      file: minariFile,
      field: 'actions',
      message: /2 columns but Hopper-v5 actions have 3/,
    });
  });

  it('wrong dtypes: integer actions, string rewards', async () => {
    const entries = d4rlEntries();
    entries['actions'] = { data: new Int32Array(12), shape: [4, 3] };
    await writeRawHdf5(flat, entries);
    await rejects(() => readD4rl(flat), {
      kind: 'dtype',
      file: flat,
      field: 'actions',
      message: /expected 32- or 64-bit floats/,
    });
    await writeRawMinari(minariDir, labelledEpisodes([3]), {
      editEntries: (e) => {
        e['episode_0/rewards'] = { data: 'three rewards' };
      },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'dtype',
      file: minariFile,
      field: 'episode_0/rewards',
      message: /expected 32- or 64-bit floats/,
    });
  });

  it('a flag that is neither 0 nor 1', async () => {
    const entries = d4rlEntries();
    entries['terminals'] = { data: Uint8Array.from([0, 2, 0, 0]) };
    await writeRawHdf5(flat, entries);
    await rejects(() => readD4rl(flat), {
      kind: 'flag-value',
      file: flat,
      field: 'terminals',
      index: 1,
      message: /flag is 2/,
    });
  });

  it('a truncated HDF5 file', async () => {
    await writeD4rl(syntheticDataset({ lengths: [40, 40] }), flat);
    const size = readFileSync(flat).length;
    truncateSync(flat, Math.floor(size / 2));
    await rejects(() => readD4rl(flat), {
      kind: 'truncated',
      file: flat,
      message: /truncated HDF5 file: \d+ bytes on disk, the superblock records \d+/,
    });
  });

  it('a file that is not HDF5, and an empty file', async () => {
    writeFileSync(flat, 'observations,actions\n1,2\n');
    await rejects(() => readD4rl(flat), { kind: 'not-hdf5', file: flat, message: /not an HDF5 file/ });
    writeFileSync(flat, '');
    await rejects(() => readD4rl(flat), { kind: 'empty-file', file: flat, message: /file is empty/ });
  });

  it('metadata.json without total_steps, and with a count that disagrees with the episodes', async () => {
    const metadataFile = join(minariDir, 'data', 'metadata.json');
    await writeRawMinari(minariDir, labelledEpisodes([3, 2]), {
      metadata: { dataset_id: 'test/hopper/raw-v0', total_episodes: 2 },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'missing-field',
      file: metadataFile,
      field: 'total_steps',
      message: /required key is missing/,
    });
    await writeRawMinari(minariDir, labelledEpisodes([3, 2]), {
      metadata: { dataset_id: 'test/hopper/raw-v0', total_episodes: 3, total_steps: 5 },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'metadata',
      file: metadataFile,
      field: 'total_episodes',
      message: /says 3 episodes but .* holds 2/,
    });
  });

  it('observations that are not T+1 rows, and total_steps attributes that disagree', async () => {
    const episodes = labelledEpisodes([3, 4]);
    await writeRawMinari(minariDir, episodes, {
      editEntries: (e) => {
        // Same T rows as actions: the layout other tools produce by mistake.
        e['episode_1/observations'] = { data: episodes[1]!.observations.slice(0, 4 * 11), shape: [4, 11] };
      },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'shape',
      file: minariFile,
      field: 'episode_1/observations',
      message: /has 4 rows, expected 5/,
    });
    await writeRawMinari(minariDir, labelledEpisodes([3, 4]), { attrs: { 'episode_0@total_steps': 7 } });
    await rejects(() => readMinari(minariDir), {
      kind: 'episode',
      file: minariFile,
      field: 'episode_0@total_steps',
      message: /says 7 steps but the arrays hold 3/,
    });
  });

  it('a terminal flag in the middle of a Minari episode', async () => {
    await writeRawMinari(minariDir, labelledEpisodes([3, 4]), {
      editEntries: (e) => {
        e['episode_1/terminations'] = { data: Uint8Array.from([0, 1, 0, 0]) };
      },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'episode',
      file: minariFile,
      field: 'terminals',
      index: 4,
      message: /episode 1 .* flagged as ended before its last row/,
    });
  });

  it('content that no longer matches the recorded checksum', async () => {
    const source = syntheticDataset({ lengths: [4, 4] });
    await writeMinari(source, minariDir);
    const metadataFile = join(minariDir, 'data', 'metadata.json');
    const json = JSON.parse(readFileSync(metadataFile, 'utf8'));
    json.o2o.checksum = `sha256:${'0'.repeat(64)}`;
    writeFileSync(metadataFile, JSON.stringify(json));
    await rejects(() => readMinari(minariDir), {
      kind: 'checksum',
      file: minariFile,
      field: 'metadata.checksum',
      message: /does not match the recorded sha256:0{64}/,
    });
  });

  it('a Dict observation space (a group where an array is expected)', async () => {
    await writeRawMinari(minariDir, labelledEpisodes([2]), {
      editEntries: (e) => {
        const obs = e['episode_0/observations']!;
        delete e['episode_0/observations'];
        e['episode_0/observations/position'] = obs;
      },
    });
    await rejects(() => readMinari(minariDir), {
      kind: 'dtype',
      file: minariFile,
      field: 'episode_0/observations',
      message: /is a group/,
    });
  });

  it('refuses to write Minari when next states do not chain inside an episode', async () => {
    const source = syntheticDataset({ lengths: [4] });
    source.nextObservations[1 * 11 + 3] = 42;
    source.metadata.checksum = (await import('../../lib/data/dataset.ts')).contentChecksum(source);
    await assert.rejects(
      () => writeMinari(source, minariDir),
      (err: unknown) => {
        assert.ok(err instanceof DatasetError);
        assert.equal(err.kind, 'lossy');
        assert.equal(err.field, 'next_observations');
        assert.equal(err.index, '1,3');
        return true;
      },
    );
  });
});

describe('data: corrupted bytes inside a valid file', () => {
  it('every read either succeeds validated or fails with a DatasetError naming the file', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'good.hdf5');
      await writeD4rl(syntheticDataset({ lengths: [20, 30] }), file);
      const good = readFileSync(file);
      const kinds = new Set<string>();
      for (let k = 0; k < 24; k++) {
        const bytes = Buffer.from(good);
        const at = Math.floor((k / 24) * bytes.length);
        for (let i = 0; i < 48 && at + i < bytes.length; i++)
          bytes[at + i] = (bytes[at + i]! * 31 + 17 + i) & 255;
        const damaged = join(dir.path, `damaged-${k}.hdf5`);
        writeFileSync(damaged, bytes);
        try {
          await readD4rl(damaged);
          kinds.add('read');
        } catch (err) {
          assert.ok(err instanceof DatasetError, `damage at byte ${at}: ${String(err)}`);
          assert.equal(err.file, damaged);
          kinds.add(err.kind);
        }
      }
      assert.ok(kinds.size >= 3, `expected several kinds of failure, got ${[...kinds].join(', ')}`);
    } finally {
      dir.remove();
    }
  });
});
