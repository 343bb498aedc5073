// Every number of the report, computed from the grouped runs: final scores per group (IQM, mean, std,
// bootstrap intervals), steps to scratch's final return and the ratio, ablations, sweeps, the critic
// analysis, learning curves, and the aggregate over environments. Pure and seeded: the same results give
// the same numbers.
import {
  finalOf,
  type Group,
  groupRuns,
  isFinished,
  isMainVariant,
  isSweepOnly,
  keyOf,
  scoreOf,
} from './groups.ts';
import type { CriticRow, RunRecord } from './results.ts';
import {
  compareStepsToThreshold,
  type Interval,
  iqm,
  iqmInterval,
  mean,
  type StepsToThreshold,
  std,
  type ThresholdRun,
} from './stats.ts';

export interface ReportSettings {
  /** Bootstrap resamples for every interval (default 2,000). */
  resamples: number;
  confidence: number;
  seed: number;
  /** Trailing moving-average window (in evaluations) before comparing a curve with the threshold. */
  window: number;
}

export const DEFAULT_SETTINGS: ReportSettings = { resamples: 2000, confidence: 0.95, seed: 0, window: 1 };

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
  label: string;
  tags: string[];
  seeds: number[];
  finished: number;
  unfinished: number;
  /** Online step budgets of the group's runs (normally one value). */
  budgets: number[];
  finalReturn: Summary | null;
  finalScore: Summary | null;
}

export interface ThresholdRow {
  groupId: string;
  label: string;
  runs: number;
  reached: number;
  steps: StepsToThreshold[];
  stepsIqm: Interval;
  /** IQM(steps) / IQM(scratch steps); null for the scratch row itself. */
  ratio: Interval | null;
}

export interface ThresholdTable {
  env: string;
  dataset: string;
  /** Scratch's mean final return (raw return) and its normalised score. */
  threshold: number;
  thresholdScore: number | null;
  scratchRuns: number;
  rows: ThresholdRow[];
}

export interface CurvePoint {
  x: number;
  y: number;
  low: number;
  high: number;
  n: number;
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

export interface CriticSeries {
  augmented: boolean;
  augFraction: number;
  seeds: number[];
  /** Where the seeds' rows came from: shared pre-trainings, the runs' own copies, or both. */
  source: 'pretrained' | 'runs' | 'mixed';
  q: CurvePoint[];
  monteCarlo: CurvePoint[];
  overestimation: CurvePoint[];
  /** Overestimation (Q − G) at the last offline update, IQM over seeds. */
  finalOverestimation: Interval | null;
  /** |Q(s', π(s')) − Q(ŝ', π(ŝ'))| and ‖s' − ŝ'‖² means at the last update (augmented series only). */
  finalTargetShift: { qDifference: number; predictionError: number } | null;
  /**
   * The paper's target-shift diagnostic over updates (augmented series): the within-batch 5th, 50th and
   * 95th percentiles of Q(s', π(s')) − Q(ŝ', π(ŝ')) and the mean ‖s' − ŝ'‖², each an IQM over seeds.
   */
  targetShift: { x: number; p05: number; p50: number; p95: number; error: number }[];
}

export interface OnlineCriticSeries {
  groupId: string;
  label: string;
  overestimation: CurvePoint[];
}

export interface CriticAnalysis {
  env: string;
  dataset: string;
  offline: CriticSeries[];
  online: OnlineCriticSeries[];
}

export interface SweepPoint {
  x: number;
  groupId: string;
  finished: number;
  finalScore: Interval | null;
  ratio: Interval | null;
}

export interface Sweep {
  kind: 'size' | 'ratio';
  env: string;
  /** Dataset kind for the size sweep, dataset label for the ratio sweep. */
  dataset: string;
  series: { label: string; points: SweepPoint[] }[];
}

export interface AggregateRow {
  label: string;
  /** "Hopper-v5 medium-10k" per task (just the env for scratch, which uses no dataset). */
  tasks: string[];
  runs: number;
  /** IQM of the final normalised scores pooled over tasks, bootstrap stratified by task. */
  score: Interval;
}

export interface Analysis {
  settings: ReportSettings;
  /** Every env × dataset with pre-trained runs: main datasets first, then the ones only a sweep uses. */
  datasets: { env: string; dataset: string; sweepOnly: boolean }[];
  runs: { total: number; finished: number; unfinished: number; offlineOnly: number };
  groups: GroupSummary[];
  thresholds: ThresholdTable[];
  aggregate: AggregateRow[];
  sweeps: Sweep[];
  critic: CriticAnalysis[];
  curves: Record<string, Curve[]>;
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

function roundInterval(i: Interval, digits = 4): Interval {
  return { point: round(i.point, digits), low: round(i.low, digits), high: round(i.high, digits) };
}

function summarise(values: number[], s: ReportSettings, seedOffset: number): Summary | null {
  if (values.length === 0) return null;
  return {
    mean: round(mean(values)),
    std: round(std(values)),
    iqm: roundInterval(iqmInterval([values], { ...s, seed: s.seed + seedOffset })),
  };
}

/** A small stable hash of a string, so each group's bootstrap stream differs but is reproducible. */
function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h % 1_000_000;
}

function onlineRows(run: RunRecord) {
  return run.metrics.filter((m) => m.phase === 'online').sort((a, b) => a.step - b.step);
}

function plottedValue(run: RunRecord, row: RunRecord['metrics'][number]): number {
  return row.normalizedScore ?? scoreOf(run.config.env, row.returnMean) ?? row.returnMean;
}

/** IQM and interval per x over the runs that all have a value at x. */
function aggregateCurve(
  perRun: Map<number, number>[],
  s: ReportSettings,
  seed: number,
  shift = 0,
): CurvePoint[] {
  if (perRun.length === 0) return [];
  const xs = [...perRun[0]!.keys()].filter((x) => perRun.every((m) => m.has(x))).sort((a, b) => a - b);
  return xs.map((x) => {
    const values = perRun.map((m) => m.get(x)!);
    const ci = iqmInterval([values], { ...s, seed: seed + x });
    return { x: x + shift, y: round(ci.point), low: round(ci.low), high: round(ci.high), n: values.length };
  });
}

function thresholdRun(run: RunRecord): ThresholdRun {
  return {
    finalReturn: finalOf(run).finalReturn,
    curve: onlineRows(run).map((m) => ({ step: m.step, value: m.returnMean })),
    budget: run.config.onlineSteps,
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
  };
}

/** The env's dataset labels, main datasets before the ones only a sweep uses, each part in group order. */
function mainFirst(env: string, groups: Group[]): string[] {
  const labels = [...new Set(groups.filter((g) => g.key.env === env).map((g) => g.key.dataset))];
  const sweep = (d: string) => isSweepOnly(groups.filter((g) => g.key.env === env && g.key.dataset === d));
  return [...labels.filter((d) => !sweep(d)), ...labels.filter(sweep)];
}

function thresholdTables(groups: Group[], s: ReportSettings): ThresholdTable[] {
  const tables: ThresholdTable[] = [];
  const envs = [...new Set(groups.map((g) => g.key.env))];
  for (const env of envs) {
    const scratch = groups
      .filter((g) => g.key.env === env && g.key.variant === 'scratch')
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
          groupId: groups.find((x) => x.key.env === env && x.key.variant === 'scratch')!.id,
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
          ratio: roundInterval(c.ratio),
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
              o.config.env === r.config.env &&
              keyOf(o.config).dataset === g.key.dataset &&
              (o.config.variant === 'td3bc-aug' ? (o.config.augFraction ?? 0.5) : 0) === g.key.augFraction &&
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

type OfflineCriticRow = Extract<CriticRow, { phase: 'offline' }>;
type OnlineCriticRow = Extract<CriticRow, { phase: 'online' }>;

function criticAnalysis(groups: Group[], offlineOnly: RunRecord[], s: ReportSettings): CriticAnalysis[] {
  const result: CriticAnalysis[] = [];
  const pairs = new Map<string, { env: string; dataset: string }>();
  for (const g of groups) if (g.key.variant !== 'scratch') pairs.set(`${g.key.env}|${g.key.dataset}`, g.key);
  for (const o of offlineOnly) {
    const k = keyOf(o.config);
    pairs.set(`${k.env}|${k.dataset}`, k);
  }
  const order = [...new Set(groups.map((g) => g.key.env))].flatMap((env) =>
    mainFirst(
      env,
      groups.filter((g) => g.key.variant !== 'scratch'),
    ).map((d) => `${env}|${d}`),
  );
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const sortedPairs = [...pairs].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  for (const [pairKey, { env, dataset }] of sortedPairs) {
    const shared = offlineOnly.filter((o) => {
      const k = keyOf(o.config);
      return k.env === env && k.dataset === dataset;
    });
    const fromRuns = groups
      .filter((g) => g.key.env === env && g.key.dataset === dataset && g.key.variant !== 'scratch')
      .filter((g) => g.key.pretrain === 'both')
      .flatMap((g) => g.runs);
    // Shared pre-trainings first, so that a seed's record comes from there when it exists; runs copy the
    // same rows and fill in seeds whose shared entry is not finished (or was not kept).
    const records = [...shared, ...fromRuns].filter((r) =>
      r.critic.some((c) => c.phase === 'offline' && c.vsReturns),
    );
    const offline: CriticSeries[] = [];
    const fractions = [...new Set(records.map((r) => keyOf(r.config).augFraction))].sort();
    for (const augFraction of fractions) {
      // One record per seed (the first in directory order): variants sharing a seed pre-train alike.
      const bySeed = new Map<number, RunRecord>();
      for (const r of records) {
        if (keyOf(r.config).augFraction !== augFraction) continue;
        if (!bySeed.has(r.config.seed)) bySeed.set(r.config.seed, r);
      }
      const runs = [...bySeed.values()].sort((a, b) => a.config.seed - b.config.seed);
      const rowsOf = (r: RunRecord) =>
        r.critic.filter((c): c is OfflineCriticRow => c.phase === 'offline' && !!c.vsReturns);
      const seed = s.seed + hashSeed(`${pairKey}|critic|${augFraction}`);
      const pick = (f: (c: OfflineCriticRow) => number) =>
        aggregateCurve(
          runs.map((r) => new Map(rowsOf(r).map((c) => [c.update, f(c)]))),
          s,
          seed,
        );
      const over = pick((c) => c.vsReturns!.overestimation.mean);
      const last = over.at(-1);
      const lastRows = runs.map((r) => rowsOf(r).at(-1)!);
      const shifts = lastRows.map((c) => c.targetShift).filter((t) => !!t);
      // Updates where every seed logged a target shift.
      const shiftRows = runs.map(
        (r) =>
          new Map(
            rowsOf(r)
              .filter((c) => !!c.targetShift)
              .map((c) => [c.update, c.targetShift!]),
          ),
      );
      const shiftUpdates = [...(shiftRows[0]?.keys() ?? [])].filter((u) => shiftRows.every((m) => m.has(u)));
      const targetShiftCurve = shiftUpdates.map((u) => {
        const at = shiftRows.map((m) => m.get(u)!);
        return {
          x: u,
          p05: round(iqm(at.map((t) => t.qDifference.p05))),
          p50: round(iqm(at.map((t) => t.qDifference.p50))),
          p95: round(iqm(at.map((t) => t.qDifference.p95))),
          error: round(iqm(at.map((t) => t.predictionError.mean)), 6),
        };
      });
      offline.push({
        augmented: augFraction > 0,
        augFraction,
        seeds: runs.map((r) => r.config.seed),
        source: runs.every((r) => r.offlineOnly)
          ? 'pretrained'
          : runs.some((r) => r.offlineOnly)
            ? 'mixed'
            : 'runs',
        q: pick((c) => c.vsReturns!.q.mean),
        monteCarlo: pick((c) => c.vsReturns!.monteCarlo.mean),
        overestimation: over,
        finalOverestimation: last ? { point: last.y, low: last.low, high: last.high } : null,
        finalTargetShift:
          shifts.length > 0
            ? {
                qDifference: round(mean(shifts.map((t) => t!.qDifference.mean))),
                predictionError: round(mean(shifts.map((t) => t!.predictionError.mean))),
              }
            : null,
        targetShift: targetShiftCurve,
      });
    }
    const sweepOnly = isSweepOnly(
      groups.filter((g) => g.key.env === env && g.key.dataset === dataset && g.key.variant !== 'scratch'),
    );
    const onlineGroups = (sweepOnly ? [] : groups).filter(
      (g) =>
        g.key.env === env &&
        isMainVariant(g.key) &&
        (g.key.variant === 'scratch' || g.key.dataset === dataset),
    );
    const online: OnlineCriticSeries[] = [];
    for (const g of onlineGroups) {
      const perRun = g.finished.map(
        (r) =>
          new Map(
            r.critic
              .filter((c): c is OnlineCriticRow => c.phase === 'online' && !!c.onPolicy)
              .map((c) => [c.step, c.onPolicy!.overestimation.mean]),
          ),
      );
      if (perRun.length === 0 || perRun.some((m) => m.size === 0)) continue;
      online.push({
        groupId: g.id,
        label: g.label,
        overestimation: aggregateCurve(perRun, s, s.seed + hashSeed(`${g.id}|online-critic`)),
      });
    }
    if (offline.length > 0 || online.length > 0) result.push({ env, dataset, offline, online });
  }
  return result;
}

function sweeps(groups: Group[], summaries: Map<string, GroupSummary>, tables: ThresholdTable[]): Sweep[] {
  const ratioOf = (id: string) => {
    for (const t of tables) for (const r of t.rows) if (r.groupId === id) return r.ratio;
    return null;
  };
  const point = (g: Group, x: number): SweepPoint => ({
    x,
    groupId: g.id,
    finished: g.finished.length,
    finalScore: summaries.get(g.id)?.finalScore?.iqm ?? null,
    ratio: ratioOf(g.id),
  });
  const out: Sweep[] = [];
  const pretrained = groups.filter((g) => g.key.pretrain === 'both' && g.finished.length > 0);
  // Size sweep: the same variant on datasets of one kind with different sizes.
  for (const env of [...new Set(pretrained.map((g) => g.key.env))]) {
    const inEnv = pretrained.filter((g) => g.key.env === env);
    const kindOf = (g: Group) => g.runs[0]!.config.dataset?.kind ?? 'none';
    for (const kind of [...new Set(inEnv.map(kindOf))].sort()) {
      const ofKind = inEnv.filter((g) => kindOf(g) === kind);
      const sizes = new Set(ofKind.map((g) => g.runs[0]!.config.dataset?.transitions));
      if (sizes.size < 2) continue;
      const series = [...new Set(ofKind.map((g) => `${g.key.variant}|${g.key.augFraction}`))]
        .sort()
        .map((v) => {
          const members = ofKind.filter((g) => `${g.key.variant}|${g.key.augFraction}` === v);
          return {
            label: members[0]!.label,
            points: members
              .map((g) => point(g, g.runs[0]!.config.dataset?.transitions ?? 0))
              .sort((a, b) => a.x - b.x),
          };
        })
        // A variant run on one size only is not part of the sweep.
        .filter((x) => x.points.length >= 2);
      if (series.length > 0) out.push({ kind: 'size', env, dataset: kind, series });
    }
    // Augmentation-ratio sweep: TD3+BC with p in {0, ...} on one dataset; three or more fractions.
    for (const dataset of [...new Set(inEnv.map((g) => g.key.dataset))].sort()) {
      const members = inEnv.filter((g) => g.key.dataset === dataset);
      const byFraction = new Map<number, Group>();
      // At p = 0 prefer an explicit td3bc-aug run with p = 0 (the sweep's own) over plain TD3+BC.
      for (const g of [...members].sort(
        (a, b) => (a.key.variant === 'td3bc-aug' ? -1 : 0) - (b.key.variant === 'td3bc-aug' ? -1 : 0),
      )) {
        if (!byFraction.has(g.key.augFraction)) byFraction.set(g.key.augFraction, g);
      }
      if (byFraction.size < 3) continue;
      out.push({
        kind: 'ratio',
        env,
        dataset,
        series: [
          {
            label: 'TD3+BC(+aug) → TD3',
            points: [...byFraction].map(([p, g]) => point(g, p)).sort((a, b) => a.x - b.x),
          },
        ],
      });
    }
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
      tasks: members.map((g) => (g.key.variant === 'scratch' ? g.key.env : `${g.key.env} ${g.key.dataset}`)),
      runs: strata.flat().length,
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
  const pretrained = groups.filter((g) => g.key.variant !== 'scratch');
  const datasets = [...new Set(groups.map((g) => g.key.env))].flatMap((env) =>
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
    groups: summaries,
    thresholds,
    aggregate: aggregateOverTasks(groups, s),
    sweeps: sweeps(groups, new Map(summaries.map((x) => [x.id, x])), thresholds),
    critic: criticAnalysis(groups, offlineOnly, s),
    curves: curves(groups, offlineOnly, s),
  };
}
