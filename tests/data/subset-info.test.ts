// Seeded subsets (determinism, boundaries, provenance) and dataset info against hand-computed figures.
import assert from 'node:assert/strict';
import { describeColumns, episodeStart, type OfflineDataset, returnStats } from '../../lib/data/dataset.ts';
import { DatasetError } from '../../lib/data/errors.ts';
import { datasetInfo } from '../../lib/data/info.ts';
import { D4RL_REFERENCE_RETURNS, normalizedScore, scoreFamily } from '../../lib/data/normalized-score.ts';
import { subsetDataset, subsetRows } from '../../lib/data/subset.ts';
import { validateDataset } from '../../lib/data/validate.ts';
import { syntheticDataset } from './fixtures.ts';

/** Source row of each subset row, found by matching observation rows (all distinct in the fixture). */
function sourceRows(source: OfflineDataset, subset: OfflineDataset): number[] {
  const d = source.obsDim;
  const index = new Map<string, number>();
  for (let r = 0; r < source.rewards.length; r++)
    index.set(source.observations.subarray(r * d, (r + 1) * d).join(), r);
  return Array.from({ length: subset.rewards.length }, (_, r) => {
    const found = index.get(subset.observations.subarray(r * d, (r + 1) * d).join());
    assert.notEqual(found, undefined, `subset row ${r} is not a source row`);
    return found!;
  });
}

describe('data: subsets', () => {
  const lengths = [30, 12, 45, 8, 25, 40, 17, 33];
  const source = syntheticDataset({ lengths, seed: 3 });

  it('by transition: same seed same rows, another seed other rows, uniform without replacement', () => {
    const a = subsetDataset(source, { count: 50, mode: 'transition', seed: 11 });
    const b = subsetDataset(source, { count: 50, mode: 'transition', seed: 11 });
    const c = subsetDataset(source, { count: 50, mode: 'transition', seed: 12 });
    assert.equal(a.metadata.checksum, b.metadata.checksum);
    assert.notEqual(a.metadata.checksum, c.metadata.checksum);
    const rows = sourceRows(source, a);
    assert.equal(new Set(rows).size, 50);
    assert.deepEqual(
      rows,
      [...rows].sort((x, y) => x - y),
    );
    validateDataset(a, 'subset');
    // Rows keep their own next state, flags and reward.
    for (let r = 0; r < rows.length; r++) {
      assert.equal(a.rewards[r], source.rewards[rows[r]!]);
      assert.equal(a.terminals[r], source.terminals[rows[r]!]);
    }
    // An episode of the subset never spans a gap or two source episodes.
    for (let e = 0; e < a.episodeEnds.length; e++) {
      for (let r = episodeStart(a, e) + 1; r < a.episodeEnds[e]!; r++)
        assert.equal(rows[r], rows[r - 1]! + 1);
    }
    assert.deepEqual(a.metadata.subset, {
      sourceChecksum: source.metadata.checksum,
      seed: 11,
      mode: 'transition',
      requested: 50,
      count: 50,
    });
  });

  it('by transition: the full size is a permutation-free copy of the source', () => {
    const all = subsetDataset(source, { count: source.rewards.length, mode: 'transition', seed: 5 });
    assert.deepEqual(all.observations, source.observations);
    assert.deepEqual(all.episodeEnds, source.episodeEnds);
  });

  it('by episode: whole episodes, the last one cut so the count is exact', () => {
    const a = subsetDataset(source, { count: 100, mode: 'episode', seed: 4 });
    assert.equal(a.rewards.length, 100);
    assert.equal(
      a.metadata.checksum,
      subsetDataset(source, { count: 100, mode: 'episode', seed: 4 }).metadata.checksum,
    );
    const rows = sourceRows(source, a);
    const starts = new Set(lengths.map((_, e) => episodeStart(source, e)));
    let cut = 0;
    for (let e = 0; e < a.episodeEnds.length; e++) {
      const start = episodeStart(a, e);
      const length = a.episodeEnds[e]! - start;
      assert.ok(
        starts.has(rows[start]!),
        `subset episode ${e} starts at source row ${rows[start]}, not an episode start`,
      );
      for (let r = start + 1; r < a.episodeEnds[e]!; r++) assert.equal(rows[r], rows[r - 1]! + 1);
      const sourceEpisode = lengths.findIndex((_, s) => episodeStart(source, s) === rows[start]);
      if (length < lengths[sourceEpisode]!) cut++;
    }
    assert.ok(cut <= 1, 'at most one episode is cut');
    validateDataset(a, 'subset');
    const whole = subsetDataset(source, { count: 100, mode: 'episode', seed: 4, lastEpisode: 'whole' });
    assert.ok(whole.rewards.length >= 100);
    assert.equal(whole.metadata.subset?.count, whole.rewards.length);
    assert.equal(whole.metadata.returns.completeEpisodes, whole.episodeEnds.length);
  });

  it('names the source rows a subset holds, for either mode', () => {
    for (const options of [
      { count: 50, mode: 'transition', seed: 11 },
      { count: 100, mode: 'episode', seed: 4 },
    ] as const) {
      const rows = subsetRows(source, options);
      assert.deepEqual(Array.from(rows), sourceRows(source, subsetDataset(source, options)), options.mode);
    }
    assert.throws(() => subsetRows(source, { count: 10_000, mode: 'transition', seed: 1 }), DatasetError);
  });

  it('rejects sizes beyond the dataset and bad seeds with a DatasetError', () => {
    assert.throws(() => subsetDataset(source, { count: 10_000, mode: 'transition', seed: 1 }), DatasetError);
    assert.throws(() => subsetDataset(source, { count: 0, mode: 'episode', seed: 1 }), DatasetError);
    assert.throws(() => subsetDataset(source, { count: 5, mode: 'episode', seed: -1 }), DatasetError);
  });
});

describe('data: info', () => {
  it('counts, returns and D4RL-normalised scores match hand computation', () => {
    // Episodes of rewards [1,2,3] (terminal), [10,10] (timeout), [5] (fragment: excluded from returns).
    const base = syntheticDataset({ lengths: [3, 2, 1], ends: ['terminal', 'timeout', 'none'] });
    base.rewards.set([1, 2, 3, 10, 10, 5]);
    const dataset: OfflineDataset = {
      ...base,
      metadata: describeColumns(base, {
        envId: 'Hopper-v5',
        policy: { description: 't', return: null },
        seed: 0,
      }),
    };
    const info = datasetInfo(dataset);
    assert.equal(info.transitions, 6);
    assert.equal(info.episodes, 3);
    assert.equal(info.completeEpisodes, 2);
    assert.equal(info.fragments, 1);
    assert.equal(info.terminals, 1);
    assert.equal(info.timeouts, 1);
    assert.deepEqual(info.episodeLength, { min: 1, max: 3, mean: 2 });
    assert.deepEqual(info.returns, { mean: 13, std: 7, min: 6, max: 20 });
    const span = 3234.3 + 20.272305;
    assert.ok(Math.abs(info.normalizedScore!.mean - (100 * (13 + 20.272305)) / span) < 1e-9);
    assert.ok(Math.abs(info.normalizedScore!.std - 700 / span) < 1e-9);
    assert.ok(Math.abs(info.normalizedScore!.max - (100 * (20 + 20.272305)) / span) < 1e-9);
    const rewards = info.ranges.find((r) => r.field === 'rewards')!;
    assert.deepEqual([rewards.min[0], rewards.max[0]], [1, 10]);
    assert.ok(Math.abs(rewards.mean[0]! - 31 / 6) < 1e-6);
    assert.deepEqual(info.warnings, []);
    assert.equal(info.envOptions, null);
    const options = { contactCostWeight: 0 };
    const optioned = { ...dataset, metadata: { ...dataset.metadata, envOptions: options } };
    assert.deepEqual(datasetInfo(optioned).envOptions, options);
    assert.deepEqual(returnStats(dataset), { completeEpisodes: 2, mean: 13, std: 7, min: 6, max: 20 });
  });

  it('warns about actions outside the env bound, naming the first index', () => {
    const base = syntheticDataset({ lengths: [4] });
    base.actions[2 * 3 + 1] = 1.5;
    const info = datasetInfo({
      ...base,
      metadata: describeColumns(base, {
        envId: 'Hopper-v5',
        policy: { description: 't', return: null },
        seed: 0,
      }),
    });
    assert.equal(info.warnings.length, 1);
    assert.match(
      info.warnings[0]!,
      /actions: 1 values outside \[-1, 1\] for Hopper-v5 \(first at index 2,1\)/,
    );
  });

  it('normalised score table: random return scores 0, expert 100, families from env ids and D4RL names', () => {
    for (const [family, ref] of Object.entries(D4RL_REFERENCE_RETURNS)) {
      assert.equal(normalizedScore(family, ref.random), 0);
      assert.ok(Math.abs(normalizedScore(family, ref.expert) - 100) < 1e-9);
    }
    assert.equal(scoreFamily('HalfCheetah-v5'), 'halfcheetah');
    assert.equal(scoreFamily('walker2d-medium-replay-v2'), 'walker2d');
    assert.equal(scoreFamily('InvertedPendulum-v5'), undefined);
    assert.throws(() => normalizedScore('pendulum', 1), /no D4RL reference returns for 'pendulum'/);
  });
});
