// Writes HDF5 files entry by entry, bypassing lib/data's writers, so tests can build exactly the damaged
// or foreign files the readers must reject or accept.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import h5wasm from 'h5wasm/node';

export type RawValue = Float32Array | Float64Array | Uint8Array | Int32Array | Uint32Array | string;

export interface RawEntry {
  data: RawValue;
  shape?: number[];
}

/** `entries` maps dataset paths (`episode_0/actions`) to values; `attrs` maps `group@name` to values. */
export async function writeRawHdf5(
  file: string,
  entries: Record<string, RawEntry>,
  attrs: Record<string, number | string> = {},
): Promise<void> {
  await h5wasm.ready;
  mkdirSync(dirname(file), { recursive: true });
  const handle = new h5wasm.File(file, 'w');
  try {
    const ensureGroup = (path: string) => {
      let at = '';
      for (const part of path.split('/').filter(Boolean)) {
        at = at === '' ? part : `${at}/${part}`;
        if (handle.get(at) === null) handle.create_group(at);
      }
      return at === '' ? handle : (handle.get(at) as typeof handle);
    };
    for (const [path, entry] of Object.entries(entries)) {
      const slash = path.lastIndexOf('/');
      const group = ensureGroup(slash < 0 ? '' : path.slice(0, slash));
      const name = path.slice(slash + 1);
      if (typeof entry.data === 'string') group.create_dataset({ name, data: entry.data });
      else group.create_dataset({ name, data: entry.data, shape: entry.shape ?? [entry.data.length] });
    }
    for (const [key, value] of Object.entries(attrs)) {
      const [path, name] = key.split('@') as [string, string];
      ensureGroup(path).create_attribute(name, value);
    }
  } finally {
    handle.close();
  }
}

export interface RawEpisode {
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  terminations: Uint8Array;
  truncations: Uint8Array;
  obsDim: number;
  actDim: number;
}

/** A Minari dataset directory from raw episodes; `edit` may damage entries or metadata before writing. */
export async function writeRawMinari(
  datasetDir: string,
  episodes: RawEpisode[],
  options: {
    envId?: string;
    metadata?: Record<string, unknown> | null;
    editEntries?: (entries: Record<string, RawEntry>) => void;
    attrs?: Record<string, number | string>;
  } = {},
): Promise<void> {
  const entries: Record<string, RawEntry> = {};
  const attrs: Record<string, number | string> = {};
  episodes.forEach((ep, e) => {
    const steps = ep.rewards.length;
    entries[`episode_${e}/observations`] = { data: ep.observations, shape: [steps + 1, ep.obsDim] };
    entries[`episode_${e}/actions`] = { data: ep.actions, shape: [steps, ep.actDim] };
    entries[`episode_${e}/rewards`] = { data: ep.rewards };
    entries[`episode_${e}/terminations`] = { data: ep.terminations };
    entries[`episode_${e}/truncations`] = { data: ep.truncations };
    attrs[`episode_${e}@id`] = e;
    attrs[`episode_${e}@total_steps`] = steps;
  });
  options.editEntries?.(entries);
  const dataDir = join(datasetDir, 'data');
  await writeRawHdf5(join(dataDir, 'main_data.hdf5'), entries, { ...attrs, ...options.attrs });
  if (options.metadata !== null) {
    const metadata = options.metadata ?? {
      dataset_id: 'test/hopper/raw-v0',
      total_episodes: episodes.length,
      total_steps: episodes.reduce((n, ep) => n + ep.rewards.length, 0),
      env_spec: JSON.stringify({ id: options.envId ?? 'Hopper-v5' }),
      minari_version: '0.5.1',
    };
    writeFileSync(join(dataDir, 'metadata.json'), JSON.stringify(metadata));
  }
}

/** Episodes whose every value encodes where it is: obs[t][j] = 1000·e + t + j/100, so drift shows. */
export function labelledEpisodes(lengths: number[], obsDim = 11, actDim = 3): RawEpisode[] {
  return lengths.map((steps, e) => {
    const observations = new Float32Array((steps + 1) * obsDim);
    for (let t = 0; t <= steps; t++)
      for (let j = 0; j < obsDim; j++) observations[t * obsDim + j] = 1000 * e + t + j / 100;
    const actions = new Float32Array(steps * actDim);
    for (let t = 0; t < steps; t++)
      for (let j = 0; j < actDim; j++) actions[t * actDim + j] = -(1000 * e + t) / 4096 + j / 8;
    const rewards = Float32Array.from({ length: steps }, (_, t) => 1000 * e + t + 0.5);
    const terminations = new Uint8Array(steps);
    const truncations = new Uint8Array(steps);
    if (e % 2 === 0) terminations[steps - 1] = 1;
    else truncations[steps - 1] = 1;
    return { observations, actions, rewards, terminations, truncations, obsDim, actDim };
  });
}
