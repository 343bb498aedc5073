// D4RL layout: one flat HDF5 file, N rows per dataset: observations, actions, rewards, terminals,
// timeouts, optional next_observations, infos/*, metadata/*. Episodes end after a terminal or a timeout;
// files written here also store metadata/episode_ends, so fragments without either flag survive.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Group } from 'h5wasm/node';
import {
  type DatasetColumns,
  DatasetMetadataSchema,
  describeColumns,
  type InfoColumn,
  type OfflineDataset,
} from './dataset.ts';
import { DatasetError } from './errors.ts';
import {
  closeQuietly,
  createFile,
  getGroup,
  hasEntity,
  openForRead,
  readAttribute,
  readFloatMatrix,
  readText,
  requireFlags,
  requireFloatMatrix,
} from './hdf5.ts';
import type { ReadResult } from './minari.ts';
import { validateColumns, validateDataset } from './validate.ts';

const O2O_METADATA = 'metadata/o2o_metadata';
const EPISODE_ENDS = 'metadata/episode_ends';

/** Rows per HDF5 chunk of a column (a chunk of 105-wide float32 observations is ~1.7 MB). */
const CHUNK_ROWS = 4096;

/**
 * Shape of a column, chunked and gzip-compressed (level 4) when it has rows: readers decompress
 * transparently, and the committed reproduction datasets shrink (Ant's contact forces are mostly 0).
 */
function compressedLayout(
  rows: number,
  width?: number,
): { shape: number[]; chunks?: number[]; compression?: 'gzip'; compression_opts?: number } {
  const shape = width === undefined ? [rows] : [rows, width];
  if (rows === 0 || width === 0) return { shape };
  const chunkRows = Math.min(rows, CHUNK_ROWS);
  return {
    shape,
    chunks: width === undefined ? [chunkRows] : [chunkRows, width],
    compression: 'gzip',
    compression_opts: 4,
  };
}

export async function writeD4rl(dataset: OfflineDataset, path: string): Promise<string> {
  const file = resolve(path);
  validateDataset(dataset, '(in-memory dataset)');
  mkdirSync(dirname(file), { recursive: true });
  const rows = dataset.rewards.length;
  const handle = await createFile(file);
  try {
    const column = (name: string, data: Float32Array | Uint8Array, width?: number) =>
      handle.create_dataset({ name, data, ...compressedLayout(rows, width) });
    column('observations', dataset.observations, dataset.obsDim);
    column('actions', dataset.actions, dataset.actDim);
    column('rewards', dataset.rewards);
    column('next_observations', dataset.nextObservations, dataset.obsDim);
    column('terminals', dataset.terminals);
    column('timeouts', dataset.timeouts);
    const keys = Object.keys(dataset.infos);
    if (keys.length > 0) {
      const infos = handle.create_group('infos');
      for (const key of keys) {
        const info = dataset.infos[key]!;
        infos.create_dataset({ name: key, data: info.data, ...compressedLayout(rows, info.width) });
      }
    }
    const metadata = handle.create_group('metadata');
    metadata.create_dataset({ name: 'algorithm', data: dataset.metadata.policy.description });
    if (dataset.metadata.envId !== null)
      metadata.create_dataset({ name: 'env_id', data: dataset.metadata.envId });
    metadata.create_dataset({ name: 'o2o_metadata', data: JSON.stringify(dataset.metadata) });
    metadata.create_dataset({
      name: 'episode_ends',
      data: dataset.episodeEnds,
      shape: [dataset.episodeEnds.length],
    });
  } finally {
    closeQuietly(handle);
  }
  return file;
}

function requireRows(file: string, field: string, rows: number, expected: number): void {
  if (rows !== expected) {
    throw new DatasetError(
      'shape',
      { file, field },
      `has ${rows} rows, expected ${expected} (as observations)`,
    );
  }
}

async function readEpisodeEnds(root: Group, file: string, rows: number): Promise<Uint32Array | null> {
  if (!(await hasEntity(root, EPISODE_ENDS))) return null;
  const entity = root.get(EPISODE_ENDS);
  const value = entity && 'value' in entity ? (entity as { value: unknown }).value : null;
  if (!ArrayBuffer.isView(value)) {
    throw new DatasetError('dtype', { file, field: EPISODE_ENDS }, 'expected an integer array');
  }
  const ends = Uint32Array.from(value as unknown as ArrayLike<number>, Number);
  if (ends.length === 0 || ends[ends.length - 1] !== rows) {
    throw new DatasetError(
      'episode',
      { file, field: EPISODE_ENDS },
      `episode ends must finish at row ${rows}`,
    );
  }
  return ends;
}

async function readMetadataText(root: Group, file: string, name: string): Promise<string | undefined> {
  const text = await readText(root, file, `metadata/${name}`).catch(() => undefined);
  if (text !== undefined) return text;
  const group = await getGroup(root, file, 'metadata').catch(() => null);
  const attr = group ? readAttribute(group, file, name) : readAttribute(root, file, `metadata/${name}`);
  return typeof attr === 'string' ? attr : undefined;
}

/** Ends after each terminal or timeout, and at the last row. */
function endsFromFlags(terminals: Uint8Array, timeouts: Uint8Array): Uint32Array {
  const ends: number[] = [];
  for (let i = 0; i < terminals.length; i++) if (terminals[i] === 1 || timeouts[i] === 1) ends.push(i + 1);
  if (ends[ends.length - 1] !== terminals.length) ends.push(terminals.length);
  return Uint32Array.from(ends);
}

export async function readD4rl(path: string, options: { envId?: string } = {}): Promise<ReadResult> {
  const file = resolve(path);
  const handle = await openForRead(file);
  const notes: string[] = [];
  try {
    const observations = await requireFloatMatrix(handle, file, 'observations');
    const actions = await requireFloatMatrix(handle, file, 'actions');
    const rewards = await requireFloatMatrix(handle, file, 'rewards');
    const terminals = await requireFlags(handle, file, 'terminals');
    const timeouts = await requireFlags(handle, file, 'timeouts');
    const next = (await readFloatMatrix(handle, file, 'next_observations', 'f32')) as {
      data: Float32Array;
      rows: number;
      width: number;
    } | null;
    const rows = observations.rows;
    if (rows === 0) throw new DatasetError('shape', { file, field: 'observations' }, 'has no rows');
    requireRows(file, 'actions', actions.rows, rows);
    requireRows(file, 'rewards', rewards.rows, rows);
    if (rewards.width !== 1) {
      throw new DatasetError('shape', { file, field: 'rewards' }, `has ${rewards.width} columns, expected 1`);
    }
    requireRows(file, 'terminals', terminals.length, rows);
    requireRows(file, 'timeouts', timeouts.length, rows);
    if (next) {
      requireRows(file, 'next_observations', next.rows, rows);
      if (next.width !== observations.width) {
        throw new DatasetError(
          'shape',
          { file, field: 'next_observations' },
          `has ${next.width} columns, observations have ${observations.width}`,
        );
      }
    }
    const infos: Record<string, InfoColumn> = {};
    const infoGroup = await getGroup(handle, file, 'infos').catch(() => null);
    if (infoGroup) {
      for (const key of infoGroup.keys()) {
        const matrix = await readFloatMatrix(infoGroup, file, key, 'keep').catch(() => null);
        if (matrix && matrix.rows === rows) infos[key] = { width: matrix.width, data: matrix.data };
        else notes.push(`infos/${key}: not a float array of ${rows} rows, not read`);
      }
    }

    const d = observations.width;
    const storedEnds = await readEpisodeEnds(handle, file, rows);
    let columns: DatasetColumns;
    let reconstruction:
      | {
          droppedTimeoutTransitions: number;
          droppedTrailingTransitions: number;
          terminalNextFromFollowingRow: number;
        }
      | undefined;
    if (next) {
      columns = {
        obsDim: d,
        actDim: actions.width,
        observations: observations.data,
        actions: actions.data,
        rewards: rewards.data,
        nextObservations: next.data,
        terminals,
        timeouts,
        episodeEnds: storedEnds ?? endsFromFlags(terminals, timeouts),
        infos,
      };
    } else {
      const rebuilt = reconstructNext(
        file,
        observations.data,
        d,
        actions,
        rewards.data,
        terminals,
        timeouts,
        infos,
      );
      columns = rebuilt.columns;
      reconstruction = rebuilt.counts;
      notes.push(
        `next_observations reconstructed from consecutive rows: ${reconstruction.droppedTimeoutTransitions} ` +
          `timeout transitions and ${reconstruction.droppedTrailingTransitions} trailing row(s) dropped ` +
          `(their rewards are not in the returns); ${reconstruction.terminalNextFromFollowingRow} terminal ` +
          'rows take the following row as next state (unused by bootstrapping, but not a real state)',
      );
    }

    const storedJson = await readMetadataText(handle, file, 'o2o_metadata');
    if (storedJson !== undefined && next) {
      let parsedJson: unknown;
      try {
        parsedJson = JSON.parse(storedJson);
      } catch (err) {
        throw new DatasetError(
          'metadata',
          { file, field: O2O_METADATA },
          `not valid JSON (${(err as Error).message})`,
        );
      }
      const parsed = DatasetMetadataSchema.safeParse(parsedJson);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new DatasetError(
          'metadata',
          { file, field: `${O2O_METADATA}.${issue.path.join('.')}` },
          issue.message,
        );
      }
      const metadata = options.envId ? { ...parsed.data, envId: options.envId } : parsed.data;
      const dataset: OfflineDataset = { ...columns, metadata };
      validateDataset(dataset, file);
      return { dataset, notes };
    }
    const envId = options.envId ?? (await readMetadataText(handle, file, 'env_id')) ?? null;
    const algorithm = await readMetadataText(handle, file, 'algorithm');
    // Validate before describing: return statistics of non-finite rewards would fail the schema opaquely.
    validateColumns(columns, file, envId);
    const metadata = describeColumns(columns, {
      envId,
      policy: { description: algorithm ?? 'unknown', return: null },
      seed: null,
      nextObservationsReconstructed: reconstruction,
    });
    const dataset: OfflineDataset = { ...columns, metadata };
    validateDataset(dataset, file);
    return { dataset, notes };
  } finally {
    closeQuietly(handle);
  }
}

/**
 * Without next_observations, row i's next state is row i+1's state when both are in one episode. A
 * timeout row is dropped (row i+1 is the next episode's reset state, so it is not a real transition);
 * its episode then ends at the row before, marked as a timeout. A terminal row keeps row i+1 as next
 * state (D4RL's own convention: bootstrapping is cut there). The file's last row has no successor.
 */
function reconstructNext(
  file: string,
  obs: Float32Array,
  d: number,
  actions: { data: Float32Array; width: number },
  rewards: Float32Array,
  terminals: Uint8Array,
  timeouts: Uint8Array,
  infos: Record<string, InfoColumn>,
) {
  const rows = rewards.length;
  const keep: number[] = [];
  const ends: number[] = [];
  const newTimeouts: number[] = [];
  const counts = {
    droppedTimeoutTransitions: 0,
    droppedTrailingTransitions: 0,
    terminalNextFromFollowingRow: 0,
  };
  const closeEpisode = (asTimeout: boolean) => {
    if (keep.length > (ends[ends.length - 1] ?? 0)) {
      ends.push(keep.length);
      if (asTimeout) newTimeouts[keep.length - 1] = 1;
    }
  };
  for (let i = 0; i < rows; i++) {
    if (timeouts[i] === 1) {
      counts.droppedTimeoutTransitions++;
      closeEpisode(true);
    } else if (i === rows - 1) {
      counts.droppedTrailingTransitions++;
      closeEpisode(false);
    } else {
      keep.push(i);
      newTimeouts.push(0);
      if (terminals[i] === 1) {
        counts.terminalNextFromFollowingRow++;
        closeEpisode(false);
      }
    }
  }
  closeEpisode(false);
  const n = keep.length;
  const a = actions.width;
  const columns: DatasetColumns = {
    obsDim: d,
    actDim: a,
    observations: new Float32Array(n * d),
    actions: new Float32Array(n * a),
    rewards: new Float32Array(n),
    nextObservations: new Float32Array(n * d),
    terminals: new Uint8Array(n),
    timeouts: Uint8Array.from(newTimeouts),
    episodeEnds: Uint32Array.from(ends),
    infos: {},
  };
  for (const [key, info] of Object.entries(infos)) {
    const data =
      info.data instanceof Float64Array ? new Float64Array(n * info.width) : new Float32Array(n * info.width);
    keep.forEach((src, dst) => {
      data.set(info.data.subarray(src * info.width, (src + 1) * info.width), dst * info.width);
    });
    columns.infos[key] = { width: info.width, data };
  }
  keep.forEach((src, dst) => {
    columns.observations.set(obs.subarray(src * d, (src + 1) * d), dst * d);
    columns.nextObservations.set(obs.subarray((src + 1) * d, (src + 2) * d), dst * d);
    columns.actions.set(actions.data.subarray(src * a, (src + 1) * a), dst * a);
    columns.rewards[dst] = rewards[src]!;
    columns.terminals[dst] = terminals[src]!;
  });
  if (n === 0) {
    throw new DatasetError(
      'episode',
      { file, field: 'timeouts' },
      'no transition left after dropping timeout rows',
    );
  }
  return { columns, counts };
}
