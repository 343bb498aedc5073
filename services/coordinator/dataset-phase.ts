// The dataset phase, done by the coordinator itself: generate a uniformly random dataset in the spec's
// environment (with its options), or load a dataset file from the run directory (rewritten for the
// env's options when it was recorded on the defaults) and take a seeded subset; writes dataset.hdf5
// (D4RL layout) that the world-model and learner phases read. For a subset it also draws the critic's
// held-out check rows from the whole source (critic-check.hdf5): the learner gets only the subset.
import { resolve } from 'node:path';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { loadDataset, saveDataset } from '../../lib/data/load.ts';
import { subsetDataset, subsetRows } from '../../lib/data/subset.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed } from '../../lib/envs/rng.ts';
import { datasetForEnvOptions } from '../../lib/experiment/dataset-source.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { drawHeldOutCheck, HELD_OUT_HORIZON, HELD_OUT_SAMPLES } from '../../lib/rl/critic-diagnostics.ts';
import { writeHeldOutCheck } from '../../lib/rl/held-out-check-file.ts';
import { TD3_DEFAULT_GAMMA } from '../../lib/rl/td3.ts';
import type { ExperimentSpec } from '../../lib/services/spec.ts';

export const DATASET_FILE = 'dataset.hdf5';
export const CRITIC_CHECK_FILE = 'critic-check.hdf5';

export interface DatasetOutcome {
  outputs: Record<string, string>;
  metrics: Record<string, number>;
}

export async function runDatasetPhase(spec: ExperimentSpec, runDir: string): Promise<DatasetOutcome> {
  let dataset: OfflineDataset;
  const outputs: Record<string, string> = { dataset: DATASET_FILE };
  const source = spec.dataset;
  if ('generate' in source) {
    const env = makeEnv(spec.env, spec.envOptions);
    try {
      // Seed index 5: a stream of its own, apart from the ones training and evaluation derive.
      dataset = collectDataset(
        env,
        uniformRandomPolicy(env),
        source.generate.transitions,
        deriveSeed(spec.seed, 5),
        'uniform random',
        spec.envOptions === undefined ? {} : { envOptions: spec.envOptions },
      );
    } finally {
      env.close();
    }
  } else {
    const file = resolve(runDir, source.file);
    const loaded = await loadDataset(file, { envId: spec.env });
    // On an env with options, the rows as that env records them (rewritten if recorded on the defaults).
    dataset = datasetForEnvOptions(loaded.dataset, spec.env, spec.envOptions, source.file);
    if (source.subset !== undefined) {
      const options = { count: source.subset.transitions, mode: source.subset.by, seed: source.subset.seed };
      const whole = dataset;
      dataset = subsetDataset(whole, options, file);
      // The settings of the in-process pipeline (lib/experiment/offline-stage.ts), seeded by the run.
      const check = {
        gamma: TD3_DEFAULT_GAMMA,
        samples: HELD_OUT_SAMPLES,
        seed: spec.seed,
        horizon: HELD_OUT_HORIZON,
      };
      await writeHeldOutCheck(resolve(runDir, CRITIC_CHECK_FILE), {
        ...check,
        check: drawHeldOutCheck(whole, subsetRows(whole, options, file), check),
      });
      outputs.critic_check = CRITIC_CHECK_FILE;
    }
  }
  await saveDataset(dataset, 'd4rl', resolve(runDir, DATASET_FILE));
  return {
    outputs,
    metrics: { transitions: dataset.rewards.length, episodes: dataset.episodeEnds.length },
  };
}
