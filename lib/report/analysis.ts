// Every number of the report, computed from the grouped runs: final scores per group (IQM, mean, std,
// bootstrap intervals), steps to scratch's final return and the ratio, learning curves, and the aggregate
// over tasks; the critic analysis (critic-analysis.ts) and the sweeps (sweeps.ts) join them in `analyse`.
// Pure and seeded: the same results give the same numbers.
import {
  aggregateCurve,
  type CurvePoint,
  DEFAULT_SETTINGS,
  hashSeed,
  mainFirst,
  onlineRows,
  plottedValue,
  type ReportSettings,
  round,
  roundInterval,
  thresholdRun,
} from './analysis-common.ts';
import { type CriticAnalysis, criticAnalysis, type HeldOutSide, heldOutCheckOf } from './critic-analysis.ts';
import { type CriticOutcome, criticOutcome, startedFromKey } from './critic-outcome.ts';
import { type FrozenStretch, frozenStretch } from './frozen-runs.ts';
import {
  finalOf,
  type Group,
  groupId,
  groupRuns,
  isFinished,
  isPaperScratch,
  isSweepOnly,
  keyOf,
  scoreOf,
  type TaskRef,
  type WorldModelKind,
} from './groups.ts';
import {
  mainVariantsOverSharedTasks,
  type PooledStepsRow,
  pooledStepsRows,
  type SharedTaskComparison,
} from './pooled-steps.ts';
import type { RunRecord } from './results.ts';
import {
  compareStepsToThreshold,
  type Interval,
  iqmInterval,
  mean,
  type StepsToThreshold,
  scratchReachesAtStart,
  std,
} from './stats.ts';
import { type Sweep, sweeps } from './sweeps.ts';

export type { CurvePoint, ReportSettings } from './analysis-common.ts';
export { DEFAULT_SETTINGS } from './analysis-common.ts';
export type { CriticAnalysis, CriticSeries, OnlineCriticSeries } from './critic-analysis.ts';
export type { PooledStepsRow } from './pooled-steps.ts';
export type { Sweep, SweepPoint } from './sweeps.ts';

export interface Summary {
  mean: number;
  std: number;
  iqm: Interval;
}

export interface GroupSummary {
  id: string;
  env: string;
  dataset: string;
  variant: string;
  pretrain: string | null;
  augFraction: number;
  worldModel: WorldModelKind;
  /** LayerNorm in the critics (not the paper's networks). */
  criticLayerNorm: boolean;
  /** The env's options ('' for Gymnasium's defaults). */
  envOptions: string;
  label: string;
  tags: string[];
  seeds: number[];
  finished: number;
  unfinished: number;
  /** Online step budgets of the group's runs (normally one value). */
  budgets: number[];
  finalReturn: Summary | null;
  finalScore: Summary | null;
  /** The finished runs' final normalised scores, in run order (empty when the env has no reference). */
  finalScores: number[];
  /** The seed of each finished run, in the same order as `finalScores`. */
  finishedSeeds: number[];
  /**
   * What each finished run fine-tuned from, in the same order: its own copy of the pre-training's
   * evaluations (pretrainingPrint). Two runs of one seed whose shared pre-training was rebuilt in between,
   * on other kernels, differ here though their settings match.
   */
  finishedPretrainings: string[];
}

/** A run's offline evaluations, step and return: equal for runs fine-tuned from one pre-training. */
export function pretrainingPrint(r: RunRecord): string {
  return r.metrics
    .filter((m) => m.phase === 'offline')
    .map((m) => `${m.step}:${m.returnMean}`)
    .join(' ');
}

export interface ThresholdRow {
  groupId: string;
  label: string;
  runs: number;
  reached: number;
  steps: StepsToThreshold[];
  stepsIqm: Interval;
  /** IQM(steps) / IQM(scratch steps); null for the scratch row itself, and for every row when the table's
   * scratchAtStart holds. */
  ratio: Interval | null;
}

export interface ThresholdTable {
  env: string;
  dataset: string;
  /** Scratch's mean final return (raw return) and its normalised score. */
  threshold: number;
  thresholdScore: number | null;
  scratchRuns: number;
  /** Scratch's steps IQM is 0: its first evaluation already beats its own final return, so no ratio. */
  scratchAtStart: boolean;
  rows: ThresholdRow[];
}

export interface Curve {
  groupId: string;
  label: string;
  /** Online evaluations: x = environment steps. */
  online: CurvePoint[];
  /** Offline evaluations shifted to x = update − offline updates (≤ 0), when recorded. */
  offline: CurvePoint[];
  /** Unfinished runs' partial online curves, one per run. */
  partial: { seed: number; points: { x: number; y: number }[] }[];
}

export interface AggregateRow {
  label: string;
  /** The tasks pooled (just the env for scratch, which uses no dataset). */
  tasks: TaskRef[];
  runs: number;
  /** The fewest and the most finished runs on one task (one run per task: the interval has no seed spread). */
  runsPerTask: [number, number];
  /** IQM of the final normalised scores pooled over tasks, bootstrap stratified by task. */
  score: Interval;
}

export interface RunEntry {
  dir: string;
  groupId: string;
  seed: number;
  finished: boolean;
  /** Last online evaluation step (0 before the first). */
  lastStep: number;
  budget: number;
  finalReturn: number | null;
  finalScore: number | null;
  /** The normalised score of the evaluation at online step 0 (the policy fine-tuning starts from; for
   * scratch, the untrained one), null without one or without reference returns. */
  startScore: number | null;
  /** The commit that wrote the run's config (null when the run predates the field). */
  commit: string | null;
  /** Where the policy stopped changing while fine-tuning (frozen-runs.ts), if it did. */
  frozen: FrozenStretch | null;
}

function startScoreOf(run: RunRecord): number | null {
  const first = onlineRows(run)[0];
  if (first === undefined || first.step !== 0) return null;
  const score = first.normalizedScore ?? scoreOf(run.config.env, first.returnMean);
  return score === null ? null : round(score, 2);
}

function runEntry(run: RunRecord): RunEntry {
  const final = isFinished(run) ? finalOf(run) : null;
  return {
    dir: run.dir,
    groupId: groupId(keyOf(run.config)),
    seed: run.config.seed,
    finished: final !== null,
    lastStep: onlineRows(run).at(-1)?.step ?? 0,
    budget: run.config.onlineSteps,
    finalReturn: final ? round(final.finalReturn, 2) : null,
    finalScore: final?.finalScore == null ? null : round(final.finalScore, 2),
    startScore: startScoreOf(run),
    commit: run.config.commit ?? null,
    frozen: frozenStretch(run),
  };
}

export interface Analysis {
  settings: ReportSettings;
  /** Every env × dataset with pre-trained runs: main datasets first, then the ones only a sweep uses. */
  datasets: { env: string; dataset: string; sweepOnly: boolean }[];
  runs: { total: number; finished: number; unfinished: number; offlineOnly: number };
  /** Every online run: where it is, its group, how far it got and, when finished, its final numbers. */
  runList: RunEntry[];
  groups: GroupSummary[];
  thresholds: ThresholdTable[];
  aggregate: AggregateRow[];
  /** The headline steps ratio per pre-trained variant, pooled over the main tasks. */
  pooledSteps: PooledStepsRow[];
  /** TD3+BC+aug against TD3+BC, both pooled over the tasks both pool. */
  pooledStepsShared: SharedTaskComparison | null;
  sweeps: Sweep[];
  critic: CriticAnalysis[];
  /** The pre-trained critic's held-out error against the fine-tuned final score, per seed. */
  criticOutcome: CriticOutcome;
  curves: Record<string, Curve[]>;
}

/** Each finished run's held-out check of the critic it started from, as it logged it (startedFromKey). */
function ownHeldOutChecks(groups: readonly Group[]): Map<string, HeldOutSide> {
  const checks = new Map<string, HeldOutSide>();
  for (const g of groups) {
    for (const r of g.finished) {
      const check = heldOutCheckOf(r);
      if (check !== null) checks.set(startedFromKey(g.id, r.config.seed), check.heldOut);
    }
  }
  return checks;
}

function summarise(values: number[], s: ReportSettings, seedOffset: number): Summary | null {
  if (values.length === 0) return null;
  return {
    mean: round(mean(values)),
    std: round(std(values)),
    iqm: roundInterval(iqmInterval([values], { ...s, seed: s.seed + seedOffset })),
  };
}

function summariseGroup(g: Group, s: ReportSettings): GroupSummary {
  const finals = g.finished.map(finalOf);
  const scores = finals.map((f) => f.finalScore).filter((v): v is number => v !== null);
  const seed = s.seed + hashSeed(g.id);
  return {
    id: g.id,
    env: g.key.env,
    dataset: g.key.dataset,
    variant: g.key.variant,
    pretrain: g.key.pretrain,
    augFraction: g.key.augFraction,
    worldModel: g.key.worldModel,
    criticLayerNorm: g.key.criticLayerNorm,
    envOptions: g.key.envOptions,
    label: g.label,
    tags: g.tags,
    seeds: g.runs.map((r) => r.config.seed),
    finished: g.finished.length,
    unfinished: g.unfinished.length,
    budgets: [...new Set(g.runs.map((r) => r.config.onlineSteps))].sort((a, b) => a - b),
    finalReturn: summarise(
      finals.map((f) => f.finalReturn),
      s,
      seed,
    ),
    finalScore: scores.length === finals.length ? summarise(scores, s, seed + 1) : null,
    finalScores: scores.length === finals.length ? scores.map((v) => round(v)) : [],
    finishedSeeds: g.finished.map((r) => r.config.seed),
    finishedPretrainings: g.finished.map(pretrainingPrint),
  };
}

function thresholdTables(groups: Group[], s: ReportSettings): ThresholdTable[] {
  const tables: ThresholdTable[] = [];
  const envs = [...new Set(groups.map((g) => g.key.env))];
  for (const env of envs) {
    const scratch = groups
      .filter((g) => g.key.env === env && isPaperScratch(g.key))
      .flatMap((g) => g.finished);
    if (scratch.length === 0) continue;
    const scratchRuns = scratch.map(thresholdRun);
    const datasets = mainFirst(
      env,
      groups.filter((g) => g.key.variant !== 'scratch'),
    );
    for (const dataset of datasets) {
      const candidates = groups.filter(
        (g) => g.key.env === env && g.key.dataset === dataset && g.finished.length > 0,
      );
      if (candidates.length === 0) continue;
      const rows: ThresholdRow[] = [];
      let threshold = 0;
      let scratchRow: ThresholdRow | undefined;
      for (const g of candidates) {
        const c = compareStepsToThreshold(scratchRuns, g.finished.map(thresholdRun), {
          ...s,
          seed: s.seed + hashSeed(`${g.id}|threshold`),
        });
        threshold = c.threshold;
        scratchRow ??= {
          groupId: groups.find((x) => x.key.env === env && isPaperScratch(x.key))!.id,
          label: 'TD3 (scratch)',
          runs: scratch.length,
          reached: c.scratch.steps.filter((x) => !x.censored).length,
          steps: c.scratch.steps,
          stepsIqm: roundInterval(c.scratch.iqm, 1),
          ratio: null,
        };
        rows.push({
          groupId: g.id,
          label: g.label,
          runs: g.finished.length,
          reached: c.variant.steps.filter((x) => !x.censored).length,
          steps: c.variant.steps,
          stepsIqm: roundInterval(c.variant.iqm, 1),
          ratio: c.ratio && roundInterval(c.ratio),
        });
      }
      tables.push({
        env,
        dataset,
        threshold: round(threshold, 2),
        thresholdScore: (() => {
          const v = scoreOf(env, threshold);
          return v === null ? null : round(v, 2);
        })(),
        scratchRuns: scratch.length,
        scratchAtStart: scratchReachesAtStart(scratchRuns, s.window),
        rows: [scratchRow!, ...rows],
      });
    }
  }
  return tables;
}

function curves(groups: Group[], offlineOnly: RunRecord[], s: ReportSettings): Record<string, Curve[]> {
  const out: Record<string, Curve[]> = {};
  for (const g of groups) {
    const envKey = `${g.key.env}|${g.key.dataset}`;
    const seed = s.seed + hashSeed(`${g.id}|curve`);
    const online = aggregateCurve(
      g.finished.map((r) => new Map(onlineRows(r).map((m) => [m.step, plottedValue(r, m)]))),
      s,
      seed,
    );
    // The offline phase: the run's own offline rows, or the shared pre-training of the same seed.
    const offlinePerRun: Map<number, number>[] = [];
    let offlineSteps = 0;
    if (g.key.variant !== 'scratch') {
      for (const r of g.finished) {
        let rows = r.metrics.filter((m) => m.phase === 'offline');
        let source: RunRecord = r;
        if (rows.length === 0) {
          const shared = offlineOnly.find(
            (o) =>
              keyOf(o.config).env === g.key.env &&
              keyOf(o.config).dataset === g.key.dataset &&
              keyOf(o.config).augFraction === g.key.augFraction &&
              keyOf(o.config).worldModel === g.key.worldModel &&
              keyOf(o.config).criticLayerNorm === g.key.criticLayerNorm &&
              o.config.seed === r.config.seed,
          );
          if (shared) {
            rows = shared.metrics.filter((m) => m.phase === 'offline');
            source = shared;
          }
        }
        if (rows.length === 0) continue;
        offlineSteps = Math.max(
          offlineSteps,
          source.config.offlineSteps ?? Math.max(...rows.map((m) => m.step)),
        );
        offlinePerRun.push(new Map(rows.map((m) => [m.step, plottedValue(source, m)])));
      }
    }
    const offline =
      offlinePerRun.length === g.finished.length
        ? aggregateCurve(offlinePerRun, s, seed + 7, -offlineSteps)
        : [];
    const partial = g.unfinished.map((r) => ({
      seed: r.config.seed,
      points: onlineRows(r).map((m) => ({ x: m.step, y: round(plottedValue(r, m)) })),
    }));
    out[envKey] = [...(out[envKey] ?? []), { groupId: g.id, label: g.label, online, offline, partial }];
  }
  return out;
}

/**
 * Each variant over every task it ran on (a task = env × main dataset; sweep-only datasets left out):
 * the IQM of all final scores pooled, with the bootstrap stratified by task, as rliable aggregates.
 */
function aggregateOverTasks(groups: Group[], s: ReportSettings): AggregateRow[] {
  const byVariant = new Map<string, Group[]>();
  for (const g of groups) {
    if (g.finished.length === 0) continue;
    const task = groups.filter((x) => x.key.env === g.key.env && x.key.dataset === g.key.dataset);
    if (g.key.variant !== 'scratch' && isSweepOnly(task)) continue;
    byVariant.set(g.label, [...(byVariant.get(g.label) ?? []), g]);
  }
  const rows: AggregateRow[] = [];
  for (const [label, members] of byVariant) {
    const strata = members.map((g) => g.finished.map((r) => finalOf(r).finalScore));
    if (strata.some((st) => st.some((v) => v === null))) continue;
    rows.push({
      label,
      tasks: members.map((g) =>
        g.key.variant === 'scratch' ? { env: g.key.env } : { env: g.key.env, dataset: g.key.dataset },
      ),
      runs: strata.flat().length,
      runsPerTask: [Math.min(...strata.map((st) => st.length)), Math.max(...strata.map((st) => st.length))],
      score: roundInterval(
        iqmInterval(strata as number[][], { ...s, seed: s.seed + hashSeed(`${label}|aggregate`) }),
        2,
      ),
    });
  }
  return rows;
}

export function analyse(runs: readonly RunRecord[], settings: Partial<ReportSettings> = {}): Analysis {
  const s = { ...DEFAULT_SETTINGS, ...settings };
  const groups = groupRuns(runs);
  const offlineOnly = runs.filter((r) => r.offlineOnly);
  const summaries = groups.map((g) => summariseGroup(g, s));
  const thresholds = thresholdTables(groups, s);
  const critic = criticAnalysis(groups, offlineOnly, s);
  const pretrained = groups.filter((g) => g.key.variant !== 'scratch');
  const pooledSteps = pooledStepsRows(groups, s);
  const datasets: Analysis['datasets'] = [...new Set(groups.map((g) => g.key.env))].flatMap((env) =>
    mainFirst(env, pretrained).map((dataset) => ({
      env,
      dataset,
      sweepOnly: isSweepOnly(pretrained.filter((g) => g.key.env === env && g.key.dataset === dataset)),
    })),
  );
  return {
    settings: s,
    datasets,
    runs: {
      total: runs.length - offlineOnly.length,
      finished: runs.filter((r) => !r.offlineOnly && isFinished(r)).length,
      unfinished: runs.filter((r) => !r.offlineOnly && !isFinished(r)).length,
      offlineOnly: offlineOnly.length,
    },
    runList: runs.filter((r) => !r.offlineOnly).map(runEntry),
    groups: summaries,
    thresholds,
    aggregate: aggregateOverTasks(groups, s),
    pooledSteps,
    pooledStepsShared: mainVariantsOverSharedTasks(groups, s, pooledSteps),
    sweeps: sweeps(groups, new Map(summaries.map((x) => [x.id, x])), thresholds),
    critic,
    criticOutcome: criticOutcome(
      summaries,
      critic,
      new Set(datasets.filter((d) => !d.sweepOnly).map((d) => `${d.env}|${d.dataset}`)),
      s,
      ownHeldOutChecks(groups),
    ),
    curves: curves(groups, offlineOnly, s),
  };
}
