// Does the pre-trained critic's quality show in the fine-tuned result? Per seed of each main task, the
// held-out error of the critic a run started from (o2o experiment critic-check) next to that run's final
// score, for the main variants with and without augmentation.

import type { GroupSummary } from './analysis.ts';
import type { CriticAnalysis } from './critic-analysis.ts';
import { MAIN_AUG_FRACTION } from './groups.ts';
import { spearman } from './stats.ts';

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

export interface CriticOutcome {
  points: CriticOutcomePoint[];
  /** Spearman's rank correlation of error and score: over all points, and within each side. */
  spearman: { all: number | null; without: number | null; with: number | null };
}

/** The parts of a group summary this needs. */
type GroupFinals = Pick<
  GroupSummary,
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

export function criticOutcome(
  groups: readonly GroupFinals[],
  critic: readonly CriticAnalysis[],
  mainTasks: ReadonlySet<string>,
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
        points.push({
          env: c.env,
          dataset: c.dataset,
          seed: x.seed,
          augmented: s.augmented,
          heldOutRelError: x.heldOut.absError / Math.max(Math.abs(x.heldOut.monteCarlo), 1e-9),
          finalScore: score,
        });
      }
    }
  }
  const rho = (ps: CriticOutcomePoint[]) =>
    spearman(
      ps.map((p) => p.heldOutRelError),
      ps.map((p) => p.finalScore),
    );
  return {
    points,
    spearman: {
      all: rho(points),
      without: rho(points.filter((p) => !p.augmented)),
      with: rho(points.filter((p) => p.augmented)),
    },
  };
}

const rho = (r: number | null) => (r === null ? 'n/a' : r.toFixed(2));

/** The correlations, for the figure's caption. */
export function describeSpearman(o: CriticOutcome): string {
  return `Spearman's rank correlation: ${rho(o.spearman.all)} over all ${o.points.length} dots, ${rho(o.spearman.without)} without augmentation, ${rho(o.spearman.with)} with.`;
}

/** One sentence for the summary: how the critic a run started from ranks against where the run ended. */
export function describeCriticOutcome(o: CriticOutcome): string {
  return (
    "The pre-trained critic's held-out error against the final score of the run (both parts pre-trained) " +
    `that started from it, over the main tasks' seeds with and without augmentation. ${describeSpearman(o)} ` +
    'The figure is on the page (critic-outcome.svg).'
  );
}
