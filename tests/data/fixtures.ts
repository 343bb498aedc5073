// Small synthetic datasets for the data tests: seeded values, episodes whose next states continue
// into the following row (as a real rollout's do), written to a fresh temp directory per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatasetColumns, describeColumns, type OfflineDataset } from '../../lib/data/dataset.ts';

export interface FixtureOptions {
  /** Steps per episode. */
  lengths: number[];
  /** How each episode ends: 'terminal', 'timeout' or 'none' (a fragment). Default: alternate. */
  ends?: ('terminal' | 'timeout' | 'none')[];
  obsDim?: number;
  actDim?: number;
  envId?: string | null;
  /** Recorded in the metadata as the options the rows were recorded on. */
  envOptions?: Record<string, unknown>;
  seed?: number;
  infos?: boolean;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function syntheticDataset(options: FixtureOptions): OfflineDataset {
  const obsDim = options.obsDim ?? 11;
  const actDim = options.actDim ?? 3;
  const random = lcg(options.seed ?? 7);
  const rows = options.lengths.reduce((a, b) => a + b, 0);
  const columns: DatasetColumns = {
    obsDim,
    actDim,
    observations: new Float32Array(rows * obsDim),
    actions: new Float32Array(rows * actDim),
    rewards: new Float32Array(rows),
    nextObservations: new Float32Array(rows * obsDim),
    terminals: new Uint8Array(rows),
    timeouts: new Uint8Array(rows),
    episodeEnds: new Uint32Array(options.lengths.length),
    infos: {},
  };
  const qpos = new Float64Array(rows * 2);
  let row = 0;
  options.lengths.forEach((length, e) => {
    const state = Float32Array.from({ length: obsDim }, () => random() * 2 - 1);
    for (let t = 0; t < length; t++, row++) {
      columns.observations.set(state, row * obsDim);
      for (let j = 0; j < obsDim; j++) state[j] = state[j]! + (random() - 0.5) * 0.1;
      columns.nextObservations.set(state, row * obsDim);
      for (let j = 0; j < actDim; j++) columns.actions[row * actDim + j] = random() * 2 - 1;
      columns.rewards[row] = random() * 3 - 0.5;
      qpos[row * 2] = random() * 1e-3 + 1 / 3;
      qpos[row * 2 + 1] = row;
    }
    const end = options.ends?.[e] ?? (e % 2 === 0 ? 'terminal' : 'timeout');
    if (end === 'terminal') columns.terminals[row - 1] = 1;
    if (end === 'timeout') columns.timeouts[row - 1] = 1;
    columns.episodeEnds[e] = row;
  });
  if (options.infos) columns.infos['qpos'] = { width: 2, data: qpos };
  const envId = options.envId === undefined ? 'Hopper-v5' : options.envId;
  return {
    ...columns,
    metadata: describeColumns(columns, {
      envId,
      ...(options.envOptions === undefined ? {} : { envOptions: options.envOptions }),
      policy: { description: 'synthetic test policy', return: 123.5 },
      seed: options.seed ?? 7,
    }),
  };
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'o2o-data-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
