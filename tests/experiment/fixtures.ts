// Tiny grids for the experiment tests: a random InvertedPendulum-v5 dataset in <dir>/datasets and a spec
// with small networks and budgets of a few hundred steps, written as YAML like experiments/paper.yaml.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';

export const ENV = 'InvertedPendulum-v5';

/** <dir>/<name>/<envId>/random.hdf5 (600 uniformly random transitions unless told) and its manifest. */
export async function makeDatasets(
  dir: string,
  { envId = ENV, transitions = 600, name = 'datasets' } = {},
): Promise<string> {
  const datasets = join(dir, name);
  mkdirSync(join(datasets, envId), { recursive: true });
  const env = makeEnv(envId);
  const data = collectDataset(env, uniformRandomPolicy(env), transitions, 3, 'uniform random');
  env.close();
  const file = await saveDataset(data, 'd4rl', join(datasets, envId, 'random.hdf5'));
  // The manifest scripts/make-datasets.sh writes next to each file: the grid needs its sha256.
  const sha256 = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  writeFileSync(join(datasets, envId, 'random.json'), JSON.stringify({ file, sha256 }));
  return datasets;
}

export function tinySpec(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    resultsDir: join(dir, 'results'),
    datasetsDir: join(dir, 'datasets'),
    seeds: [0],
    budgets: {
      onlineSteps: 300,
      offlineSteps: 120,
      wmEpochs: 2,
      startSteps: 60,
      warmupSteps: 60,
      evalEvery: 60,
      evalEpisodes: 1,
      offlineCheckpointEvery: 60,
      onlineCheckpointEvery: 50,
      hidden: [32, 32],
    },
    datasets: {
      'random-400': { kind: 'random', transitions: 400, by: 'transition' },
      'missing-400': { kind: 'medium', transitions: 400, by: 'transition' },
    },
    variants: {
      scratch: { variant: 'scratch' },
      'td3bc-both': { variant: 'td3bc', pretrain: 'both' },
      'td3bc-aug-both': { variant: 'td3bc-aug', pretrain: 'both', augFraction: 0.5 },
      'td3bc-aug-actor': { variant: 'td3bc-aug', pretrain: 'actor', augFraction: 0.5 },
      'td3bc-aug-critic': { variant: 'td3bc-aug', pretrain: 'critic', augFraction: 0.5 },
    },
    groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-aug-both'] }],
    ...overrides,
  };
}

export function writeSpec(dir: string, name: string, spec: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(spec));
  return file;
}
