// Where a grid run stands, from its files alone: done, running (its lock's owner is alive), started
// (checkpoints, resumable), waiting, blocked (its dataset file is missing) or failed (the last attempt).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTrainingProgress } from '../world-model/train.ts';
import { manifestPath, manifestSha256 } from './dataset-source.ts';
import { readDone } from './done-record.ts';
import { readJsonIfExists } from './fs-atomic.ts';
import type { GridRun } from './grid.ts';
import { usesWorldModel } from './run-config.ts';

export type RunStateKind = 'done' | 'running' | 'started' | 'waiting' | 'blocked' | 'failed';

export interface RunState {
  kind: RunStateKind;
  /** Why it is blocked, what failed, or how far it got. */
  detail: string;
}

export function runLockPath(run: GridRun): string {
  return join(run.paths.runDir, '.lock');
}

export function failedPath(run: GridRun): string {
  return join(run.paths.runDir, 'failed.json');
}

/**
 * Why the run cannot start yet: its dataset file is missing, or has no manifest with its sha256 yet.
 * scripts/make-datasets.sh writes the manifest just after the file; a run started in between would record
 * no checksum and then refuse to resume once the manifest appears.
 */
export function blockedReason(run: GridRun): string | undefined {
  if (run.datasetFile === null) return undefined;
  if (!existsSync(run.datasetFile)) return `${run.datasetFile} missing: run scripts/make-datasets.sh`;
  if (manifestSha256(run.datasetFile) === null) {
    return `${manifestPath(run.datasetFile)} (its sha256) missing: still being written, or the file was not made by scripts/make-datasets.sh`;
  }
  return undefined;
}

/** The run's dataset checksum as the manifest says now (the grid was expanded before it appeared). */
export function refreshDatasetChecksum(run: GridRun): void {
  if (run.config.dataset !== null && run.datasetFile !== null) {
    run.config.dataset.sha256 = manifestSha256(run.datasetFile);
  }
}

function lockOwnerAlive(path: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(path, 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The run's latest online checkpoint pointer ({step}), if it has one. */
export function readOnlinePointer(run: GridRun): { step?: number } | undefined {
  return readJsonIfExists(join(run.paths.onlineCheckpoints, 'latest.json')) as { step?: number } | undefined;
}

/** How far the pre-training the run uses got, per stage: offline updates done, world-model epochs run. */
export interface PretrainingProgress {
  /** Fraction of the stage done, in [0, 1). */
  worldModel?: number;
  offline?: number;
  /** e.g. "world model epoch 120/300" or "offline update 60000/100000". */
  detail?: string;
}

/**
 * From the shared cache entries' checkpoints (another run may be the one building them). Unreadable or
 * absent ones count as not started.
 */
export function pretrainingProgress(run: GridRun): PretrainingProgress {
  if (run.config.variant === 'scratch') return {};
  const pointer = readJsonIfExists(join(run.paths.offline.checkpoints, 'latest.json')) as
    | { update?: unknown }
    | undefined;
  const update = pointer?.update;
  if (Number.isInteger(update) && (update as number) > 0 && (update as number) < run.config.offlineSteps) {
    const u = update as number;
    return { offline: u / run.config.offlineSteps, detail: `offline update ${u}/${run.config.offlineSteps}` };
  }
  // Runs without augmentation share the world model's directory name but do not wait for it.
  if (!usesWorldModel(run.config)) return {};
  const wm = readTrainingProgress(run.paths.worldModel.training);
  if (wm !== undefined && wm.epoch > 0 && wm.epoch < wm.epochs) {
    return { worldModel: wm.epoch / wm.epochs, detail: `world model epoch ${wm.epoch}/${wm.epochs}` };
  }
  return {};
}

/**
 * How far the run got by its checkpoints: "online step N/M", else its pre-training's progress (see
 * pretrainingProgress), else undefined. Checkpoints lag the work by up to one interval.
 */
export function progressDetail(run: GridRun): string | undefined {
  const step = readOnlinePointer(run)?.step;
  if (step !== undefined) return `online step ${step}/${run.config.onlineSteps}`;
  return pretrainingProgress(run).detail;
}

export function runState(run: GridRun): RunState {
  const done = readDone(run.paths.done);
  if (done !== undefined) {
    const score = done.finalReturn === null ? '' : `final return ${done.finalReturn.toFixed(1)}`;
    return { kind: 'done', detail: score };
  }
  const blocked = blockedReason(run);
  if (blocked !== undefined) return { kind: 'blocked', detail: blocked };
  const pid = lockOwnerAlive(runLockPath(run));
  if (pid !== undefined) return { kind: 'running', detail: `pid ${pid}` };
  const failed = readJsonIfExists(failedPath(run)) as { message?: string } | undefined;
  if (failed !== undefined) return { kind: 'failed', detail: failed.message ?? 'failed' };
  const progress = progressDetail(run);
  if (progress !== undefined) return { kind: 'started', detail: progress };
  if (existsSync(join(run.paths.runDir, 'config.json'))) return { kind: 'started', detail: 'pre-training' };
  return { kind: 'waiting', detail: '' };
}
