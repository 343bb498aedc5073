// The dataset phase, done by the coordinator itself: generate a uniformly random dataset in the spec's
// environment, or load a dataset file from the run directory and take a seeded subset; writes dataset.hdf5
// (D4RL layout) that the world-model and learner phases read.
import { resolve } from 'node:path';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { loadDataset, saveDataset } from '../../lib/data/load.ts';
import { subsetDataset } from '../../lib/data/subset.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed } from '../../lib/envs/rng.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import type { ExperimentSpec } from '../../lib/services/spec.ts';

export const DATASET_FILE = 'dataset.hdf5';

export interface DatasetOutcome {
  outputs: Record<string, string>;
  metrics: Record<string, number>;
}

export async function runDatasetPhase(spec: ExperimentSpec, runDir: string): Promise<DatasetOutcome> {
  let dataset: OfflineDataset;
  const source = spec.dataset;
  if ('generate' in source) {
    const env = makeEnv(spec.env);
    try {
      // Seed index 5: a stream of its own, apart from the ones training and evaluation derive.
      dataset = collectDataset(
        env,
        uniformRandomPolicy(env),
        source.generate.transitions,
        deriveSeed(spec.seed, 5),
        'uniform random',
      );
    } finally {
      env.close();
    }
  } else {
    const file = resolve(runDir, source.file);
    const loaded = await loadDataset(file, { envId: spec.env });
    dataset = loaded.dataset;
    if (source.subset !== undefined) {
      dataset = subsetDataset(
        dataset,
        { count: source.subset.transitions, mode: source.subset.by, seed: source.subset.seed },
        file,
      );
    }
  }
  await saveDataset(dataset, 'd4rl', resolve(runDir, DATASET_FILE));
  return {
    outputs: { dataset: DATASET_FILE },
    metrics: { transitions: dataset.rewards.length, episodes: dataset.episodeEnds.length },
  };
}
