// Summary of a dataset: counts, episode return statistics, D4RL-normalised scores of those returns,
// and per-column value ranges with checks against what the declared env allows.
import { type OfflineDataset, returnStats } from './dataset.ts';
import { envDims } from './env-dims.ts';
import { D4RL_REFERENCE_RETURNS, normalizedScore, scoreFamily } from './normalized-score.ts';

export interface ColumnRange {
  field: string;
  /** Per column of the field (one entry for rewards). */
  min: number[];
  max: number[];
  mean: number[];
}

export interface DatasetInfo {
  envId: string | null;
  /** The options of the env the rows were recorded on; null for its defaults. */
  envOptions: Record<string, unknown> | null;
  transitions: number;
  episodes: number;
  completeEpisodes: number;
  fragments: number;
  terminals: number;
  timeouts: number;
  episodeLength: { min: number; max: number; mean: number };
  returns: { mean: number | null; std: number | null; min: number | null; max: number | null };
  normalizedScore: { family: string; mean: number; std: number; min: number; max: number } | null;
  ranges: ColumnRange[];
  /** Range checks that failed (values are finite here: non-finite values fail validation on read). */
  warnings: string[];
  checksum: string;
  subset: OfflineDataset['metadata']['subset'] | null;
}

function columnRange(field: string, data: Float32Array | Float64Array, width: number): ColumnRange {
  const min = new Array<number>(width).fill(Number.POSITIVE_INFINITY);
  const max = new Array<number>(width).fill(Number.NEGATIVE_INFINITY);
  const sum = new Array<number>(width).fill(0);
  const rows = data.length / width;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < width; j++) {
      const v = data[r * width + j]!;
      if (v < min[j]!) min[j] = v;
      if (v > max[j]!) max[j] = v;
      sum[j] = sum[j]! + v;
    }
  }
  return { field, min, max, mean: sum.map((s) => (rows === 0 ? 0 : s / rows)) };
}

/** Observations beyond this magnitude are far outside anything the MuJoCo tasks produce. */
const OBSERVATION_MAGNITUDE_LIMIT = 1e4;

export function datasetInfo(dataset: OfflineDataset, options: { family?: string } = {}): DatasetInfo {
  const { metadata } = dataset;
  const stats = returnStats(dataset);
  const lengths = Array.from(
    dataset.episodeEnds,
    (end, e) => end - (e === 0 ? 0 : dataset.episodeEnds[e - 1]!),
  );
  const family = options.family ?? (metadata.envId === null ? undefined : scoreFamily(metadata.envId));
  let normalized: DatasetInfo['normalizedScore'] = null;
  if (family !== undefined && Object.hasOwn(D4RL_REFERENCE_RETURNS, family) && stats.mean !== null) {
    const ref = D4RL_REFERENCE_RETURNS[family]!;
    normalized = {
      family,
      mean: normalizedScore(family, stats.mean),
      // The score is an affine map of the return, so the std scales by the same factor.
      std: (100 * stats.std!) / (ref.expert - ref.random),
      min: normalizedScore(family, stats.min!),
      max: normalizedScore(family, stats.max!),
    };
  }
  const ranges = [
    columnRange('observations', dataset.observations, dataset.obsDim),
    columnRange('actions', dataset.actions, dataset.actDim),
    columnRange('rewards', dataset.rewards, 1),
    columnRange('next_observations', dataset.nextObservations, dataset.obsDim),
    ...Object.entries(dataset.infos).map(([key, info]) => columnRange(`infos/${key}`, info.data, info.width)),
  ];
  const warnings: string[] = [];
  const dims = metadata.envId === null ? undefined : envDims(metadata.envId);
  if (dims) {
    let outside = 0;
    let first = -1;
    for (let i = 0; i < dataset.actions.length; i++) {
      if (Math.abs(dataset.actions[i]!) > dims.actionBound) {
        outside++;
        if (first < 0) first = i;
      }
    }
    if (outside > 0) {
      const row = Math.floor(first / dataset.actDim);
      warnings.push(
        `actions: ${outside} values outside [-${dims.actionBound}, ${dims.actionBound}] for ${metadata.envId} ` +
          `(first at index ${row},${first % dataset.actDim})`,
      );
    }
  }
  for (const range of ranges.filter((r) => r.field.endsWith('observations'))) {
    range.min.forEach((lo, j) => {
      const hi = range.max[j]!;
      if (Math.max(Math.abs(lo), Math.abs(hi)) > OBSERVATION_MAGNITUDE_LIMIT) {
        warnings.push(`${range.field}: column ${j} reaches ${Math.abs(lo) > Math.abs(hi) ? lo : hi}`);
      }
    });
  }
  return {
    envId: metadata.envId,
    envOptions: metadata.envOptions ?? null,
    transitions: dataset.rewards.length,
    episodes: dataset.episodeEnds.length,
    completeEpisodes: stats.completeEpisodes,
    fragments: dataset.episodeEnds.length - stats.completeEpisodes,
    terminals: dataset.terminals.reduce((n, f) => n + f, 0),
    timeouts: dataset.timeouts.reduce((n, f) => n + f, 0),
    episodeLength: {
      min: Math.min(...lengths),
      max: Math.max(...lengths),
      mean: lengths.reduce((a, b) => a + b, 0) / lengths.length,
    },
    returns: { mean: stats.mean, std: stats.std, min: stats.min, max: stats.max },
    normalizedScore: normalized,
    ranges,
    warnings,
    checksum: metadata.checksum,
    subset: metadata.subset ?? null,
  };
}
