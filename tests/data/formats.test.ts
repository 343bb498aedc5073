// Minari and D4RL round trips, the T+1 observation alignment, and D4RL next-state reconstruction.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm, { type Dataset } from 'h5wasm/node';
import { readD4rl, writeD4rl } from '../../lib/data/d4rl.ts';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { loadDataset } from '../../lib/data/load.ts';
import { readMinari, writeMinari } from '../../lib/data/minari.ts';
import { syntheticDataset, tempDir } from './fixtures.ts';
import { labelledEpisodes, writeRawHdf5, writeRawMinari } from './raw-hdf5.ts';

function assertSameContent(actual: OfflineDataset, expected: OfflineDataset): void {
  assert.equal(actual.obsDim, expected.obsDim);
  assert.equal(actual.actDim, expected.actDim);
  assert.deepEqual(actual.observations, expected.observations);
  assert.deepEqual(actual.nextObservations, expected.nextObservations);
  assert.deepEqual(actual.actions, expected.actions);
  assert.deepEqual(actual.rewards, expected.rewards);
  assert.deepEqual(actual.terminals, expected.terminals);
  assert.deepEqual(actual.timeouts, expected.timeouts);
  assert.deepEqual(actual.episodeEnds, expected.episodeEnds);
  assert.deepEqual(Object.keys(actual.infos).sort(), Object.keys(expected.infos).sort());
  for (const [key, info] of Object.entries(expected.infos)) {
    assert.equal(actual.infos[key]!.width, info.width);
    assert.deepEqual(actual.infos[key]!.data, info.data, `infos/${key}`);
  }
  assert.equal(actual.metadata.checksum, expected.metadata.checksum);
}

describe('data: formats', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('Minari → D4RL → Minari preserves every value, flag, episode boundary and the metadata', async () => {
    const source = syntheticDataset({
      lengths: [5, 9, 1, 4],
      ends: ['terminal', 'timeout', 'none', 'timeout'],
      infos: true,
    });
    const first = join(dir.path, 'ns', 'hopper', 'synthetic-v0');
    await writeMinari(source, first);
    assert.ok(existsSync(join(first, 'data', 'main_data.hdf5')));
    assert.ok(existsSync(join(dir.path, 'ns', 'namespace_metadata.json')));
    const json = JSON.parse(readFileSync(join(first, 'data', 'metadata.json'), 'utf8'));
    assert.equal(json.dataset_id, 'ns/hopper/synthetic-v0');
    assert.equal(json.total_episodes, 4);
    assert.equal(json.total_steps, 19);

    const fromMinari = (await readMinari(first)).dataset;
    assertSameContent(fromMinari, source);
    assert.deepEqual(fromMinari.metadata, source.metadata);
    const flat = join(dir.path, 'flat.hdf5');
    await writeD4rl(fromMinari, flat);
    const fromD4rl = (await readD4rl(flat)).dataset;
    assertSameContent(fromD4rl, source);
    const second = join(dir.path, 'ns', 'hopper', 'again-v1');
    await writeMinari(fromD4rl, second);
    const back = (await readMinari(second)).dataset;
    assertSameContent(back, source);
    assert.deepEqual(back.metadata, source.metadata);
  });

  it("keeps the env options rows were recorded on, whose observation width is then the options' to check", async () => {
    const options = { includeCfrcExtInObservation: false, contactCostWeight: 0 };
    const source = syntheticDataset({
      lengths: [4, 3],
      envId: 'Ant-v5',
      envOptions: options,
      obsDim: 27,
      actDim: 8,
    });
    const flat = join(dir.path, 'ant.hdf5');
    await writeD4rl(source, flat);
    const fromD4rl = (await loadDataset(flat, { envId: 'Ant-v5' })).dataset;
    assertSameContent(fromD4rl, source);
    assert.deepEqual(fromD4rl.metadata.envOptions, options);
    const minari = join(dir.path, 'ns', 'ant', 'no-contact-v0');
    await writeMinari(fromD4rl, minari);
    const json = JSON.parse(readFileSync(join(minari, 'data', 'metadata.json'), 'utf8'));
    assert.deepEqual(JSON.parse(json.env_spec).kwargs, options, "Minari's env spec builds the same env");
    assert.deepEqual((await readMinari(minari)).dataset.metadata, source.metadata);
    // The same 27-value rows said to be Ant-v5 on its defaults (105 values) are refused.
    const { envOptions: _, ...defaults } = source.metadata;
    await assert.rejects(
      writeD4rl({ ...source, metadata: defaults }, flat),
      /27 columns but Ant-v5 observations have 105/,
    );
  });

  it('D4RL → Minari → D4RL preserves every value, including float64 infos', async () => {
    const source = syntheticDataset({
      lengths: [3, 7, 6],
      ends: ['timeout', 'terminal', 'timeout'],
      infos: true,
      seed: 99,
    });
    assert.ok(source.infos['qpos']!.data instanceof Float64Array);
    const flat = join(dir.path, 'a.hdf5');
    await writeD4rl(source, flat);
    const minariDir = join(dir.path, 'x', 'hopper', 'rt-v0');
    await writeMinari((await readD4rl(flat)).dataset, minariDir);
    const flat2 = join(dir.path, 'b.hdf5');
    await writeD4rl((await readMinari(minariDir)).dataset, flat2);
    assertSameContent((await readD4rl(flat2)).dataset, source);
  });

  it('writes D4RL columns chunked and gzip-compressed, and reads them back exactly', async () => {
    const source = syntheticDataset({ lengths: [5000, 4000], ends: ['timeout', 'terminal'], seed: 5 });
    const flat = join(dir.path, 'compressed.hdf5');
    await writeD4rl(source, flat);
    await h5wasm.ready;
    const handle = new h5wasm.File(flat, 'r');
    try {
      for (const name of ['observations', 'actions', 'rewards', 'next_observations', 'terminals']) {
        const entry = handle.get(name) as Dataset;
        assert.deepEqual(
          entry.filters.map((f) => f.id),
          [1],
          `${name}: expected the gzip filter (id 1)`,
        );
      }
    } finally {
      handle.close();
    }
    assertSameContent((await readD4rl(flat)).dataset, source);
  });

  it('transition t of a Minari episode is (obs[t], action[t], reward[t], obs[t+1]) in every episode', async () => {
    const episodes = labelledEpisodes([4, 6, 3]);
    const datasetDir = join(dir.path, 'test', 'hopper', 'raw-v0');
    await writeRawMinari(datasetDir, episodes);
    const { dataset } = await readMinari(datasetDir);
    assert.equal(dataset.rewards.length, 13);
    assert.deepEqual(dataset.episodeEnds, Uint32Array.from([4, 10, 13]));
    const d = dataset.obsDim;
    let row = 0;
    episodes.forEach((ep, e) => {
      for (let t = 0; t < ep.rewards.length; t++, row++) {
        // Labels make a one-row drift visible: episode e, step t has observation 1000e + t.
        assert.equal(dataset.observations[row * d], 1000 * e + t, `obs of row ${row}`);
        assert.equal(dataset.nextObservations[row * d], 1000 * e + t + 1, `next obs of row ${row}`);
        assert.equal(dataset.rewards[row], 1000 * e + t + 0.5);
        assert.equal(dataset.actions[row * dataset.actDim], ep.actions[t * ep.actDim]);
      }
    });
    // The final observation of episode 0 is a next state only, never the state of episode 1's first row.
    assert.equal(dataset.observations[4 * d], 1000);
    assert.equal(dataset.nextObservations[3 * d], 4);
  });

  it('reads Minari ≤ 0.4 metadata from root attributes when metadata.json is absent', async () => {
    const datasetDir = join(dir.path, 'old', 'hopper', 'legacy-v0');
    await writeRawMinari(datasetDir, labelledEpisodes([2, 3]), {
      metadata: null,
      attrs: {
        '@dataset_id': 'hopper-legacy-v0',
        '@total_episodes': 2,
        '@total_steps': 5,
        '@env_spec': JSON.stringify({ id: 'Hopper-v5' }),
        '@algorithm_name': 'old policy',
      },
    });
    const { dataset } = await readMinari(datasetDir);
    assert.equal(dataset.metadata.envId, 'Hopper-v5');
    assert.equal(dataset.metadata.policy.description, 'old policy');
    assert.equal(dataset.metadata.transitions, 5);
  });

  it('reconstructs D4RL next_observations, dropping the transition across each timeout', async () => {
    // Rows 0-2: episode ending in a timeout at row 2; rows 3-4: terminal at 4; rows 5-6: unfinished.
    const obs = Float32Array.from({ length: 7 * 2 }, (_, i) => Math.floor(i / 2) * 10 + (i % 2));
    const file = join(dir.path, 'no-next.hdf5');
    await writeRawHdf5(file, {
      observations: { data: obs, shape: [7, 2] },
      actions: { data: Float32Array.from([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), shape: [7, 1] },
      rewards: { data: Float32Array.from([1, 2, 3, 4, 5, 6, 7]) },
      terminals: { data: Uint8Array.from([0, 0, 0, 0, 1, 0, 0]) },
      timeouts: { data: Uint8Array.from([0, 0, 1, 0, 0, 0, 0]) },
    });
    const { dataset, notes } = await readD4rl(file);
    // Kept rows: 0, 1 (episode cut before the timeout row, now flagged timeout), 3, 4 (terminal), 5.
    assert.deepEqual(dataset.rewards, Float32Array.from([1, 2, 4, 5, 6]));
    assert.deepEqual(dataset.episodeEnds, Uint32Array.from([2, 4, 5]));
    assert.deepEqual(dataset.timeouts, Uint8Array.from([0, 1, 0, 0, 0]));
    assert.deepEqual(dataset.terminals, Uint8Array.from([0, 0, 0, 1, 0]));
    assert.deepEqual(
      Array.from(dataset.nextObservations.filter((_, i) => i % 2 === 0)),
      [10, 20, 40, 50, 60],
    );
    assert.deepEqual(dataset.metadata.nextObservationsReconstructed, {
      droppedTimeoutTransitions: 1,
      droppedTrailingTransitions: 1,
      terminalNextFromFollowingRow: 1,
    });
    assert.match(notes.join('\n'), /reconstructed/);
  });

  it('loadDataset tells a Minari directory from a D4RL file', async () => {
    const source = syntheticDataset({ lengths: [3, 3] });
    const flat = join(dir.path, 'd.hdf5');
    await writeD4rl(source, flat);
    const minariDir = join(dir.path, 'n', 'hopper', 'd-v0');
    await writeMinari(source, minariDir);
    assert.equal((await loadDataset(flat)).format, 'd4rl');
    const viaDir = await loadDataset(minariDir);
    assert.equal(viaDir.format, 'minari');
    assert.equal(viaDir.dataset.metadata.checksum, source.metadata.checksum);
  });
});
