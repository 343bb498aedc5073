// The in-memory offline dataset: one row per transition in columnar typed arrays, episodes as
// contiguous row ranges, and a zod-checked metadata record that carries the content checksum.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { envVersionOf } from './env-dims.ts';

export const GENERATOR_VERSION = 'o2o-data 1';

/** An extra per-row column (e.g. D4RL `infos/qpos`), kept at its stored precision. */
export interface InfoColumn {
  width: number;
  data: Float32Array | Float64Array;
}

export interface DatasetColumns {
  obsDim: number;
  actDim: number;
  /** Row i is the state the action of row i was taken in. */
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObservations: Float32Array;
  /** 1 where the episode ended in a terminal state (no bootstrapping). */
  terminals: Uint8Array;
  /** 1 where the episode was cut by a time limit (bootstrapping still valid). */
  timeouts: Uint8Array;
  /** Exclusive end row of each episode, strictly increasing, the last equal to the row count. */
  episodeEnds: Uint32Array;
  infos: Record<string, InfoColumn>;
}

const finiteOrNull = z.number().finite().nullable();

export const ReturnStatsSchema = z.object({
  /** Episodes that end in a terminal or a timeout; fragments (cut subsets, end of file) are left out. */
  completeEpisodes: z.number().int().nonnegative(),
  mean: finiteOrNull,
  std: finiteOrNull,
  min: finiteOrNull,
  max: finiteOrNull,
});
export type ReturnStats = z.infer<typeof ReturnStatsSchema>;

export const SubsetProvenanceSchema = z.object({
  sourceChecksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  seed: z.number().int().nonnegative(),
  mode: z.enum(['transition', 'episode']),
  requested: z.number().int().positive(),
  count: z.number().int().nonnegative(),
});
export type SubsetProvenance = z.infer<typeof SubsetProvenanceSchema>;

export const ReconstructionSchema = z.object({
  /** D4RL rows whose next state was not in the file because a timeout ended the episode there. */
  droppedTimeoutTransitions: z.number().int().nonnegative(),
  /** The file's last row when it had no successor row. */
  droppedTrailingTransitions: z.number().int().nonnegative(),
  /** Terminal rows whose next state was taken from the following row (the next episode's reset state). */
  terminalNextFromFollowingRow: z.number().int().nonnegative(),
});

/** Where a dataset cut from a behaviour-policy run (lib/data/behaviour*.ts) came from. */
export const BehaviourProvenanceSchema = z.object({
  kind: z.enum(['medium', 'medium-replay', 'expert', 'medium-expert']),
  /** The run directory as given on the command line. */
  run: z.string().min(1),
  runEnvId: z.string().min(1),
  runSeed: z.number().int().nonnegative(),
  /** The best snapshot's deterministic evaluation return, the reference for "medium" (one third). */
  expert: z.object({ step: z.number().int().nonnegative(), evalReturn: z.number().finite() }),
  medium: z.object({ step: z.number().int().nonnegative(), evalReturn: z.number().finite() }),
  /** Std of the Gaussian action noise of the rollouts, as a fraction of maxAction (null: replay). */
  explorationNoise: z.number().nonnegative().nullable(),
  /** The dataset's parts in row order (medium-expert has two). */
  parts: z.array(
    z.object({
      source: z.enum(['medium', 'expert', 'replay']),
      snapshotStep: z.number().int().nonnegative(),
      rows: z.number().int().nonnegative(),
    }),
  ),
});
export type BehaviourProvenance = z.infer<typeof BehaviourProvenanceSchema>;

export const DatasetMetadataSchema = z.object({
  schemaVersion: z.literal(1),
  envId: z.string().min(1).nullable(),
  envVersion: z.number().int().nonnegative().nullable(),
  /**
   * Options of the env the rows were recorded on (or rewritten for, lib/envs/derive-transitions.ts), as
   * makeEnv takes them; absent for the env's defaults. Some change the observation's width.
   */
  envOptions: z.record(z.string(), z.unknown()).optional(),
  policy: z.object({ description: z.string(), return: z.number().finite().nullable() }),
  seed: z.number().int().nullable(),
  generatorVersion: z.string().min(1),
  transitions: z.number().int().nonnegative(),
  episodes: z.number().int().nonnegative(),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
  returns: ReturnStatsSchema,
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  subset: SubsetProvenanceSchema.optional(),
  nextObservationsReconstructed: ReconstructionSchema.optional(),
  behaviour: BehaviourProvenanceSchema.optional(),
});
export type DatasetMetadata = z.infer<typeof DatasetMetadataSchema>;

export interface OfflineDataset extends DatasetColumns {
  metadata: DatasetMetadata;
}

/** What a producer says about a dataset; counts, statistics and checksum are computed. */
export interface MetadataInput {
  envId: string | null;
  envOptions?: Record<string, unknown>;
  policy: { description: string; return: number | null };
  seed: number | null;
  generatorVersion?: string;
  subset?: SubsetProvenance;
  nextObservationsReconstructed?: z.infer<typeof ReconstructionSchema>;
  behaviour?: BehaviourProvenance;
}

export function rowCount(columns: Pick<DatasetColumns, 'rewards'>): number {
  return columns.rewards.length;
}

export function episodeStart(columns: Pick<DatasetColumns, 'episodeEnds'>, episode: number): number {
  return episode === 0 ? 0 : columns.episodeEnds[episode - 1]!;
}

/** Sum of rewards of each episode (float64 accumulation). */
export function episodeReturns(columns: Pick<DatasetColumns, 'episodeEnds' | 'rewards'>): Float64Array {
  const out = new Float64Array(columns.episodeEnds.length);
  let row = 0;
  for (let e = 0; e < columns.episodeEnds.length; e++) {
    let sum = 0;
    for (const end = columns.episodeEnds[e]!; row < end; row++) sum += columns.rewards[row]!;
    out[e] = sum;
  }
  return out;
}

export function isCompleteEpisode(
  columns: Pick<DatasetColumns, 'episodeEnds' | 'terminals' | 'timeouts'>,
  episode: number,
): boolean {
  const last = columns.episodeEnds[episode]! - 1;
  return columns.terminals[last] === 1 || columns.timeouts[last] === 1;
}

/** Mean, population std, min and max of the complete episodes' returns. */
export function returnStats(
  columns: Pick<DatasetColumns, 'episodeEnds' | 'rewards' | 'terminals' | 'timeouts'>,
): ReturnStats {
  const all = episodeReturns(columns);
  const returns: number[] = [];
  for (let e = 0; e < all.length; e++) if (isCompleteEpisode(columns, e)) returns.push(all[e]!);
  if (returns.length === 0) return { completeEpisodes: 0, mean: null, std: null, min: null, max: null };
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / returns.length;
  return {
    completeEpisodes: returns.length,
    mean,
    std: Math.sqrt(variance),
    min: Math.min(...returns),
    max: Math.max(...returns),
  };
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * sha256 over, in this order: obsDim and actDim (uint32 LE), observations, actions, rewards,
 * next_observations (float32 LE), terminals, timeouts (uint8), episode ends (uint32 LE), then each info
 * column in key order as its UTF-8 key, its width (uint32 LE) and its values. Metadata is not covered.
 */
export function contentChecksum(columns: DatasetColumns): string {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('contentChecksum assumes a little-endian host');
  }
  const hash = createHash('sha256');
  hash.update(bytesOf(new Uint32Array([columns.obsDim, columns.actDim])));
  for (const array of [
    columns.observations,
    columns.actions,
    columns.rewards,
    columns.nextObservations,
    columns.terminals,
    columns.timeouts,
    columns.episodeEnds,
  ]) {
    hash.update(bytesOf(array));
  }
  for (const key of Object.keys(columns.infos).sort()) {
    const info = columns.infos[key]!;
    hash.update(Buffer.from(key, 'utf8'));
    hash.update(bytesOf(new Uint32Array([info.width])));
    hash.update(bytesOf(info.data));
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Completes the metadata of a set of columns (counts, return statistics, checksum). */
export function describeColumns(columns: DatasetColumns, input: MetadataInput): DatasetMetadata {
  const metadata: DatasetMetadata = {
    schemaVersion: 1,
    envId: input.envId,
    envVersion: input.envId === null ? null : envVersionOf(input.envId),
    policy: input.policy,
    seed: input.seed,
    generatorVersion: input.generatorVersion ?? GENERATOR_VERSION,
    transitions: rowCount(columns),
    episodes: columns.episodeEnds.length,
    obsDim: columns.obsDim,
    actDim: columns.actDim,
    returns: returnStats(columns),
    checksum: contentChecksum(columns),
  };
  if (input.envOptions !== undefined && Object.keys(input.envOptions).length > 0)
    metadata.envOptions = input.envOptions;
  if (input.subset) metadata.subset = input.subset;
  if (input.nextObservationsReconstructed) {
    metadata.nextObservationsReconstructed = input.nextObservationsReconstructed;
  }
  if (input.behaviour) metadata.behaviour = input.behaviour;
  return DatasetMetadataSchema.parse(metadata);
}
