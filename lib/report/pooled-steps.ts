// The headline steps ratio over all tasks at once: per pre-trained variant, every run's steps to its env's
// scratch final return as a fraction of scratch's steps there, IQM over the runs of every task pooled. One
// number for "how many fewer environment steps", with a narrower interval than any single task gives.

import type { ReportSettings } from './analysis-common.ts';
import { hashSeed, MIN_SEEDS_FOR_VERDICT, roundInterval, thresholdRun } from './analysis-common.ts';
import {
  type Group,
  isMainVariant,
  isPaperScratch,
  isSweepOnly,
  type Pretrain,
  type TaskRef,
  taskKey,
  type Variant,
  type WorldModelKind,
} from './groups.ts';
import { describeTasks } from './short-task.ts';
import { type Interval, pooledStepsRatio, scratchReachesAtStart, type ThresholdRun } from './stats.ts';

export type LeftOutReason = 'too few seeds' | 'scratch at step 0';

export interface PooledStepsRow {
  label: string;
  variant: Variant;
  pretrain: Pretrain | null;
  augFraction: number;
  worldModel: WorldModelKind;
  criticLayerNorm: boolean;
  /** The tasks pooled: the main tasks where the variant and scratch both have MIN_SEEDS_FOR_VERDICT or more
   * finished runs. */
  tasks: TaskRef[];
  /** Tasks the variant finished runs on that were left out, each with why: fewer seeds (on either side), or
   * an env whose scratch runs reach their own threshold at step 0 (no denominator). */
  leftOut: { task: TaskRef; why: LeftOutReason }[];
  runs: number;
  reached: number;
  /** IQM of steps ÷ (the env's scratch steps IQM): below 1, fewer environment steps than scratch. */
  ratio: Interval;
}

/**
 * One row per pre-trained variant; with `onlyTasks` (taskKey: "Hopper-v5 medium-10k", ...), pooled over
 * those tasks alone (the others are neither pooled nor listed as left out).
 */
export function pooledStepsRows(
  groups: readonly Group[],
  s: ReportSettings,
  onlyTasks?: ReadonlySet<string>,
): PooledStepsRow[] {
  const task = (g: Group): TaskRef => ({ env: g.key.env, dataset: g.key.dataset });
  const scratchByEnv = new Map<string, ThresholdRun[]>();
  for (const g of groups) {
    if (!isPaperScratch(g.key)) continue;
    scratchByEnv.set(g.key.env, [...(scratchByEnv.get(g.key.env) ?? []), ...g.finished.map(thresholdRun)]);
  }
  const scratchAtStart = new Map(
    [...scratchByEnv].map(([env, runs]) => [env, scratchReachesAtStart(runs, s.window)] as const),
  );
  const byLabel = new Map<string, Group[]>();
  for (const g of groups) {
    if (g.key.variant === 'scratch' || g.finished.length === 0) continue;
    if (onlyTasks !== undefined && !onlyTasks.has(taskKey(task(g)))) continue;
    if (isSweepOnly(groups.filter((x) => x.key.env === g.key.env && x.key.dataset === g.key.dataset)))
      continue;
    byLabel.set(g.label, [...(byLabel.get(g.label) ?? []), g]);
  }
  const rows: PooledStepsRow[] = [];
  for (const [label, members] of byLabel) {
    const whyLeftOut = (g: Group): LeftOutReason | null => {
      const scratch = scratchByEnv.get(g.key.env) ?? [];
      if (g.finished.length < MIN_SEEDS_FOR_VERDICT || scratch.length < MIN_SEEDS_FOR_VERDICT)
        return 'too few seeds';
      return scratchAtStart.get(g.key.env) ? 'scratch at step 0' : null;
    };
    const used = members.filter((g) => whyLeftOut(g) === null);
    if (used.length === 0) continue;
    const pooled = pooledStepsRatio(
      scratchByEnv,
      used.map((g) => ({ env: g.key.env, variant: g.finished.map(thresholdRun) })),
      { ...s, seed: s.seed + hashSeed(`${label}|pooled-steps`) },
    );
    const { variant, pretrain, augFraction, worldModel, criticLayerNorm } = members[0]!.key;
    rows.push({
      label,
      variant,
      pretrain,
      augFraction,
      worldModel,
      criticLayerNorm,
      tasks: used.map(task),
      leftOut: members.flatMap((g) => {
        const why = whyLeftOut(g);
        return why === null ? [] : [{ task: task(g), why }];
      }),
      runs: pooled.runs,
      reached: pooled.reached,
      ratio: roundInterval(pooled.ratio),
    });
  }
  return rows;
}

/** TD3+BC+aug and TD3+BC (the main variants) pooled over the same tasks. */
export interface SharedTaskComparison {
  tasks: TaskRef[];
  aug: PooledStepsRow;
  plain: PooledStepsRow;
  /** Tasks one variant pools and the other does not: left out of this comparison. */
  augOnly: TaskRef[];
  plainOnly: TaskRef[];
}

/**
 * The main augmented and plain variants pooled over the tasks both of them pool: their own rows can pool
 * different tasks (one variant short of seeds somewhere), and ratios over different tasks do not compare
 * like with like. Their own rows when they pool the same tasks; null when either is missing or they share
 * no task.
 */
export function mainVariantsOverSharedTasks(
  groups: readonly Group[],
  s: ReportSettings,
  rows: readonly PooledStepsRow[],
): SharedTaskComparison | null {
  const main = (from: readonly PooledStepsRow[], variant: Variant) =>
    from.find((r) => r.variant === variant && isMainVariant(r));
  const aug = main(rows, 'td3bc-aug');
  const plain = main(rows, 'td3bc');
  if (!aug || !plain) return null;
  const inPlain = new Set(plain.tasks.map(taskKey));
  const tasks = aug.tasks.filter((t) => inPlain.has(taskKey(t)));
  if (tasks.length === 0) return null;
  const both = new Set(tasks.map(taskKey));
  const augOnly = aug.tasks.filter((t) => !both.has(taskKey(t)));
  const plainOnly = plain.tasks.filter((t) => !both.has(taskKey(t)));
  if (augOnly.length === 0 && plainOnly.length === 0) return { tasks, aug, plain, augOnly, plainOnly };
  const shared = pooledStepsRows(groups, s, both);
  return { tasks, aug: main(shared, 'td3bc-aug')!, plain: main(shared, 'td3bc')!, augOnly, plainOnly };
}

/**
 * The tasks left out of a pool, one entry per reason: { why: 'scratch at step 0', tasks: "Ant-v5 medium-10k,
 * medium-replay-10k" } (describeTasks' list, whose own separators are commas and semicolons).
 */
export function leftOutByReason(leftOut: PooledStepsRow['leftOut']): { why: LeftOutReason; tasks: string }[] {
  return [...new Set(leftOut.map((x) => x.why))].map((why) => ({
    why,
    tasks: describeTasks(leftOut.filter((x) => x.why === why).map((x) => x.task)),
  }));
}
