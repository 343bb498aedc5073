// Where a run's files go. `o2o train` keeps everything in its --out directory; the grid keeps each run in
// results/<env>/<dataset>/<variant>/seed-<s>/ and shares world models and offline pre-trainings between
// runs in results/<env>/<dataset>/_pretrained/. Large files always live under a `checkpoints/` folder
// (git-ignored) except in `o2o train`'s --out, which is not committed anyway.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sortedEnvOptions } from '../envs/env-options-text.ts';

export interface WorldModelPaths {
  file: string;
  report: string;
  /** Written last: the key it was built for, when, how long it took. */
  marker: string;
  lock: string;
  /** The VAE's training state between epochs while it trains (removed once the model is saved). */
  training: string;
}

export interface OfflinePaths {
  agent: string;
  marker: string;
  lock: string;
  /** The offline evaluation rows and critic diagnostics, copied into every run that starts from it. */
  metrics: string;
  critic: string;
  /** Segment checkpoints while pre-training runs. */
  checkpoints: string;
}

export interface PipelinePaths {
  runDir: string;
  metrics: string;
  metricsCsv: string;
  critic: string;
  /** Written last, atomically: the run is complete. */
  done: string;
  onlineCheckpoints: string;
  finalAgent: string;
  worldModel: WorldModelPaths;
  offline: OfflinePaths;
}

function runFiles(runDir: string) {
  return {
    runDir,
    metrics: join(runDir, 'metrics.jsonl'),
    metricsCsv: join(runDir, 'metrics.csv'),
    critic: join(runDir, 'critic.jsonl'),
    done: join(runDir, 'done.json'),
  };
}

/** A control world model (run config `worldModel`; absent: the paper's VAE). */
export type ControlModel = 'linear' | 'copy';

/** The model file: the VAE's safetensors, or a control's JSON. */
function modelFile(worldModel: ControlModel | undefined): string {
  return worldModel === undefined ? 'world-model.safetensors' : `${worldModel}-world-model.json`;
}

/** `o2o train --out DIR`: the file names it has always written, nothing shared. */
export function trainPaths(out: string, worldModel?: ControlModel): PipelinePaths {
  return {
    ...runFiles(out),
    onlineCheckpoints: join(out, 'checkpoints', 'online'),
    finalAgent: join(out, 'final.safetensors'),
    worldModel: {
      file: join(out, modelFile(worldModel)),
      report: join(out, 'world-model-report.txt'),
      marker: join(out, 'world-model.json'),
      lock: join(out, 'world-model.lock'),
      training: join(out, 'checkpoints', 'world-model-training.safetensors'),
    },
    offline: {
      agent: join(out, 'offline.safetensors'),
      marker: join(out, 'offline.json'),
      lock: join(out, 'offline.lock'),
      metrics: join(out, 'offline-metrics.jsonl'),
      critic: join(out, 'offline-critic.jsonl'),
      checkpoints: join(out, 'checkpoints', 'offline'),
    },
  };
}

/** The shared cache of one (env, dataset) under the grid's results directory. */
export function pretrainedDir(datasetDir: string): string {
  return join(datasetDir, '_pretrained');
}

/** What names a run's shared cache entries. */
export interface CacheEntryOf {
  augFraction: number;
  seed: number;
  worldModel?: ControlModel | undefined;
  criticLayerNorm?: true | undefined;
  envOptions?: Record<string, unknown> | undefined;
}

/**
 * `-env<8 hex>`, from the options with sorted keys, for entries built on an env with options (their
 * markers' keys hold the options themselves); '' without options.
 */
export function envOptionsTag(options: Record<string, unknown> | undefined): string {
  if (options === undefined) return '';
  const sorted = JSON.stringify(sortedEnvOptions(options));
  return `-env${createHash('sha256').update(sorted).digest('hex').slice(0, 8)}`;
}

/**
 * The offline cache entry's name: TD3+BC with or without augmentation (and by which model), with LayerNorm
 * critics or not, on an env with options or not, seed.
 */
export function offlineEntryName(c: CacheEntryOf): string {
  const ln = c.criticLayerNorm === true ? '-ln' : '';
  const env = envOptionsTag(c.envOptions);
  if (c.augFraction === 0) return `bc${ln}${env}-seed-${c.seed}`;
  const model = c.worldModel === undefined ? '' : `-${c.worldModel}`;
  return `aug-${c.augFraction}${model}${ln}${env}-seed-${c.seed}`;
}

/** A grid run: its own directory plus the shared cache of its (env, dataset). */
export function gridPaths(runDir: string, datasetDir: string, c: CacheEntryOf): PipelinePaths {
  const shared = pretrainedDir(datasetDir);
  const { seed, worldModel } = c;
  // The world model does not depend on the critics: runs with and without LayerNorm share it.
  const model = worldModel === undefined ? '' : `-${worldModel}`;
  const wm = join(shared, `world-model${model}${envOptionsTag(c.envOptions)}-seed-${seed}`);
  const off = join(shared, offlineEntryName(c));
  return {
    ...runFiles(runDir),
    onlineCheckpoints: join(runDir, 'checkpoints', 'online'),
    finalAgent: join(runDir, 'checkpoints', 'final.safetensors'),
    worldModel: {
      file: join(wm, 'checkpoints', modelFile(worldModel)),
      report: join(wm, 'world-model-report.txt'),
      marker: join(wm, 'world-model.json'),
      lock: join(wm, '.lock'),
      training: join(wm, 'checkpoints', 'training.safetensors'),
    },
    offline: {
      agent: join(off, 'checkpoints', 'offline.safetensors'),
      marker: join(off, 'offline.json'),
      lock: join(off, '.lock'),
      metrics: join(off, 'metrics.jsonl'),
      critic: join(off, 'critic.jsonl'),
      checkpoints: join(off, 'checkpoints', 'segments'),
    },
  };
}
