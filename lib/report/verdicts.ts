// What every claim shares: its shape, how a verdict is read off two intervals ("holds" only when they
// separate), the seed gate below which no verdict is given, and the paired view quoted beside it.
import type { Analysis } from './analysis.ts';
import { hashSeed, MIN_SEEDS_FOR_VERDICT } from './analysis-common.ts';
import { type Interval, mean, stratifiedBootstrap } from './stats.ts';

export { MIN_SEEDS_FOR_VERDICT };

export type Verdict = 'holds' | 'does not hold' | 'inconclusive' | 'not run';

export interface Claim {
  env: string;
  dataset: string;
  claim: string;
  verdict: Verdict;
  text: string;
  /** Final-score comparisons: the mean per-seed difference better − worse, when 3 or more pairs exist. */
  paired?: PairedView;
}

export interface PairedView {
  pairs: number;
  difference: Interval;
}

/** `a`'s interval lies wholly above `b`'s. */
export const above = (a: Interval, b: Interval) => a.low > b.high;

/** The verdict, unless fewer than MIN_SEEDS_FOR_VERDICT seeds stand behind it: then "inconclusive", saying
 * what it would have read. */
export function gated(claim: Claim, seeds: number): Claim {
  if (seeds >= MIN_SEEDS_FOR_VERDICT || claim.verdict === 'not run' || claim.verdict === 'inconclusive')
    return claim;
  const count = `${seeds} finished seed${seeds === 1 ? '' : 's'}`;
  return {
    ...claim,
    verdict: 'inconclusive',
    text: `${claim.text} Only ${count} on the smaller side: no verdict below ${MIN_SEEDS_FOR_VERDICT} (it would read "${claim.verdict}").`,
  };
}

/** The interval of |θ| given one of θ: mirrored when below zero, [0, max] when it straddles zero. */
export function absInterval(i: Interval): Interval {
  if (i.low >= 0) return i;
  if (i.high <= 0) return { point: -i.point, low: -i.high, high: -i.low };
  return { point: Math.abs(i.point), low: 0, high: Math.max(-i.low, i.high) };
}

/** The env and dataset of a claim that pools every main task, as in the "over tasks" table. */
export const POOLED_ENV = 'all tasks';
export const POOLED_DATASET = 'pooled';

/**
 * The paired view of a comparison: the mean difference over seeds (pooled over the given tasks' seeds,
 * bootstrap stratified by task) with its interval, and the sentence that quotes it. It is reported beside
 * the verdict, which rests on the two sides' own intervals; only tasks with MIN_SEEDS_FOR_VERDICT or more
 * pairs count.
 */
export function pairedView(
  strata: number[][],
  shared: boolean,
  settings: Analysis['settings'],
  key: string,
  quantity: PairedQuantity = SCORE_DIFFERENCE,
): { paired?: PairedView; sentence: string } {
  // A task with fewer pairs than a verdict needs would enter the bootstrap with (almost) no spread.
  const used = strata.filter((s) => s.length >= MIN_SEEDS_FOR_VERDICT);
  if (used.length === 0) return { sentence: '' };
  const pairs = used.flat().length;
  const seed = settings.seed + hashSeed(`paired|${key}`);
  const diff = stratifiedBootstrap(used, (s) => mean(s.flat()), { ...settings, seed });
  const what = shared ? 'the same data subset and pre-trained networks' : 'the same data subset';
  const zero = pairedSign(diff) === 0 ? 'contains 0' : 'excludes 0';
  return {
    paired: { pairs, difference: diff },
    sentence: ` Paired by seed (${pairs} pairs, each from ${what}): ${quantity.name} ${signed(diff.point, quantity.digits)} [${signed(diff.low, quantity.digits)}, ${signed(diff.high, quantity.digits)}], ${zero}.${quantity.note ?? ''}`,
  };
}

/** What a paired difference measures, as the sentence names it, and the digits it is shown with. */
export interface PairedQuantity {
  name: string;
  digits: number;
  note?: string;
}

const SCORE_DIFFERENCE: PairedQuantity = { name: 'mean score difference', digits: 1 };

const signed = (v: number, digits = 1) => `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;

/** +1 when the paired interval lies above 0 (better ahead), −1 below, 0 when it contains 0. */
export function pairedSign(i: Interval): -1 | 0 | 1 {
  return i.low > 0 ? 1 : i.high < 0 ? -1 : 0;
}

/** The verdict on final scores: `better`'s interval above `worse`'s, below it, or overlapping. */
export function scoreVerdict(
  base: Pick<Claim, 'env' | 'dataset' | 'claim'>,
  better: Interval,
  worse: Interval,
  text: string,
  tail: string,
  paired: PairedView | undefined,
): Claim {
  const decided: Claim = above(better, worse)
    ? { ...base, verdict: 'holds', text: `${text}.${tail}` }
    : above(worse, better)
      ? { ...base, verdict: 'does not hold', text: `${text}: the opposite.${tail}` }
      : { ...base, verdict: 'inconclusive', text: `${text}: the intervals overlap.${tail}` };
  if (paired) decided.paired = paired;
  return decided;
}

/**
 * The verdict where less is better (steps, the critic's error): `lower`'s interval below `higher`'s, above
 * it, or overlapping. The rule on scores with the sides swapped.
 */
export function lowerIsBetterVerdict(
  base: Pick<Claim, 'env' | 'dataset' | 'claim'>,
  lower: Interval,
  higher: Interval,
  text: string,
  tail: string,
  paired: PairedView | undefined,
): Claim {
  return scoreVerdict(base, higher, lower, text, tail, paired);
}
