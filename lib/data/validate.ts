// Checks of an in-memory dataset against itself: column sizes agree, values are finite, flags are 0/1,
// episodes tile the rows, widths match the declared env, and the metadata (counts, checksum) matches
// the content. Every failure is a DatasetError naming the file, the field and the index.
import {
  contentChecksum,
  type DatasetColumns,
  DatasetMetadataSchema,
  type OfflineDataset,
} from './dataset.ts';
import { envDims } from './env-dims.ts';
import { DatasetError } from './errors.ts';

/** Field names as they appear in the D4RL layout, so messages match what users see in their files. */
export const FIELD = {
  observations: 'observations',
  actions: 'actions',
  rewards: 'rewards',
  nextObservations: 'next_observations',
  terminals: 'terminals',
  timeouts: 'timeouts',
} as const;

export function checkFinite(
  file: string,
  field: string,
  data: Float32Array | Float64Array,
  width: number,
): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      const where = width === 1 ? i : `${Math.floor(i / width)},${i % width}`;
      throw new DatasetError('non-finite', { file, field, index: where }, `value is ${v}`);
    }
  }
}

function checkFlags(file: string, field: string, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) {
    if (data[i]! > 1) {
      throw new DatasetError('flag-value', { file, field, index: i }, `flag is ${data[i]}, expected 0 or 1`);
    }
  }
}

function checkRows(file: string, field: string, length: number, rows: number, width: number): void {
  if (length !== rows * width) {
    throw new DatasetError(
      'shape',
      { file, field },
      `has ${length} values, expected ${rows} rows × ${width} = ${rows * width}`,
    );
  }
}

/**
 * Rows as wide as `envId`'s observations and actions. With `envOptions` (some of which change the
 * observation's width) only the actions are checked here: whoever builds that env checks the rest.
 */
export function checkEnvDims(
  file: string,
  envId: string | null,
  obsDim: number,
  actDim: number,
  envOptions?: Readonly<Record<string, unknown>>,
): void {
  if (envId === null) return;
  const dims = envDims(envId);
  if (!dims) return;
  const optioned = envOptions !== undefined && Object.keys(envOptions).length > 0;
  if (!optioned && obsDim !== dims.obsDim) {
    throw new DatasetError(
      'env-dims',
      { file, field: FIELD.observations },
      `rows have ${obsDim} columns but ${envId} observations have ${dims.obsDim}`,
    );
  }
  if (actDim !== dims.actDim) {
    throw new DatasetError(
      'env-dims',
      { file, field: FIELD.actions },
      `rows have ${actDim} columns but ${envId} actions have ${dims.actDim}`,
    );
  }
}

export function validateColumns(
  columns: DatasetColumns,
  file: string,
  envId: string | null,
  envOptions?: Readonly<Record<string, unknown>>,
): void {
  const rows = columns.rewards.length;
  if (!Number.isInteger(columns.obsDim) || columns.obsDim < 1) {
    throw new DatasetError('shape', { file, field: FIELD.observations }, `bad width ${columns.obsDim}`);
  }
  if (!Number.isInteger(columns.actDim) || columns.actDim < 1) {
    throw new DatasetError('shape', { file, field: FIELD.actions }, `bad width ${columns.actDim}`);
  }
  checkRows(file, FIELD.observations, columns.observations.length, rows, columns.obsDim);
  checkRows(file, FIELD.nextObservations, columns.nextObservations.length, rows, columns.obsDim);
  checkRows(file, FIELD.actions, columns.actions.length, rows, columns.actDim);
  checkRows(file, FIELD.terminals, columns.terminals.length, rows, 1);
  checkRows(file, FIELD.timeouts, columns.timeouts.length, rows, 1);
  for (const [key, info] of Object.entries(columns.infos)) {
    checkRows(file, `infos/${key}`, info.data.length, rows, info.width);
    checkFinite(file, `infos/${key}`, info.data, info.width);
  }
  checkEnvDims(file, envId, columns.obsDim, columns.actDim, envOptions);
  checkFinite(file, FIELD.observations, columns.observations, columns.obsDim);
  checkFinite(file, FIELD.actions, columns.actions, columns.actDim);
  checkFinite(file, FIELD.rewards, columns.rewards, 1);
  checkFinite(file, FIELD.nextObservations, columns.nextObservations, columns.obsDim);
  checkFlags(file, FIELD.terminals, columns.terminals);
  checkFlags(file, FIELD.timeouts, columns.timeouts);

  let previous = 0;
  for (let e = 0; e < columns.episodeEnds.length; e++) {
    const end = columns.episodeEnds[e]!;
    if (end <= previous || end > rows) {
      throw new DatasetError(
        'episode',
        { file, field: 'episode_ends', index: e },
        `episode ends at row ${end} after starting at ${previous} (rows: ${rows})`,
      );
    }
    // A terminal or timeout inside an episode would make its later rows belong to no real episode.
    for (let row = previous; row < end - 1; row++) {
      if (columns.terminals[row] === 1 || columns.timeouts[row] === 1) {
        throw new DatasetError(
          'episode',
          { file, field: columns.terminals[row] === 1 ? FIELD.terminals : FIELD.timeouts, index: row },
          `episode ${e} (rows ${previous}..${end - 1}) is flagged as ended before its last row`,
        );
      }
    }
    previous = end;
  }
  if (previous !== rows) {
    throw new DatasetError(
      'episode',
      { file, field: 'episode_ends' },
      `episodes cover ${previous} rows but the dataset has ${rows}`,
    );
  }
}

/** Full check of a dataset: columns, metadata schema, counts and the content checksum. */
export function validateDataset(dataset: OfflineDataset, file: string): void {
  const parsed = DatasetMetadataSchema.safeParse(dataset.metadata);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DatasetError('metadata', { file, field: `metadata.${issue.path.join('.')}` }, issue.message);
  }
  const metadata = parsed.data;
  validateColumns(dataset, file, metadata.envId, metadata.envOptions);
  const checks: [string, number, number][] = [
    ['transitions', metadata.transitions, dataset.rewards.length],
    ['episodes', metadata.episodes, dataset.episodeEnds.length],
    ['obsDim', metadata.obsDim, dataset.obsDim],
    ['actDim', metadata.actDim, dataset.actDim],
  ];
  for (const [key, declared, actual] of checks) {
    if (declared !== actual) {
      throw new DatasetError(
        'metadata',
        { file, field: `metadata.${key}` },
        `declares ${declared} but the data has ${actual}`,
      );
    }
  }
  const actual = contentChecksum(dataset);
  if (actual !== metadata.checksum) {
    throw new DatasetError(
      'checksum',
      { file, field: 'metadata.checksum' },
      `content checksum ${actual} does not match the recorded ${metadata.checksum}`,
    );
  }
}
