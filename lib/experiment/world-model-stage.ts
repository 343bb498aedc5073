// Stage 1 (td3bc-aug only): the world model of (env, dataset, seed, epochs), built once and shared: the
// paper's VAE, or a control (`worldModel: linear`, least squares; `worldModel: copy`, s′ = s; seconds).
// The VAE trains one epoch at a time, yielding to the event loop in between: a stop request (SIGTERM, the
// grid's deadline) is honoured at the next epoch end, after saving the training state, which is also saved
// every few epochs; a run resumed from it trains on to the same weights, bit for bit. The model is saved,
// with a marker written last, as soon as training ends.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OfflineDataset } from '../data/dataset.ts';
import { compareOneStep, formatComparison } from '../world-model/baselines.ts';
import { CopyStateWorldModel } from '../world-model/copy-state-world-model.ts';
import type { RowSplit } from '../world-model/data.ts';
import { LinearWorldModel } from '../world-model/linear-world-model.ts';
import { NativeVaeWorldModel } from '../world-model/native-vae-world-model.ts';
import { StateNormalizer } from '../world-model/normalizer.ts';
import {
  discardTrainingState,
  resumeTraining,
  trainWithCheckpoints,
} from '../world-model/resumable-training.ts';
import { TRAIN_DEFAULTS, WorldModelTrainer } from '../world-model/train.ts';
import { checkTrainedFor, trainedForMetadata } from '../world-model/trained-for.ts';
import type { ReseedableWorldModel } from '../world-model/types.ts';
import { type CacheMarker, ensureCacheEntry, readCacheMarker } from './cache-entry.ts';
import { type StageContext, yieldToEventLoop } from './context.ts';
import { currentPlatform } from './current-platform.ts';
import { writeJsonAtomic } from './fs-atomic.ts';
import type { WorldModelPaths } from './paths.ts';
import { checkRebuiltText, describeRebuildCheck, withPreviousPlatform } from './rebuild-check.ts';

export function worldModelKey(c: StageContext['config']) {
  const key = { env: c.env, dataset: c.dataset, seed: c.seed, wmEpochs: c.wmEpochs };
  // Only when set: keys written before the options existed stay valid.
  return {
    ...key,
    ...(c.worldModel === undefined ? {} : { worldModel: c.worldModel }),
    ...(c.envOptions === undefined ? {} : { envOptions: c.envOptions }),
  };
}

function loadModel(c: StageContext['config'], file: string): ReseedableWorldModel {
  const model = loadKind(c.worldModel, file);
  // The cache key names the env already; this catches a model file put in another entry's place.
  checkTrainedFor(model.info.trainedFor, c.env, c.envOptions, file);
  return model;
}

function loadKind(kind: StageContext['config']['worldModel'], file: string): ReseedableWorldModel {
  switch (kind) {
    case 'linear':
      return LinearWorldModel.load(file);
    case 'copy':
      return CopyStateWorldModel.load(file);
    case undefined:
      return NativeVaeWorldModel.load(file);
  }
}

const BUILT_WITH = 'this world model was built for';

/** The world model's marker, if it was built (its model file may not be here). */
export function worldModelMarker(c: StageContext['config'], paths: WorldModelPaths): CacheMarker | undefined {
  return readCacheMarker(paths.marker, worldModelKey(c), BUILT_WITH);
}

export async function ensureWorldModel(
  ctx: StageContext,
  dataset: OfflineDataset,
  paths: WorldModelPaths,
): Promise<{ model: ReseedableWorldModel; seconds: number } | 'interrupted'> {
  const key = worldModelKey(ctx.config);
  const marker = await ensureCacheEntry(
    {
      tag: '[world model]',
      marker: paths.marker,
      artifact: paths.file,
      lock: paths.lock,
      key,
      builtWith: BUILT_WITH,
      rebuilding: 'building it again',
      holderIs: `building ${paths.file}`,
      build: (previous) => build(ctx, dataset, paths, key, previous),
    },
    ctx,
  );
  if (marker === 'interrupted') return marker;
  // Always the saved model, so that a run that built it and one that reused it continue identically.
  return { model: loadModel(ctx.config, paths.file), seconds: marker.seconds };
}

interface BuiltModel {
  /** Every kind records the metadata it is given (what it was fitted for). */
  model: ReseedableWorldModel & { save(path: string, metadata?: Record<string, string>): void };
  split: RowSplit;
  /** The statistics the held-out errors are standardised with (the training split's). */
  normalizer: StateNormalizer;
  /** Training time spent before this process resumed it. */
  earlierSeconds?: number;
}

async function trainVae(
  ctx: StageContext,
  dataset: OfflineDataset,
  paths: WorldModelPaths,
): Promise<BuiltModel | 'interrupted'> {
  const { seed, wmEpochs } = ctx.config;
  const newTrainer = () =>
    new WorldModelTrainer(dataset, {
      seed,
      epochs: wmEpochs,
      onProgress: (p) => {
        progress.update(p.epoch);
        if (p.heldOutMse !== undefined) {
          progress.clear();
          ctx.log(`[world model] epoch ${p.epoch}/${p.epochs}  held-out MSE ${p.heldOutMse.toFixed(4)}`);
        }
      },
    });
  // The state's own signature (options, data hash) decides whether it fits this key's training.
  const { trainer, earlierSeconds } = resumeTraining(newTrainer, paths.training, ctx.log);
  const progress = ctx.progress('world model', wmEpochs, trainer.epochsDone);
  const status = await trainWithCheckpoints(trainer, paths.training, {
    earlierSeconds,
    shouldStop: ctx.shouldStop,
    // Lets signals and the deadline's timer through.
    pause: yieldToEventLoop,
  });
  progress.done();
  if (status === 'stopped') {
    ctx.log(`[world model] stopped at epoch ${trainer.epochsDone}/${wmEpochs}; the training state is saved`);
    return 'interrupted';
  }
  const wm = trainer.result();
  return {
    model: new NativeVaeWorldModel(wm.vae, wm.normalizer, seed),
    split: wm.split,
    normalizer: wm.normalizer,
    earlierSeconds,
  };
}

/**
 * A control (least squares, or copying the state) on the VAE's training split (same seed, same rows), so
 * that all are scored on one held-out set.
 */
function fitControl(ctx: StageContext, dataset: OfflineDataset): BuiltModel {
  const { model, split } =
    ctx.config.worldModel === 'copy'
      ? CopyStateWorldModel.fit(dataset, ctx.config.seed)
      : LinearWorldModel.fit(dataset, ctx.config.seed);
  ctx.log(`[world model] ${model.info.implementation} on ${split.train.length} transitions`);
  const normalizer = StateNormalizer.fit(
    dataset.observations,
    dataset.obsDim,
    split.train,
    TRAIN_DEFAULTS.normEps,
  );
  return { model, split, normalizer };
}

async function build(
  ctx: StageContext,
  dataset: OfflineDataset,
  paths: WorldModelPaths,
  key: unknown,
  /** The marker of an earlier build whose model is not here (a fresh clone): the rebuild compares with it. */
  previous: CacheMarker | undefined,
): Promise<CacheMarker | 'interrupted'> {
  // The earlier build's held-out report (deterministic: errors, no timings), to compare the rebuild with.
  const previousReport =
    previous !== undefined && existsSync(paths.report) ? readFileSync(paths.report, 'utf8') : undefined;
  const started = performance.now();
  const built =
    ctx.config.worldModel === undefined ? await trainVae(ctx, dataset, paths) : fitControl(ctx, dataset);
  if (built === 'interrupted') return built;
  mkdirSync(dirname(paths.file), { recursive: true });
  // Written to a temporary file and renamed; with the env it predicts, so that the world-model service
  // can serve it and the learner can refuse it for a run on another env.
  built.model.save(paths.file, trainedForMetadata(ctx.config.env, ctx.config.envOptions));
  // The model's held-out one-step error next to the copy-state and linear baselines.
  const report = formatComparison(
    await compareOneStep({
      data: dataset,
      trainRows: built.split.train,
      evalRows: built.split.heldOut.length > 0 ? built.split.heldOut : built.split.train,
      normalizer: built.normalizer,
      worldModel: built.model,
    }),
  );
  writeFileSync(paths.report, `${report}\n`);
  ctx.log(report);
  const marker: CacheMarker = {
    key,
    finishedAt: new Date().toISOString(),
    seconds: (built.earlierSeconds ?? 0) + (performance.now() - started) / 1000,
    platform: currentPlatform(),
  };
  if (previous !== undefined && previousReport !== undefined) {
    marker.rebuild = withPreviousPlatform(
      checkRebuiltText(previous.finishedAt, 'held-out report', previousReport, report),
      previous.platform,
    );
    ctx.log(describeRebuildCheck('world model', marker.rebuild, marker.platform));
  }
  writeJsonAtomic(paths.marker, marker);
  discardTrainingState(paths.training);
  return marker;
}
