// Stage 1 (td3bc-aug only): the VAE world model of (env, dataset, seed, epochs), built once and shared.
// Training is one synchronous call, so an interruption during it loses that stage's work; the model is
// saved, with a marker written last, as soon as it ends.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OfflineDataset } from '../data/dataset.ts';
import { compareOneStep, formatComparison } from '../world-model/baselines.ts';
import { NativeVaeWorldModel } from '../world-model/native-vae-world-model.ts';
import { trainWorldModel } from '../world-model/train.ts';
import { type CacheMarker, readCacheMarker } from './cache-entry.ts';
import type { StageContext } from './context.ts';
import { writeJsonAtomic } from './fs-atomic.ts';
import { acquireLock } from './lock.ts';
import type { WorldModelPaths } from './paths.ts';
import { checkRebuiltText, describeRebuildCheck } from './rebuild-check.ts';

export function worldModelKey(c: StageContext['config']) {
  return { env: c.env, dataset: c.dataset, seed: c.seed, wmEpochs: c.wmEpochs };
}

const readMarker = (paths: WorldModelPaths, key: unknown) =>
  readCacheMarker(paths.marker, key, 'this world model was built for');

export async function ensureWorldModel(
  ctx: StageContext,
  dataset: OfflineDataset,
  paths: WorldModelPaths,
): Promise<{ model: NativeVaeWorldModel; seconds: number } | 'interrupted'> {
  const key = worldModelKey(ctx.config);
  let marker = readMarker(paths, key);
  if (marker === undefined || !existsSync(paths.file)) {
    // Markers are committed with results/ and model files are not, so on a fresh clone a marker alone
    // means "built once, elsewhere": build it again (same seed, same model).
    if (marker !== undefined) {
      ctx.log(
        `[world model] ${paths.marker} is here but not ${paths.file} (model files are not committed): building it again`,
      );
    }
    mkdirSync(dirname(paths.lock), { recursive: true });
    const lock = await acquireLock(paths.lock, {
      shouldStop: ctx.shouldStop,
      onWait: (who) => ctx.log(`[world model] waiting for ${who}, who is building ${paths.file}`),
    });
    if (lock === undefined) return 'interrupted';
    try {
      // Another run may have built it while this one waited for the lock.
      const found = readMarker(paths, key);
      marker =
        found !== undefined && existsSync(paths.file) ? found : await build(ctx, dataset, paths, key, found);
    } finally {
      lock.release();
    }
  } else {
    ctx.log(`[world model] reusing ${paths.file}`);
  }
  // Always the saved model, so that a run that built it and one that reused it continue identically.
  return { model: NativeVaeWorldModel.load(paths.file), seconds: marker.seconds };
}

async function build(
  ctx: StageContext,
  dataset: OfflineDataset,
  paths: WorldModelPaths,
  key: unknown,
  /** The marker of an earlier build whose model is not here (a fresh clone): the rebuild compares with it. */
  previous: CacheMarker | undefined,
): Promise<CacheMarker> {
  const { seed, wmEpochs } = ctx.config;
  // The earlier build's held-out report (deterministic: errors, no timings), to compare the rebuild with.
  const previousReport =
    previous !== undefined && existsSync(paths.report) ? readFileSync(paths.report, 'utf8') : undefined;
  const started = performance.now();
  const progress = ctx.progress('world model', wmEpochs, 0);
  const wm = trainWorldModel(dataset, {
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
  progress.done();
  const model = new NativeVaeWorldModel(wm.vae, wm.normalizer, seed);
  mkdirSync(dirname(paths.file), { recursive: true });
  model.save(paths.file); // written to a temporary file and renamed
  // The model's held-out one-step error next to the copy-state and linear baselines.
  const report = formatComparison(
    await compareOneStep({
      data: dataset,
      trainRows: wm.split.train,
      evalRows: wm.split.heldOut.length > 0 ? wm.split.heldOut : wm.split.train,
      normalizer: wm.normalizer,
      worldModel: model,
    }),
  );
  writeFileSync(paths.report, `${report}\n`);
  ctx.log(report);
  const marker: CacheMarker = {
    key,
    finishedAt: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
  };
  if (previous !== undefined && previousReport !== undefined) {
    marker.rebuild = checkRebuiltText(previous.finishedAt, 'held-out report', previousReport, report);
    ctx.log(describeRebuildCheck('world model', marker.rebuild));
  }
  writeJsonAtomic(paths.marker, marker);
  return marker;
}
