// The order in which the grid starts its runs. The spec's priority order, with three moves ahead of it:
// runs `--first` matches go before all others; within each part, runs already under way go first, then
// (unless the spec's order is asked for) runs that only need online training because every shared
// pre-training they use was built since the grid started. Model files are not committed, so a pre-training
// built in this workspace is lost with it: an ablation started while its pre-training is here saves
// building it again in a later session (an augmented one: ~12-19 min plus its world model's ~4-6). One
// built before is not moved for: the workspace has kept it already, and moving for every one a kept
// workspace holds would put all their ablations ahead of the spec's higher tiers.
import { dirname } from 'node:path';
import { entriesToBuild, sharedEntries } from './cache-entry.ts';
import { readJsonIfExists } from './fs-atomic.ts';
import type { GridRun } from './grid.ts';

/** Shared cache entries (directories) the run would build: those conflict with a running builder. */
export function unbuiltEntries(run: GridRun): string[] {
  return entriesToBuild(run).map((e) => dirname(e.marker));
}

/**
 * Whether the run's offline pre-training (all it loads: the world model only feeds it) was built since
 * `builtSince` (its marker's finishedAt) or is in `planned` (markers of entries that runs listed before it
 * will build), so that it only needs online training and what it needs may be lost with the workspace.
 * Scratch runs use none: no.
 */
function reusesNewPretraining(run: GridRun, builtSince: number, planned?: ReadonlySet<string>): boolean {
  const entries = sharedEntries(run);
  if (entries.length === 0 || entriesToBuild(run, planned).length > 0) return false;
  const offline = entries.at(-1)!;
  return planned?.has(offline.marker) === true || markerTime(offline.marker) >= builtSince;
}

/** When the marker says its entry was built, in ms; NaN when it does not say. */
function markerTime(marker: string): number {
  const finishedAt = (readJsonIfExists(marker) as { finishedAt?: unknown } | undefined)?.finishedAt;
  return typeof finishedAt === 'string' ? Date.parse(finishedAt) : Number.NaN;
}

export interface StartOrderOptions {
  /** Runs `--first` matches. */
  preferred(run: GridRun): boolean;
  /** Ids of runs started by an earlier invocation (their directory holds checkpoints or a config). */
  underway: ReadonlySet<string>;
  /** Keep the spec's order instead of moving runs whose pre-training was built since the grid started ahead. */
  specOrder: boolean;
  /** Milliseconds since the epoch: pre-trainings built at or after it count as new (see the top). */
  builtSince: number;
  /** Markers of cache entries taken as built (a dry run's plan). */
  planned?: ReadonlySet<string>;
}

/** Whether the run goes ahead of the runs not under way because its shared pre-training is new (see the top). */
export function aheadForNewPretraining(run: GridRun, o: StartOrderOptions): boolean {
  return !o.specOrder && !o.underway.has(run.id) && reusesNewPretraining(run, o.builtSince, o.planned);
}

/** The queue (in priority order) in start order; a stable sort, so ties keep the priority order. */
export function startOrder(queue: readonly GridRun[], o: StartOrderOptions): GridRun[] {
  const rank = (run: GridRun): number => {
    const part = o.preferred(run) ? 0 : 3;
    if (o.underway.has(run.id)) return part;
    return aheadForNewPretraining(run, o) ? part + 1 : part + 2;
  };
  return queue
    .map((run, index) => ({ run, index, rank: rank(run) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((x) => x.run);
}
