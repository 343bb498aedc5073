// Does the pre-trained critic's quality show in the fine-tuned result? Per seed of each main task, the
// held-out error of the critic a run started from (o2o experiment critic-check) next to that run's final
// score, for the main variants with and without augmentation.

import type { GroupSummary } from './analysis.ts';
import { hashSeed, type ReportSettings, roundInterval } from './analysis-common.ts';
import type { CriticAnalysis, CriticSeries, HeldOutSide } from './critic-analysis.ts';
import { groupBy, MAIN_AUG_FRACTION, type TaskRef, taskKey } from './groups.ts';
import { type Interval, mean, spearman, stratifiedBootstrap } from './stats.ts';

export interface CriticOutcomePoint {
  env: string;
  dataset: string;
  seed: number;
  augmented: boolean;
  /** Held-out mean |Q − G| ÷ |mean G| of the pre-trained critic. */
  heldOutRelError: number;
  /** The final normalised score of the run that fine-tuned from it (both parts pre-trained). */
  finalScore: number;
}

/** Spearman's rank correlation of error and score: over all points, and within each side. */
export interface OutcomeCorrelation {
  all: number | null;
  without: number | null;
  with: number | null;
}

export interface TaskOutcome {
  task: Required<TaskRef>;
  dots: number;
  spearman: OutcomeCorrelation;
}

export interface CriticOutcome {
  points: CriticOutcomePoint[];
  /** Over all points at once: tasks whose scores sit at different levels weigh in as well as seeds. */
  spearman: OutcomeCorrelation;
  /** The same within each task, so that only seeds of one task are ranked against each other. */
  byTask: TaskOutcome[];
  /**
   * The mean over tasks of the within-task correlation (both sides), with a bootstrap interval that
   * resamples each task's dots on their own; null without a task of 3 dots or more.
   */
  withinTasks: (Interval & { tasks: number }) | null;
}

type OutcomeSettings = Pick<ReportSettings, 'seed' | 'resamples' | 'confidence'>;

/** The parts of a group summary this needs. */
export type GroupFinals = Pick<
  GroupSummary,
  | 'id'
  | 'env'
  | 'dataset'
  | 'variant'
  | 'pretrain'
  | 'augFraction'
  | 'worldModel'
  | 'criticLayerNorm'
  | 'finalScores'
  | 'finishedSeeds'
>;

/** The key of a fine-tuned run's own held-out check in criticOutcome's `startedFrom`. */
export function startedFromKey(groupId: string, seed: number): string {
  return `${groupId}|${seed}`;
}

/** The parts of the critic analysis this needs: each task's held-out checks per seed. */
export type CriticChecks = Pick<CriticAnalysis, 'env' | 'dataset'> & {
  offline: Pick<CriticSeries, 'augmented' | 'augFraction' | 'worldModel' | 'heldOutBySeed'>[];
};

export function criticOutcome(
  groups: readonly GroupFinals[],
  critic: readonly CriticChecks[],
  mainTasks: ReadonlySet<string>,
  settings: OutcomeSettings,
  /**
   * The held-out check each fine-tuned run logged in its own copy of the pre-training's rows, by
   * startedFromKey: the critic it started from even where the shared pre-training was rebuilt differently
   * since (on other kernels). Seeds without one take the shared pre-training's check.
   */
  startedFrom: ReadonlyMap<string, HeldOutSide> = new Map(),
): CriticOutcome {
  const points: CriticOutcomePoint[] = [];
  for (const c of critic) {
    if (!mainTasks.has(`${c.env}|${c.dataset}`)) continue;
    for (const s of c.offline) {
      if (s.augmented && (s.augFraction !== MAIN_AUG_FRACTION || s.worldModel !== 'vae')) continue;
      const group = groups.find(
        (g) =>
          g.env === c.env &&
          g.dataset === c.dataset &&
          g.variant === (s.augmented ? 'td3bc-aug' : 'td3bc') &&
          g.pretrain === 'both' &&
          g.augFraction === s.augFraction &&
          g.worldModel === 'vae' &&
          !g.criticLayerNorm,
      );
      if (!group) continue;
      for (const x of s.heldOutBySeed) {
        const i = group.finishedSeeds.indexOf(x.seed);
        const score = group.finalScores[i];
        if (i === -1 || score === undefined) continue;
        const heldOut = startedFrom.get(startedFromKey(group.id, x.seed)) ?? x.heldOut;
        points.push({
          env: c.env,
          dataset: c.dataset,
          seed: x.seed,
          augmented: s.augmented,
          heldOutRelError: heldOut.absError / Math.max(Math.abs(heldOut.monteCarlo), 1e-9),
          finalScore: score,
        });
      }
    }
  }
  const perTask = [...groupBy(points, taskKey).values()];
  return {
    points,
    spearman: correlation(points),
    byTask: perTask.map((dots) => ({
      task: { env: dots[0]!.env, dataset: dots[0]!.dataset },
      dots: dots.length,
      spearman: correlation(dots),
    })),
    withinTasks: withinTasks(
      perTask.filter((dots) => rankCorrelation(dots) !== null),
      settings,
    ),
  };
}

const rankCorrelation = (ps: readonly CriticOutcomePoint[]) =>
  spearman(
    ps.map((p) => p.heldOutRelError),
    ps.map((p) => p.finalScore),
  );

function correlation(ps: readonly CriticOutcomePoint[]): OutcomeCorrelation {
  return {
    all: rankCorrelation(ps),
    without: rankCorrelation(ps.filter((p) => !p.augmented)),
    with: rankCorrelation(ps.filter((p) => p.augmented)),
  };
}

function withinTasks(
  tasks: readonly (readonly CriticOutcomePoint[])[],
  settings: OutcomeSettings,
): CriticOutcome['withinTasks'] {
  if (tasks.length === 0) return null;
  // The bootstrap resamples numbers, so each task's stratum holds its dots' indices.
  const strata = tasks.map((dots) => dots.map((_, i) => i));
  // A resample can draw one dot over and over; a constant side ranks nothing, so it counts as 0.
  const meanRho = (drawn: readonly (readonly number[])[]) =>
    mean(drawn.map((idx, k) => rankCorrelation(idx.map((i) => tasks[k]![i]!)) ?? 0));
  const interval = stratifiedBootstrap(strata, meanRho, {
    ...settings,
    seed: settings.seed + hashSeed('critic-outcome|within-tasks'),
  });
  return { ...roundInterval(interval), tasks: tasks.length };
}

/** A rank correlation to two decimals, 'n/a' where there is none. */
export const formatRho = (r: number | null) => (r === null ? 'n/a' : r.toFixed(2));

/** The correlations, for the figure's caption. */
export function describeSpearman(o: CriticOutcome): string {
  const within = o.withinTasks;
  return (
    `Spearman's rank correlation: ${formatRho(o.spearman.all)} over all ${o.points.length} dots, ${formatRho(o.spearman.without)} without augmentation, ${formatRho(o.spearman.with)} with` +
    (within === null
      ? '.'
      : `; within tasks (seeds of one task ranked against each other), ${within.point.toFixed(2)} [${within.low.toFixed(2)}, ${within.high.toFixed(2)}] on average over ${within.tasks} task${within.tasks === 1 ? '' : 's'}.`)
  );
}

/** One sentence for the summary: how the critic a run started from ranks against where the run ended. */
export function describeCriticOutcome(o: CriticOutcome): string {
  return (
    "The pre-trained critic's held-out error against the final score of the run (both parts pre-trained) " +
    `that started from it, over the main tasks' seeds with and without augmentation. ${describeSpearman(o)} ` +
    'The figure is on the page (critic-outcome.svg).'
  );
}
