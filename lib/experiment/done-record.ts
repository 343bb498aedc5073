// done.json: written last, atomically, when a run is complete; its absence means unfinished (resume it).
// Kept apart from the pipeline so that reading a grid's state does not load MuJoCo or OpenBLAS.
import type { BuildPlatform } from './build-platform.ts';
import { readJsonIfExists } from './fs-atomic.ts';

export interface DoneRecord {
  finishedAt: string;
  /** Wall-clock seconds of this run's own online stage, summed over sessions. */
  seconds: number;
  finalReturn: number | null;
  finalNormalizedScore: number | null;
  /** Seconds each stage took when it was built (shared stages may have been built by another run). */
  stageSeconds: { worldModel: number | null; offline: number | null; online: number };
  /** What the online stage ran on (records before session 33 do not say). */
  platform?: BuildPlatform;
}

export function readDone(path: string): DoneRecord | undefined {
  return readJsonIfExists(path) as DoneRecord | undefined;
}
