// How long a grid run still needs, from what finished runs and cache entries took on this machine: the
// median seconds of each stage it must still do (world model, offline pre-training, online fine-tuning),
// for the same env and budgets, over the latest times seen (today's code and load, not a slower past's).
// Used to start, before a deadline, only runs that can finish by then: an unfinished run's checkpoints are
// not committed, so a run cut off at a session's end is lost work.
import { groupBy } from '../report/groups.ts';
import { percentile } from '../report/stats.ts';
import { entriesToBuild, sharedEntries } from './cache-entry.ts';
import { readDone } from './done-record.ts';
import { readJsonIfExists } from './fs-atomic.ts';
import type { GridRun } from './grid.ts';
import { pretrainingProgress, readOnlinePointer } from './run-state.ts';

type Stage = 'worldModel' | 'offline' | 'online';

/** One stage time, with what it was for: what a guess for settings never timed is scaled from. */
interface TimedStage {
  env: string;
  /** What else the stage's cost depends on (stageKind): only like kinds are scaled to each other. */
  kind: string;
  /** What the stage's cost is proportional to: see stageWork. */
  work: number;
  seconds: number;
}

/** How many of a stage key's latest times its estimate is the median of. */
export const RECENT_TIMES = 3;

/** Seconds seen per stage key (env and the budgets the stage's cost depends on). */
export interface StageHistory {
  /** The latest RECENT_TIMES times per key, oldest first. */
  seconds: Map<string, number[]>;
  /** Per stage, every time seen: the guess for settings never timed. */
  byStage: Map<Stage, TimedStage[]>;
  /** How times taken on other machines were scaled to this one (stageHistory with `machine`). */
  otherMachines?: MachineScale;
}

/**
 * The machine estimates are for. Its times count as they are; times taken elsewhere (other GEMM kernels,
 * or records that do not say, taken before `since`) are scaled by how much slower or faster the stages
 * timed on both ran here (session 33's AVX2 machine ran the Ant stages 2-3× as long as the AVX-512 ones had).
 */
export interface EstimateMachine {
  /** The GEMM kernels this process runs on (BuildPlatform.gemm). */
  gemm: string;
  /** Times finished at or after this (ms; a grid invocation's start) were taken on this machine too. */
  since?: number;
}

export interface MachineScale {
  /** This machine's time ÷ other machines' time: the median over the stage keys timed on both. */
  factor: number;
  /** How many stage keys were timed both here and elsewhere. */
  keys: number;
}

/** The budget a stage's time grows in proportion to: epochs over the data, updates, or steps. */
function stageWork(stage: Stage, run: GridRun): number {
  const c = run.config;
  switch (stage) {
    case 'worldModel':
      return (c.dataset?.transitions ?? 0) * c.wmEpochs;
    case 'offline':
      return c.offlineSteps;
    case 'online':
      return c.onlineSteps;
  }
}

/**
 * What a stage's cost depends on besides its env and its work: the world model (a control fits in seconds
 * and predicts cheaply), and for pre-training whether it augments (the VAE roughly doubles an update).
 * Fine-tuning costs the same after any pre-training; LayerNorm critics cost more in every stage that trains.
 */
function stageKind(stage: Stage, run: GridRun): string {
  const c = run.config;
  const model = c.worldModel === undefined ? '' : `|${c.worldModel}`;
  // LayerNorm critics cost an update about 1.15× (Ant-v5, Walker2d-v5: npm run bench:critic-divergence).
  const ln = c.criticLayerNorm === true ? '|ln' : '';
  switch (stage) {
    case 'worldModel':
      return `vae${model}`;
    case 'offline':
      return c.augFraction > 0 ? `aug${model}${ln}` : `bc${ln}`;
    case 'online':
      return ln;
  }
}

function stageKey(stage: Stage, run: GridRun): string {
  const c = run.config;
  const size = c.dataset?.transitions ?? 0;
  const hidden = c.hidden.join('x');
  const kind = stageKind(stage, run);
  switch (stage) {
    case 'worldModel':
      return `wm|${c.env}|${size}|${c.wmEpochs}|${kind}`;
    case 'offline':
      return `off|${c.env}|${kind}|${c.offlineSteps}|${hidden}`;
    case 'online':
      return `on|${c.env}|${kind}|${c.onlineSteps}|${hidden}`;
  }
}

interface Timing {
  seconds: number;
  finishedAt: string;
  gemm?: string;
}

/** The GEMM kernels a done record or marker names, if it names them. */
function gemmOf(record: { platform?: unknown }): string | undefined {
  const gemm = (record.platform as { gemm?: unknown } | undefined)?.gemm;
  return typeof gemm === 'string' ? gemm : undefined;
}

function markerTiming(path: string): Timing | undefined {
  const marker = readJsonIfExists(path) as
    | { seconds?: unknown; finishedAt?: unknown; platform?: unknown }
    | undefined;
  if (typeof marker?.seconds !== 'number' || !(marker.seconds > 0)) return undefined;
  const gemm = gemmOf(marker);
  return {
    seconds: marker.seconds,
    finishedAt: typeof marker.finishedAt === 'string' ? marker.finishedAt : '',
    ...(gemm === undefined ? {} : { gemm }),
  };
}

/** One stage time seen: its key (stageKey), what it was for, and when it finished (ms; 0 when unknown). */
export interface StageTiming extends TimedStage {
  stage: Stage;
  key: string;
  at: number;
  /** The GEMM kernels it ran on, when its record says (BuildPlatform.gemm). */
  gemm?: string;
}

/** Every stage time in the runs' done records and the cache markers they point at (each marker once). */
export function stageTimings(runs: GridRun[]): StageTiming[] {
  const out: StageTiming[] = [];
  const seenMarkers = new Set<string>();
  const add = (stage: Stage, run: GridRun, timing: Timing | undefined) => {
    if (timing === undefined) return;
    out.push({
      stage,
      key: stageKey(stage, run),
      env: run.config.env,
      kind: stageKind(stage, run),
      work: stageWork(stage, run),
      seconds: timing.seconds,
      // A finish time that does not parse counts as the oldest.
      at: Date.parse(timing.finishedAt) || 0,
      ...(timing.gemm === undefined ? {} : { gemm: timing.gemm }),
    });
  };
  for (const run of runs) {
    const done = readDone(run.paths.done);
    if (done !== undefined && done.stageSeconds.online > 0) {
      const gemm = gemmOf(done);
      add('online', run, {
        seconds: done.stageSeconds.online,
        finishedAt: done.finishedAt,
        ...(gemm === undefined ? {} : { gemm }),
      });
    }
    for (const { stage, marker } of sharedEntries(run)) {
      if (seenMarkers.has(marker)) continue;
      seenMarkers.add(marker);
      add(stage, run, markerTiming(marker));
    }
  }
  return out;
}

/**
 * The stage times of `stageTimings`, by key (the latest RECENT_TIMES) and by stage (all, for guesses).
 * With `machine`, a key timed on that machine keeps only those times, and times from elsewhere are scaled
 * to it (machineScale).
 */
export function stageHistory(runs: GridRun[], machine?: EstimateMachine): StageHistory {
  const timings = stageTimings(runs).sort((a, b) => a.at - b.at);
  const here = (t: StageTiming) =>
    machine === undefined ||
    t.gemm === machine.gemm ||
    (machine.since !== undefined && t.at >= machine.since);
  const byKey = groupBy(timings, (t) => t.key);
  const scale = machine === undefined ? undefined : machineScale(byKey, here);
  const factor = scale?.factor ?? 1;
  const byStage = groupBy(
    timings.map((t) => (here(t) ? t : { ...t, seconds: t.seconds * factor })),
    (t) => t.stage,
  );
  const seconds = new Map<string, number[]>();
  for (const [key, all] of byKey) {
    const local = all.filter(here);
    const chosen = local.length > 0 ? local.map((t) => t.seconds) : all.map((t) => t.seconds * factor);
    seconds.set(key, chosen.slice(-RECENT_TIMES));
  }
  return { seconds, byStage, ...(scale === undefined ? {} : { otherMachines: scale }) };
}

/**
 * This machine's times against other machines', over the stage keys timed on both: the median of the
 * keys' ratios of their latest times' medians (factor 1 when no key was timed on both).
 */
function machineScale(
  byKey: ReadonlyMap<string, readonly StageTiming[]>,
  here: (t: StageTiming) => boolean,
): MachineScale {
  const latestMedian = (ts: readonly StageTiming[]) =>
    percentile(
      ts.slice(-RECENT_TIMES).map((t) => t.seconds),
      50,
    );
  const ratios: number[] = [];
  for (const timings of byKey.values()) {
    const local = timings.filter(here);
    const elsewhere = timings.filter((t) => !here(t));
    if (local.length > 0 && elsewhere.length > 0) ratios.push(latestMedian(local) / latestMedian(elsewhere));
  }
  return { factor: ratios.length > 0 ? percentile(ratios, 50) : 1, keys: ratios.length };
}

/** "times from other machines × 2.00 (the median over 3 stage keys …)", for the grid's log and status. */
export function describeMachineScale(scale: MachineScale | undefined): string {
  if (scale === undefined || scale.keys === 0) return 'no stage timed both on this machine and elsewhere yet';
  return `times from other machines × ${scale.factor.toFixed(2)} (the median over ${scale.keys} stage key${scale.keys === 1 ? '' : 's'} timed both here and elsewhere)`;
}

export interface RunEstimate {
  /** Seconds the run still needs, or undefined when some stage it needs was never timed here. */
  seconds: number | undefined;
  /** The stages it still has to do, e.g. "world model 5 min + offline 12 min + online 13 min". */
  detail: string;
}

const STAGE_NAMES: Record<Stage, string> = {
  worldModel: 'world model',
  offline: 'offline',
  online: 'online',
};

/**
 * What the run still needs: stages whose cache entry is built (marker and its model file) cost nothing,
 * the others are scaled by what their latest checkpoint has left (epochs, updates, steps). With `planned` (for a total over
 * several runs), cache entries already in it cost nothing either, and the run's are added to it.
 */
export function estimateRun(run: GridRun, history: StageHistory, planned?: Set<string>): RunEstimate {
  const needed: [Stage, number][] = [];
  // A stage with checkpoints needs only what they have left.
  const done = pretrainingProgress(run);
  for (const { stage, marker } of entriesToBuild(run, planned)) {
    planned?.add(marker);
    needed.push([stage, 1 - (done[stage] ?? 0)]);
  }
  const step = readOnlinePointer(run)?.step ?? 0;
  needed.push(['online', Math.max(0, 1 - step / run.config.onlineSteps)]);
  let total = 0;
  let unknown = false;
  const parts: string[] = [];
  for (const [stage, fraction] of needed) {
    const seen = history.seconds.get(stageKey(stage, run));
    const exact = seen !== undefined && seen.length > 0;
    const base = exact ? percentile(seen, 50) : guess(stage, run, history);
    if (base === undefined) {
      unknown = true;
      parts.push(`${STAGE_NAMES[stage]} ?`);
      continue;
    }
    const s = base * fraction;
    total += s;
    parts.push(`${STAGE_NAMES[stage]} ${exact ? '' : '~'}${(s / 60).toFixed(0)} min`);
  }
  return { seconds: unknown ? undefined : total, detail: parts.join(' + ') };
}

/**
 * A stage never timed with the run's settings (another env, dataset size or budget): the median of the
 * times seen for that stage, each scaled to the run's work (stageWork), from the same env and kind
 * (stageKind) when there are any, else from the same kind, else from all. A guess, not a bound (loads
 * differ); undefined only when the stage was never timed at all.
 */
function guess(stage: Stage, run: GridRun, history: StageHistory): number | undefined {
  const seen = (history.byStage.get(stage) ?? []).filter((t) => t.work > 0);
  if (seen.length === 0) return undefined;
  const kind = stageKind(stage, run);
  const sameKind = (t: TimedStage) => t.kind === kind;
  const closest = [(t: TimedStage) => t.env === run.config.env && sameKind(t), sameKind, () => true]
    .map((like) => seen.filter(like))
    .find((list) => list.length > 0)!;
  const work = stageWork(stage, run);
  return percentile(
    closest.map((t) => (t.seconds * work) / t.work),
    50,
  );
}

export interface TierEstimate {
  tier: number;
  runs: number;
  /** Core-seconds of the runs with an estimate, each shared cache entry counted once. */
  seconds: number;
  /** Runs with a stage never timed here (not in `seconds`). */
  unknown: number;
}

/** Core time the runs still need, per priority tier, in the order given. */
export function estimateTiers(runs: readonly GridRun[], history: StageHistory): TierEstimate[] {
  const planned = new Set<string>();
  const tiers = new Map<number, TierEstimate>();
  for (const run of runs) {
    const t = tiers.get(run.tier) ?? { tier: run.tier, runs: 0, seconds: 0, unknown: 0 };
    tiers.set(run.tier, t);
    t.runs++;
    const { seconds } = estimateRun(run, history, planned);
    if (seconds === undefined) t.unknown++;
    else t.seconds += seconds;
  }
  return [...tiers.values()];
}

/** A tier's core time left, e.g. "~8.5 h for 18 runs + 2 runs with stages never timed here". */
export function describeTierEstimate(t: TierEstimate): string {
  const known = t.runs - t.unknown;
  const timed = known > 0 ? `~${(t.seconds / 3600).toFixed(1)} h for ${runCount(known)}` : '';
  const untimed = t.unknown > 0 ? `${runCount(t.unknown)} with stages never timed here` : '';
  return [timed, untimed].filter((x) => x !== '').join(' + ');
}

export function runCount(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}
