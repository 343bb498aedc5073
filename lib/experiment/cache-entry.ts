// A shared cache entry (world model, offline pre-training) is built when its marker and its model file are
// both here: markers are committed, model files are not, so a fresh clone has markers whose entries must
// be built again. The stages, the scheduler and the run estimates all decide this here.
import { existsSync } from 'node:fs';
import { sameKey } from './context.ts';
import { readJsonIfExists } from './fs-atomic.ts';
import type { RebuildCheck } from './rebuild-check.ts';

/** Written last, when the entry is built: the settings it was built with, when, how long it took. */
export interface CacheMarker {
  key: unknown;
  finishedAt: string;
  seconds: number;
  /** Set when this build replaced an earlier one of the same key (a fresh clone has no model file). */
  rebuild?: RebuildCheck;
}

export function isBuilt(marker: string, file: string): boolean {
  return existsSync(marker) && existsSync(file);
}

/**
 * The entry's marker, or undefined; a marker written for other settings is an error naming both.
 * `builtWith` words it for the entry, e.g. "this world model was built for".
 */
export function readCacheMarker(path: string, key: unknown, builtWith: string): CacheMarker | undefined {
  const marker = readJsonIfExists(path) as CacheMarker | undefined;
  if (marker !== undefined && !sameKey(marker.key, key)) {
    throw new Error(
      `${path}: ${builtWith} ${JSON.stringify(marker.key)}, the run needs ` +
        `${JSON.stringify(key)}; remove the directory or use another output directory`,
    );
  }
  return marker;
}
