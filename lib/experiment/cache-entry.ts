// A shared cache entry (world model, offline pre-training) is built when its marker and its model file are
// both here: markers are committed, model files are not, so a fresh clone has markers whose entries must
// be built again. The stages, the scheduler and the run estimates all decide this here.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BuildPlatform } from './build-platform.ts';
import { sameKey } from './context.ts';
import { readJsonIfExists } from './fs-atomic.ts';
import type { GridRun } from './grid.ts';
import { acquireLock } from './lock.ts';
import type { RebuildCheck } from './rebuild-check.ts';
import { usesWorldModel } from './run-config.ts';

/** Written last, when the entry is built: the settings it was built with, when, how long it took. */
export interface CacheMarker {
  key: unknown;
  finishedAt: string;
  seconds: number;
  /** What it was built on (markers before session 33 do not say). */
  platform?: BuildPlatform;
  /** Set when this build replaced an earlier one of the same key (a fresh clone has no model file). */
  rebuild?: RebuildCheck;
}

export function isBuilt(marker: string, file: string): boolean {
  return existsSync(marker) && existsSync(file);
}

/** A shared cache entry a grid run uses: the stage that builds it, its marker and its model file. */
export interface SharedEntry {
  stage: 'worldModel' | 'offline';
  marker: string;
  file: string;
}

/** The shared entries the run uses, in build order: none for scratch, the world model only with augmentation. */
export function sharedEntries(run: GridRun): SharedEntry[] {
  if (run.config.variant === 'scratch') return [];
  const { offline, worldModel } = run.paths;
  const entries: SharedEntry[] = [];
  if (usesWorldModel(run.config))
    entries.push({ stage: 'worldModel', marker: worldModel.marker, file: worldModel.file });
  entries.push({ stage: 'offline', marker: offline.marker, file: offline.agent });
  return entries;
}

/**
 * The shared entries the run still has to build, in build order. None once its offline pre-training is
 * built (or in `planned`: markers that runs before it will build): the world model only feeds that
 * pre-training, so a run whose pre-training is here needs neither to build nor to load it.
 */
export function entriesToBuild(run: GridRun, planned?: ReadonlySet<string>): SharedEntry[] {
  const ready = (e: SharedEntry) => isBuilt(e.marker, e.file) || planned?.has(e.marker) === true;
  const entries = sharedEntries(run);
  const offline = entries.at(-1);
  if (offline === undefined || ready(offline)) return [];
  return entries.filter((e) => !ready(e));
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

export interface CacheEntry {
  /** The stage's log tag, e.g. "[world model]". */
  tag: string;
  marker: string;
  /** The built file; markers are committed, these are not. */
  artifact: string;
  lock: string;
  key: unknown;
  /** Wording of a key mismatch, e.g. "this world model was built for" (readCacheMarker). */
  builtWith: string;
  /** What happens when the marker is here without the artifact, e.g. "building it again". */
  rebuilding: string;
  /** What the lock holder is doing, e.g. "building <file>". */
  holderIs: string;
  /** Builds the entry (with the marker of an earlier build of the same key, if any) and writes its marker. */
  build(previous: CacheMarker | undefined): Promise<CacheMarker | 'interrupted'>;
}

/**
 * The entry's marker once it is built: reused when built, otherwise built under its lock by one process
 * while others wanting it wait (and then reuse it). 'interrupted' when a stop came first.
 */
export async function ensureCacheEntry(
  entry: CacheEntry,
  ctx: { log(line: string): void; shouldStop(): boolean },
): Promise<CacheMarker | 'interrupted'> {
  const marker = readCacheMarker(entry.marker, entry.key, entry.builtWith);
  if (marker !== undefined && existsSync(entry.artifact)) {
    ctx.log(`${entry.tag} reusing ${entry.artifact}`);
    return marker;
  }
  if (marker !== undefined) {
    ctx.log(
      `${entry.tag} ${entry.marker} is here but not ${entry.artifact} (not committed): ${entry.rebuilding}`,
    );
  }
  mkdirSync(dirname(entry.lock), { recursive: true });
  const lock = await acquireLock(entry.lock, {
    shouldStop: ctx.shouldStop,
    onWait: (who) => ctx.log(`${entry.tag} waiting for ${who}, who is ${entry.holderIs}`),
  });
  if (lock === undefined) return 'interrupted';
  try {
    // Another process may have built it while this one waited for the lock.
    const found = readCacheMarker(entry.marker, entry.key, entry.builtWith);
    if (found !== undefined && existsSync(entry.artifact)) return found;
    return await entry.build(found);
  } finally {
    lock.release();
  }
}
