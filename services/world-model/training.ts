// Training the world model the way `o2o train` does in-process: load the dataset, train the VAE (native
// lib/world-model; every serving implementation loads this file), save world-model.safetensors, and
// report its held-out one-step error next to the copy-state and linear baselines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadDataset } from '../../lib/data/load.ts';
import { checkRecordedOnRunOptions } from '../../lib/envs/env-options-text.ts';
import { compareOneStep, formatComparison, type OneStepError } from '../../lib/world-model/baselines.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import {
  discardTrainingState,
  resumeTraining,
  trainWithCheckpoints,
} from '../../lib/world-model/resumable-training.ts';
import { type EpochProgress, WorldModelTrainer } from '../../lib/world-model/train.ts';
import { trainedForMetadata } from '../../lib/world-model/trained-for.ts';
import type { VaeConfig } from '../../lib/world-model/vae.ts';

export const MODEL_FILE = 'world-model.safetensors';
export const REPORT_FILE = 'world-model-report.json';

export interface TrainSpec {
  /** Absolute dataset path (already confined to the run root by the caller). */
  datasetPath: string;
  envId?: string;
  /**
   * The options of the env the run is on ({}: the defaults): the dataset must be recorded on them. Unset
   * (Train over gRPC): whatever the dataset was recorded on, which the saved model records.
   */
  envOptions?: Record<string, unknown>;
  epochs: number;
  seed: number;
  /** Absolute output: a `.safetensors` file, or a directory that gets world-model.safetensors. */
  outputPath: string;
  batchSize?: number;
  lr?: number;
  model?: Partial<Pick<VaeConfig, 'latentDim' | 'encoderHidden' | 'decoderHidden' | 'transitionHidden'>>;
  onProgress?: (p: EpochProgress) => void;
  /** Lines about resuming (from which epoch, or why not). */
  log?: (line: string) => void;
}

export interface TrainOutcome {
  /** Absolute path of the saved model. */
  modelPath: string;
  reportPath: string;
  envId: string;
  epochsRun: number;
  /** Epochs a saved training state had already run (0: trained from the start). */
  resumedFromEpoch: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Held-out one-step MSE in the model's standardised units: the model (deterministic) and both baselines. */
  heldoutMse: number;
  copyMse: number;
  linearMse: number;
  comparison: OneStepError[];
  table: string;
}

export function modelFileFor(outputPath: string): string {
  return outputPath.endsWith('.safetensors') ? outputPath : join(outputPath, MODEL_FILE);
}

/** Where the training state of the model saved at `modelPath` is kept while it trains. */
export function trainingStateFileFor(modelPath: string): string {
  return `${modelPath.slice(0, -'.safetensors'.length)}.training.safetensors`;
}

export async function trainAndSave(spec: TrainSpec): Promise<TrainOutcome> {
  const { dataset } = await loadDataset(
    spec.datasetPath,
    spec.envId === undefined ? {} : { envId: spec.envId },
  );
  const envId = spec.envId ?? dataset.metadata.envId ?? '';
  const envOptions = dataset.metadata.envOptions;
  if (spec.envOptions !== undefined)
    checkRecordedOnRunOptions('inputs.dataset', envId, envOptions, spec.envOptions);
  const modelPath = modelFileFor(spec.outputPath);
  const statePath = trainingStateFileFor(modelPath);
  const newTrainer = () =>
    new WorldModelTrainer(dataset, {
      seed: spec.seed,
      epochs: spec.epochs,
      ...(spec.batchSize === undefined ? {} : { batchSize: spec.batchSize }),
      ...(spec.lr === undefined ? {} : { lr: spec.lr }),
      ...(spec.model === undefined ? {} : { model: spec.model }),
      ...(spec.onProgress === undefined ? {} : { onProgress: spec.onProgress }),
    });
  // A training the service lost (a crash, a shutdown: the worker is terminated) continues from its last
  // saved state when the same training is asked for again.
  const { trainer, earlierSeconds } = resumeTraining(newTrainer, statePath, spec.log ?? (() => {}));
  const resumedFromEpoch = trainer.epochsDone;
  await trainWithCheckpoints(trainer, statePath, { earlierSeconds });
  const result = trainer.result();
  const model = new NativeVaeWorldModel(result.vae, result.normalizer, spec.seed);
  mkdirSync(dirname(modelPath), { recursive: true });
  // The options of the rows it learned from: a run on other options is refused by the learner.
  model.save(modelPath, envId === '' ? {} : trainedForMetadata(envId, envOptions));
  discardTrainingState(statePath);
  const comparison = await compareOneStep({
    data: dataset,
    trainRows: result.split.train,
    evalRows: result.split.heldOut.length > 0 ? result.split.heldOut : result.split.train,
    normalizer: result.normalizer,
    worldModel: model,
  });
  const [copy, linear, det] = comparison;
  const outcome: TrainOutcome = {
    modelPath,
    reportPath: join(dirname(modelPath), REPORT_FILE),
    envId,
    epochsRun: result.history.length,
    resumedFromEpoch,
    bestEpoch: result.bestEpoch,
    stoppedEarly: result.stoppedEarly,
    heldoutMse: det!.mseNormalized,
    copyMse: copy!.mseNormalized,
    linearMse: linear!.mseNormalized,
    comparison,
    table: formatComparison(comparison),
  };
  writeFileSync(
    outcome.reportPath,
    `${JSON.stringify(
      {
        model: MODEL_FILE,
        envId,
        ...(envOptions === undefined ? {} : { envOptions }),
        seed: spec.seed,
        epochs: spec.epochs,
        epochsRun: outcome.epochsRun,
        resumedFromEpoch,
        bestEpoch: outcome.bestEpoch,
        stoppedEarly: outcome.stoppedEarly,
        heldoutRows: result.split.heldOut.length,
        trainRows: result.split.train.length,
        units: 'mean squared error per state dimension, standardised with the training-set statistics',
        comparison,
      },
      null,
      2,
    )}\n`,
  );
  return outcome;
}
