// Minari layout: <root>/<namespace>/<env>/<name>-v<N>/data/{main_data.hdf5, metadata.json}, one HDF5
// group per episode holding T+1 observations and T actions/rewards/terminations/truncations.
// Transition i of an episode is (observations[i], actions[i], rewards[i], observations[i+1]): the
// episode's own T+1 rows are split here, never concatenated across episodes, so rows cannot drift.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Group } from 'h5wasm/node';
import {
  type DatasetColumns,
  DatasetMetadataSchema,
  describeColumns,
  episodeStart,
  type InfoColumn,
  type OfflineDataset,
} from './dataset.ts';
import { envDims } from './env-dims.ts';
import { DatasetError } from './errors.ts';
import {
  closeQuietly,
  createFile,
  getGroup,
  openForRead,
  readAttribute,
  readFloatMatrix,
  requireFlags,
  requireFloatMatrix,
} from './hdf5.ts';
import { D4RL_REFERENCE_RETURNS, scoreFamily } from './normalized-score.ts';
import { checkFinite, validateColumns, validateDataset } from './validate.ts';

/** The Minari on-disk layout version these files follow. */
export const MINARI_LAYOUT_VERSION = '0.5.0';
const DATA_FILE = 'main_data.hdf5';
const METADATA_FILE = 'metadata.json';
/** Gymnasium's time limit for the v5 MuJoCo locomotion and pendulum tasks. */
const MAX_EPISODE_STEPS = 1000;

export interface MinariPaths {
  datasetDir: string;
  dataFile: string;
  metadataFile: string;
}

/** Accepts the dataset directory, its data/ directory or main_data.hdf5 itself. */
export function minariPaths(path: string): MinariPaths {
  let datasetDir = resolve(path);
  if (basename(datasetDir) === DATA_FILE) datasetDir = dirname(dirname(datasetDir));
  else if (basename(datasetDir) === 'data' && existsSync(join(datasetDir, DATA_FILE))) {
    datasetDir = dirname(datasetDir);
  }
  const data = join(datasetDir, 'data');
  return { datasetDir, dataFile: join(data, DATA_FILE), metadataFile: join(data, METADATA_FILE) };
}

/** `.../mujoco/hopper/small-v0` → `mujoco/hopper/small-v0`. */
export function minariDatasetId(datasetDir: string): string {
  const parts = resolve(datasetDir)
    .split(sep)
    .filter((p) => p.length > 0);
  const [namespace, env, name] = parts.slice(-3);
  if (parts.length < 3 || !namespace || !env || !name || !/^[A-Za-z0-9_.-]+-v\d+$/.test(name)) {
    throw new DatasetError(
      'argument',
      { file: datasetDir },
      'a Minari dataset directory must be <root>/<namespace>/<env>/<name>-v<N>',
    );
  }
  return `${namespace}/${env}/${name}`;
}

// Python's json module writes and reads non-finite floats as bare Infinity/-Infinity tokens.
function pythonJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? `@@${v > 0 ? 'Infinity' : '-Infinity'}@@` : v,
  ).replace(/"@@(-?Infinity)@@"/g, '$1');
}

function boxSpace(width: number, bound: number): string {
  return pythonJson({
    type: 'Box',
    dtype: 'float32',
    shape: [width],
    low: new Array<number>(width).fill(-bound),
    high: new Array<number>(width).fill(bound),
  });
}

/** Refuses to write when a row's next state differs from the following row's state: Minari cannot hold it. */
function checkContinuity(dataset: DatasetColumns, file: string): void {
  const d = dataset.obsDim;
  for (let e = 0; e < dataset.episodeEnds.length; e++) {
    const end = dataset.episodeEnds[e]!;
    for (let row = episodeStart(dataset, e); row < end - 1; row++) {
      for (let j = 0; j < d; j++) {
        if (!Object.is(dataset.nextObservations[row * d + j], dataset.observations[(row + 1) * d + j])) {
          throw new DatasetError(
            'lossy',
            { file, field: 'next_observations', index: `${row},${j}` },
            `next state differs from the following row's state within episode ${e}; ` +
              'the Minari layout stores one observation sequence per episode and cannot represent this',
          );
        }
      }
    }
  }
}

export async function writeMinari(dataset: OfflineDataset, datasetDir: string): Promise<MinariPaths> {
  const paths = minariPaths(datasetDir);
  const datasetId = minariDatasetId(paths.datasetDir);
  validateDataset(dataset, '(in-memory dataset)');
  checkContinuity(dataset, paths.dataFile);
  mkdirSync(dirname(paths.dataFile), { recursive: true });
  const { obsDim: d, actDim: a } = dataset;
  const file = await createFile(paths.dataFile);
  try {
    for (let e = 0; e < dataset.episodeEnds.length; e++) {
      const start = episodeStart(dataset, e);
      const end = dataset.episodeEnds[e]!;
      const steps = end - start;
      const group = file.create_group(`episode_${e}`);
      const observations = new Float32Array((steps + 1) * d);
      observations.set(dataset.observations.subarray(start * d, end * d));
      observations.set(dataset.nextObservations.subarray((end - 1) * d, end * d), steps * d);
      group.create_dataset({ name: 'observations', data: observations, shape: [steps + 1, d] });
      group.create_dataset({
        name: 'actions',
        data: dataset.actions.slice(start * a, end * a),
        shape: [steps, a],
      });
      group.create_dataset({ name: 'rewards', data: dataset.rewards.slice(start, end), shape: [steps] });
      group.create_dataset({
        name: 'terminations',
        data: dataset.terminals.slice(start, end),
        shape: [steps],
      });
      group.create_dataset({ name: 'truncations', data: dataset.timeouts.slice(start, end), shape: [steps] });
      const infoKeys = Object.keys(dataset.infos);
      if (infoKeys.length > 0) {
        // Per-transition infos (the state of row i), T rows: the final observation's info is not known.
        const infos = group.create_group('infos');
        for (const key of infoKeys) {
          const info = dataset.infos[key]!;
          infos.create_dataset({
            name: key,
            data: info.data.slice(start * info.width, end * info.width),
            shape: [steps, info.width],
          });
        }
      }
      group.create_attribute('id', e, null, '<q');
      group.create_attribute('total_steps', steps, null, '<q');
    }
  } finally {
    closeQuietly(file);
  }

  const { metadata } = dataset;
  const dims = metadata.envId === null ? undefined : envDims(metadata.envId);
  const family = metadata.envId === null ? undefined : scoreFamily(metadata.envId);
  const reference = family === undefined ? undefined : D4RL_REFERENCE_RETURNS[family];
  const json: Record<string, unknown> = {
    dataset_id: datasetId,
    total_episodes: metadata.episodes,
    total_steps: metadata.transitions,
    observation_space: boxSpace(d, Number.POSITIVE_INFINITY),
    action_space: boxSpace(a, dims?.actionBound ?? Number.POSITIVE_INFINITY),
    env_spec:
      metadata.envId === null
        ? null
        : JSON.stringify({
            id: metadata.envId,
            entry_point: null,
            reward_threshold: null,
            nondeterministic: false,
            max_episode_steps: MAX_EPISODE_STEPS,
            order_enforce: true,
            disable_env_checker: false,
            kwargs: metadata.envOptions ?? {},
            additional_wrappers: [],
            vector_entry_point: null,
          }),
    algorithm_name: metadata.policy.description,
    author: metadata.generatorVersion,
    minari_version: MINARI_LAYOUT_VERSION,
    o2o: metadata,
  };
  if (reference) {
    // D4RL's random/expert returns, so that Minari's normalisation agrees with ours.
    json['ref_min_score'] = reference.random;
    json['ref_max_score'] = reference.expert;
  }
  writeFileSync(paths.metadataFile, `${pythonJson(json)}\n`);
  const namespaceMetadata = join(paths.datasetDir, '..', '..', 'namespace_metadata.json');
  if (!existsSync(namespaceMetadata)) {
    writeFileSync(
      namespaceMetadata,
      `${JSON.stringify({ description: 'Offline datasets generated by o2o' })}\n`,
    );
  }
  return paths;
}

/** Python's json writes bare Infinity/-Infinity/NaN; quote those tokens (outside strings) for JSON.parse. */
function quoteNonFiniteTokens(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const token = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (!inString && token) {
      out += `"${token[1]}"`;
      i += token[1]!.length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

function parseJsonText(text: string, file: string): unknown {
  const safe = quoteNonFiniteTokens(text);
  try {
    return JSON.parse(safe);
  } catch (err) {
    throw new DatasetError('metadata', { file }, `not valid JSON (${(err as Error).message})`);
  }
}

function requireCount(source: Record<string, unknown>, key: string, file: string): number {
  const value = source[key];
  if (value === undefined)
    throw new DatasetError('missing-field', { file, field: key }, 'required key is missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DatasetError(
      'metadata',
      { file, field: key },
      `expected a non-negative integer, got ${String(value)}`,
    );
  }
  return value;
}

function envIdFromSpec(spec: unknown, file: string): string | null {
  if (spec === undefined || spec === null) return null;
  const parsed = typeof spec === 'string' ? parseJsonText(spec, file) : spec;
  if (parsed && typeof parsed === 'object' && typeof (parsed as { id?: unknown }).id === 'string') {
    return (parsed as { id: string }).id;
  }
  return null;
}

/** Minari ≥ 0.5 keeps metadata in metadata.json; ≤ 0.4 kept it as root attributes of the HDF5 file. */
function readMinariMetadata(
  paths: MinariPaths,
  root: Group,
): { source: Record<string, unknown>; file: string } {
  if (existsSync(paths.metadataFile)) {
    const parsed = parseJsonText(readFileSync(paths.metadataFile, 'utf8'), paths.metadataFile);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DatasetError('metadata', { file: paths.metadataFile }, 'expected a JSON object');
    }
    return { source: parsed as Record<string, unknown>, file: paths.metadataFile };
  }
  const source: Record<string, unknown> = {};
  for (const name of Object.keys(root.attrs)) source[name] = readAttribute(root, paths.dataFile, name);
  if (Object.keys(source).length === 0) {
    throw new DatasetError(
      'missing-field',
      { file: paths.metadataFile },
      'no metadata.json and no metadata attributes in main_data.hdf5',
    );
  }
  return { source, file: paths.dataFile };
}

interface EpisodeData {
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  terminations: Uint8Array;
  truncations: Uint8Array;
  steps: number;
  infos: Record<string, InfoColumn>;
}

async function readEpisode(
  root: Group,
  file: string,
  name: string,
  notes: string[],
): Promise<{ episode: EpisodeData; obsDim: number; actDim: number }> {
  const group = await getGroup(root, file, name);
  if (!group) throw new DatasetError('missing-field', { file, field: name }, 'episode group is missing');
  const observations = await requireFloatMatrix(group, file, `observations`).catch(rename(name));
  const actions = await requireFloatMatrix(group, file, `actions`).catch(rename(name));
  const rewards = await requireFloatMatrix(group, file, `rewards`).catch(rename(name));
  const terminations = await requireFlags(group, file, `terminations`).catch(rename(name));
  const truncations = await requireFlags(group, file, `truncations`).catch(rename(name));
  const steps = actions.rows;
  if (observations.rows !== steps + 1) {
    throw new DatasetError(
      'shape',
      { file, field: `${name}/observations` },
      `has ${observations.rows} rows, expected ${steps + 1} (actions rows + 1: the state after the final action)`,
    );
  }
  if (rewards.width !== 1) {
    throw new DatasetError(
      'shape',
      { file, field: `${name}/rewards` },
      `has ${rewards.width} columns, expected 1`,
    );
  }
  for (const [field, rows] of [
    ['rewards', rewards.rows],
    ['terminations', terminations.length],
    ['truncations', truncations.length],
  ] as const) {
    if (rows !== steps) {
      throw new DatasetError(
        'shape',
        { file, field: `${name}/${field}` },
        `has ${rows} rows, expected ${steps} (as actions)`,
      );
    }
  }
  const totalSteps = readAttribute(group, file, 'total_steps');
  if (totalSteps !== undefined && totalSteps !== steps) {
    throw new DatasetError(
      'episode',
      { file, field: `${name}@total_steps` },
      `attribute says ${String(totalSteps)} steps but the arrays hold ${steps}`,
    );
  }
  // Checked per episode so that a bad value is reported at its own dataset path and row.
  checkFinite(file, `${name}/observations`, observations.data, observations.width);
  checkFinite(file, `${name}/actions`, actions.data, actions.width);
  checkFinite(file, `${name}/rewards`, rewards.data, 1);
  const infos: Record<string, InfoColumn> = {};
  const infoGroup = await getGroup(group, file, 'infos').catch(() => null);
  if (infoGroup) {
    for (const key of infoGroup.keys()) {
      const matrix = await readFloatMatrix(infoGroup, file, key, 'keep').catch(() => null);
      // Minari's infos hold T+1 rows (the reset's info first); row i describes observations[i].
      if (matrix && (matrix.rows === steps || matrix.rows === steps + 1)) {
        infos[key] = { width: matrix.width, data: matrix.data.slice(0, steps * matrix.width) };
      } else {
        notes.push(`${name}/infos/${key}: not a float array of ${steps} or ${steps + 1} rows, not read`);
      }
    }
  }
  return {
    episode: {
      observations: observations.data,
      actions: actions.data,
      rewards: rewards.data,
      terminations,
      truncations,
      steps,
      infos,
    },
    obsDim: observations.width,
    actDim: actions.width,
  };
}

function rename(group: string) {
  return (err: unknown): never => {
    if (err instanceof DatasetError && err.field !== undefined && !err.field.startsWith(group)) {
      const detail = err.message.slice(err.message.indexOf(': ', err.file.length) + 2);
      throw new DatasetError(
        err.kind,
        { file: err.file, field: `${group}/${err.field}`, index: err.index },
        detail,
      );
    }
    throw err;
  };
}

export interface ReadResult {
  dataset: OfflineDataset;
  /** Things that were present but not read (e.g. non-numeric infos). */
  notes: string[];
}

export async function readMinari(path: string, options: { envId?: string } = {}): Promise<ReadResult> {
  const paths = minariPaths(path);
  if (!existsSync(paths.dataFile)) {
    const what =
      existsSync(paths.datasetDir) && statSync(paths.datasetDir).isDirectory() ? 'missing' : 'not found';
    throw new DatasetError('not-found', { file: paths.dataFile }, `Minari data file ${what}`);
  }
  const file = paths.dataFile;
  const handle = await openForRead(file);
  const notes: string[] = [];
  try {
    const meta = readMinariMetadata(paths, handle);
    const totalEpisodes = requireCount(meta.source, 'total_episodes', meta.file);
    const totalSteps = requireCount(meta.source, 'total_steps', meta.file);
    if (typeof meta.source['dataset_id'] !== 'string') {
      throw new DatasetError(
        'missing-field',
        { file: meta.file, field: 'dataset_id' },
        'required key is missing',
      );
    }
    const names = handle.keys().filter((k) => /^episode_\d+$/.test(k));
    const ids = names.map((k) => Number(k.slice('episode_'.length))).sort((x, y) => x - y);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== i) {
        throw new DatasetError(
          'episode',
          { file, field: `episode_${i}` },
          `episode group is missing (found episode_${ids[i]})`,
        );
      }
    }
    if (ids.length !== totalEpisodes) {
      throw new DatasetError(
        'metadata',
        { file: meta.file, field: 'total_episodes' },
        `says ${totalEpisodes} episodes but ${file} holds ${ids.length}`,
      );
    }
    const episodes: EpisodeData[] = [];
    let obsDim = 0;
    let actDim = 0;
    for (let e = 0; e < ids.length; e++) {
      const read = await readEpisode(handle, file, `episode_${e}`, notes);
      if (e === 0) {
        obsDim = read.obsDim;
        actDim = read.actDim;
      } else if (read.obsDim !== obsDim || read.actDim !== actDim) {
        const field = read.obsDim !== obsDim ? 'observations' : 'actions';
        throw new DatasetError(
          'shape',
          { file, field: `episode_${e}/${field}` },
          `has ${field === 'observations' ? read.obsDim : read.actDim} columns, episode_0 has ${field === 'observations' ? obsDim : actDim}`,
        );
      }
      episodes.push(read.episode);
    }
    const rows = episodes.reduce((n, ep) => n + ep.steps, 0);
    if (rows !== totalSteps) {
      throw new DatasetError(
        'metadata',
        { file: meta.file, field: 'total_steps' },
        `says ${totalSteps} steps but the episodes hold ${rows}`,
      );
    }
    if (episodes.length === 0) throw new DatasetError('episode', { file }, 'the dataset holds no episodes');
    const columns = assemble(episodes, obsDim, actDim, file, notes);
    const stored = meta.source['o2o'];
    if (stored !== undefined) {
      const parsed = DatasetMetadataSchema.safeParse(stored);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new DatasetError(
          'metadata',
          { file: meta.file, field: `o2o.${issue.path.join('.')}` },
          issue.message,
        );
      }
      const metadata = options.envId ? { ...parsed.data, envId: options.envId } : parsed.data;
      const dataset: OfflineDataset = { ...columns, metadata };
      validateDataset(dataset, file);
      return { dataset, notes };
    }
    const envId = options.envId ?? envIdFromSpec(meta.source['env_spec'], meta.file);
    const algorithm = meta.source['algorithm_name'];
    // Validate before describing: return statistics of non-finite rewards would fail the schema opaquely.
    validateColumns(columns, file, envId);
    const metadata = describeColumns(columns, {
      envId,
      policy: { description: typeof algorithm === 'string' ? algorithm : 'unknown', return: null },
      seed: null,
    });
    const dataset: OfflineDataset = { ...columns, metadata };
    validateDataset(dataset, file);
    return { dataset, notes };
  } finally {
    closeQuietly(handle);
  }
}

function assemble(
  episodes: EpisodeData[],
  d: number,
  a: number,
  file: string,
  notes: string[],
): DatasetColumns {
  const rows = episodes.reduce((n, ep) => n + ep.steps, 0);
  const columns: DatasetColumns = {
    obsDim: d,
    actDim: a,
    observations: new Float32Array(rows * d),
    actions: new Float32Array(rows * a),
    rewards: new Float32Array(rows),
    nextObservations: new Float32Array(rows * d),
    terminals: new Uint8Array(rows),
    timeouts: new Uint8Array(rows),
    episodeEnds: new Uint32Array(episodes.length),
    infos: {},
  };
  // Only infos present in every episode with one width become columns.
  const first = episodes[0]!;
  const infoKeys = Object.keys(first.infos).filter((key) =>
    episodes.every((ep) => ep.infos[key]?.width === first.infos[key]!.width),
  );
  for (const key of Object.keys(first.infos)) {
    if (!infoKeys.includes(key)) notes.push(`infos/${key}: not in every episode with one width, not read`);
  }
  for (const key of infoKeys) {
    const { width, data } = first.infos[key]!;
    columns.infos[key] = {
      width,
      data: data instanceof Float64Array ? new Float64Array(rows * width) : new Float32Array(rows * width),
    };
  }
  let row = 0;
  for (let e = 0; e < episodes.length; e++) {
    const ep = episodes[e]!;
    const steps = ep.steps;
    if (steps === 0) {
      throw new DatasetError('episode', { file, field: `episode_${e}`, index: e }, 'episode has no steps');
    }
    columns.observations.set(ep.observations.subarray(0, steps * d), row * d);
    columns.nextObservations.set(ep.observations.subarray(d, (steps + 1) * d), row * d);
    columns.actions.set(ep.actions, row * a);
    columns.rewards.set(ep.rewards, row);
    columns.terminals.set(ep.terminations, row);
    columns.timeouts.set(ep.truncations, row);
    for (const key of infoKeys) {
      const info = columns.infos[key]!;
      info.data.set(ep.infos[key]!.data, row * info.width);
    }
    row += steps;
    columns.episodeEnds[e] = row;
  }
  return columns;
}
