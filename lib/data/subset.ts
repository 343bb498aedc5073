// Seeded subsets of a dataset, the paper's small-data regime (10,000 transitions by default).
// - by transition: `count` rows drawn uniformly without replacement, kept in source order; consecutive
//   picked rows of one source episode stay one episode, every other pick starts a new (fragment) episode.
// - by episode: whole episodes in a seeded random order until `count` transitions are reached. The last
//   episode is cut so the subset holds exactly `count` transitions (lastEpisode 'cut', the default; the
//   cut piece keeps no terminal/timeout flag and so counts as a fragment, not in the return statistics),
//   or kept whole so the subset may hold more (lastEpisode 'whole'). Episodes keep their source order.
import { type DatasetColumns, describeColumns, episodeStart, type OfflineDataset } from './dataset.ts';
import { DatasetError } from './errors.ts';
import { SeededRandom, sampleWithoutReplacement } from './random.ts';

export const DEFAULT_SUBSET_TRANSITIONS = 10_000;

export interface SubsetOptions {
  count: number;
  mode: 'transition' | 'episode';
  seed: number;
  lastEpisode?: 'cut' | 'whole';
}

/** Copies the given source rows (ascending) with the given episode ends into a new column set. */
function gatherRows(source: DatasetColumns, rows: Uint32Array, ends: number[]): DatasetColumns {
  const n = rows.length;
  const { obsDim: d, actDim: a } = source;
  const out: DatasetColumns = {
    obsDim: d,
    actDim: a,
    observations: new Float32Array(n * d),
    actions: new Float32Array(n * a),
    rewards: new Float32Array(n),
    nextObservations: new Float32Array(n * d),
    terminals: new Uint8Array(n),
    timeouts: new Uint8Array(n),
    episodeEnds: Uint32Array.from(ends),
    infos: {},
  };
  for (const [key, info] of Object.entries(source.infos)) {
    const w = info.width;
    const data = info.data instanceof Float64Array ? new Float64Array(n * w) : new Float32Array(n * w);
    for (let i = 0; i < n; i++) data.set(info.data.subarray(rows[i]! * w, (rows[i]! + 1) * w), i * w);
    out.infos[key] = { width: w, data };
  }
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    out.observations.set(source.observations.subarray(r * d, (r + 1) * d), i * d);
    out.nextObservations.set(source.nextObservations.subarray(r * d, (r + 1) * d), i * d);
    out.actions.set(source.actions.subarray(r * a, (r + 1) * a), i * a);
    out.rewards[i] = source.rewards[r]!;
    out.terminals[i] = source.terminals[r]!;
    out.timeouts[i] = source.timeouts[r]!;
  }
  return out;
}

function episodeOfRow(source: DatasetColumns): Uint32Array {
  const episodeOf = new Uint32Array(source.rewards.length);
  for (let e = 0; e < source.episodeEnds.length; e++)
    episodeOf.fill(e, episodeStart(source, e), source.episodeEnds[e]);
  return episodeOf;
}

/** The source rows a subset holds (ascending) and where its episodes end. */
interface Selection {
  rows: Uint32Array;
  ends: number[];
}

function byTransition(source: DatasetColumns, count: number, random: SeededRandom): Selection {
  const rows = sampleWithoutReplacement(source.rewards.length, count, random).sort();
  const episodeOf = episodeOfRow(source);
  const ends: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const contiguous = rows[i] === rows[i - 1]! + 1 && episodeOf[rows[i]!] === episodeOf[rows[i - 1]!];
    if (!contiguous) ends.push(i);
  }
  ends.push(rows.length);
  return { rows, ends };
}

function byEpisode(
  source: DatasetColumns,
  count: number,
  random: SeededRandom,
  last: 'cut' | 'whole',
): Selection {
  const order = sampleWithoutReplacement(source.episodeEnds.length, source.episodeEnds.length, random);
  const chosen: { episode: number; take: number }[] = [];
  let total = 0;
  for (const episode of order) {
    if (total >= count) break;
    const length = source.episodeEnds[episode]! - episodeStart(source, episode);
    const take = last === 'cut' ? Math.min(length, count - total) : length;
    chosen.push({ episode, take });
    total += take;
  }
  chosen.sort((x, y) => x.episode - y.episode);
  const rows = new Uint32Array(total);
  const ends: number[] = [];
  let at = 0;
  for (const { episode, take } of chosen) {
    const start = episodeStart(source, episode);
    for (let t = 0; t < take; t++) rows[at++] = start + t;
    ends.push(at);
  }
  return { rows, ends };
}

export function subsetDataset(
  source: OfflineDataset,
  options: SubsetOptions,
  file = '(dataset)',
): OfflineDataset {
  const { rows, ends } = select(source, options, file);
  const columns = gatherRows(source, rows, ends);
  const { count, mode, seed } = options;
  const metadata = describeColumns(columns, {
    envId: source.metadata.envId,
    ...(source.metadata.envOptions === undefined ? {} : { envOptions: source.metadata.envOptions }),
    policy: source.metadata.policy,
    seed: source.metadata.seed,
    subset: {
      sourceChecksum: source.metadata.checksum,
      seed,
      mode,
      requested: count,
      count: columns.rewards.length,
    },
  });
  return { ...columns, metadata };
}

/**
 * The source rows (ascending) that subsetDataset with these options keeps: to tell a subset's training
 * rows from the rest of its source, which the critic's held-out check compares.
 */
export function subsetRows(source: DatasetColumns, options: SubsetOptions, file = '(dataset)'): Uint32Array {
  return select(source, options, file).rows;
}

function select(source: DatasetColumns, options: SubsetOptions, file: string): Selection {
  const { count, mode, seed } = options;
  const available = source.rewards.length;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new DatasetError('argument', { file }, `subset size must be a positive integer, got ${count}`);
  }
  if (count > available) {
    throw new DatasetError(
      'argument',
      { file },
      `asked for ${count} transitions but the dataset holds ${available}`,
    );
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new DatasetError('argument', { file }, `seed must be a non-negative integer, got ${seed}`);
  }
  const random = new SeededRandom(seed);
  return mode === 'transition'
    ? byTransition(source, count, random)
    : byEpisode(source, count, random, options.lastEpisode ?? 'cut');
}
