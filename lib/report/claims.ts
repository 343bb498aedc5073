// The paper's claims checked against our numbers, per env × dataset, each with a verdict and one
// sentence that quotes the intervals it rests on. "Holds" needs the 95% intervals to separate; when
// they overlap the verdict is "inconclusive", never a win. Score comparisons also quote the paired view
// (differences between runs of one seed), which the verdict does not use.
import type {
  Analysis,
  CriticAnalysis,
  CriticSeries,
  GroupSummary,
  PooledStepsRow,
  ThresholdRow,
  ThresholdTable,
} from './analysis.ts';
import { hashSeed, MIN_SEEDS_FOR_VERDICT } from './analysis-common.ts';
import { formatInterval, formatSpeedup, formatSteps } from './format.ts';
import { isSweepOnly, MAIN_AUG_FRACTION, type WorldModelKind } from './groups.ts';
import { type Interval, iqmInterval, mean, stratifiedBootstrap } from './stats.ts';

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

const above = (a: Interval, b: Interval) => a.low > b.high;

export { MIN_SEEDS_FOR_VERDICT };

function gated(claim: Claim, seeds: number): Claim {
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

type GroupKind = {
  variant: string;
  pretrain: string | null;
  augFraction: number;
  worldModel: WorldModelKind;
  criticLayerNorm: boolean;
};

/**
 * A group of the main grid's pre-trained variants (augmented ones at the main fraction, by the paper's
 * VAE unless `worldModel` says otherwise).
 */
function isAblation(
  g: GroupKind,
  variant: 'td3bc' | 'td3bc-aug',
  pretrain: 'both' | 'actor' | 'critic',
  worldModel: WorldModelKind = 'vae',
) {
  // The claims are about the paper's networks: LayerNorm critics are an extension, reported apart.
  return (
    !g.criticLayerNorm &&
    g.variant === variant &&
    g.pretrain === pretrain &&
    (variant === 'td3bc' || (g.augFraction === MAIN_AUG_FRACTION && g.worldModel === worldModel))
  );
}

const isMainAug = (g: GroupKind) => isAblation(g, 'td3bc-aug', 'both');
const isMainPlain = (g: GroupKind) => isAblation(g, 'td3bc', 'both');

/** The threshold row of the task's group of a kind, if that group ran. */
function thresholdRowOf(
  groups: readonly GroupSummary[],
  t: ThresholdTable,
  kind: (g: GroupSummary) => boolean,
): ThresholdRow | undefined {
  const g = groups.find((x) => x.env === t.env && x.dataset === t.dataset && kind(x));
  return g ? t.rows.find((r) => r.groupId === g.id) : undefined;
}

function stepsClaim(t: ThresholdTable, row: ThresholdRow | undefined, label: string): Claim {
  const base = {
    env: t.env,
    dataset: t.dataset,
    claim: `${label} reaches scratch's final return with fewer steps`,
  };
  if (!row) return { ...base, verdict: 'not run', text: `no finished ${label} runs` };
  if (t.scratchAtStart || !row.ratio) {
    return {
      ...base,
      verdict: 'inconclusive',
      text: `TD3 from scratch reaches its own mean final return ${t.threshold.toFixed(0)} already at its first evaluation (step 0; steps IQM 0): training from scratch ends below its untrained policy, so no run can need fewer steps and the comparison says nothing here.`,
    };
  }
  const r = row.ratio;
  const censored = row.runs - row.reached;
  const censorNote =
    censored > 0
      ? ` ${censored} of ${row.runs} runs never reached it and count at their budget (a lower bound).`
      : '';
  const scratch = t.rows[0]!;
  const where = `${row.label} needs ${formatSteps(row.stepsIqm, row)} steps (IQM) against scratch's ${formatSteps(scratch.stepsIqm, scratch)} to reach ${t.threshold.toFixed(0)}${t.thresholdScore === null ? '' : ` (score ${t.thresholdScore.toFixed(1)})`}: ratio ${formatInterval(r, 2)}`;
  const tenfold = r.point <= 0.1 ? " — the paper's up-to-10× reduction" : '';
  const decided: Claim =
    r.high < 1
      ? {
          ...base,
          verdict: 'holds',
          text: `${where}, ${r.point > 0 ? `${formatSpeedup(r.point)} fewer` : 'reached already at the first evaluation (step 0)'}${tenfold}.${censorNote}`,
        }
      : r.low > 1
        ? { ...base, verdict: 'does not hold', text: `${where}: more steps than scratch.${censorNote}` }
        : { ...base, verdict: 'inconclusive', text: `${where}; the interval contains 1.${censorNote}` };
  return gated(decided, Math.min(row.runs, t.scratchRuns));
}

/**
 * The final-score differences better − worse of the seeds both groups finished, in seed order. In the grid
 * a run's seed also draws its data subset, and the variants of one kind of pre-training (plain, or
 * augmented by one model at one fraction) fine-tune from the same pre-trained networks at a seed: two runs
 * with one seed differ only in what is compared, so their difference is free of the subset's luck.
 */
export function pairedDifferences(better: GroupSummary, worse: GroupSummary): number[] {
  const worseBySeed = new Map(worse.finishedSeeds.map((seed, i) => [seed, worse.finalScores[i]]));
  const pairs: { seed: number; difference: number }[] = [];
  better.finishedSeeds.forEach((seed, i) => {
    const b = better.finalScores[i];
    const w = worseBySeed.get(seed);
    if (b !== undefined && w !== undefined) pairs.push({ seed, difference: b - w });
  });
  return pairs.sort((x, y) => x.seed - y.seed).map((p) => p.difference);
}

const sharesPretraining = (a: GroupSummary, b: GroupSummary) =>
  a.variant === b.variant &&
  a.augFraction === b.augFraction &&
  a.worldModel === b.worldModel &&
  a.criticLayerNorm === b.criticLayerNorm;

/**
 * The paired view of a comparison: the mean difference over seeds (pooled over the given tasks' seeds,
 * bootstrap stratified by task) with its interval, and the sentence that quotes it. It is reported beside
 * the verdict, which rests on the two sides' own intervals; only tasks with MIN_SEEDS_FOR_VERDICT or more
 * pairs count.
 */
function pairedView(
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
interface PairedQuantity {
  name: string;
  digits: number;
  note?: string;
}

const SCORE_DIFFERENCE: PairedQuantity = { name: 'mean score difference', digits: 1 };

const STEPS_SAVED: PairedQuantity = {
  name: "mean steps saved by augmentation, as a fraction of scratch's steps,",
  digits: 2,
  note: ' A run that never reached the threshold counts at its budget.',
};

const signed = (v: number, digits = 1) => `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;

/**
 * Per seed both variants finished on a task: (worse's steps − better's steps) ÷ scratch's steps IQM, in
 * seed order, at the task's threshold: the steps `better` saves, in units of scratch's steps.
 */
export function pairedStepsSaved(
  t: ThresholdTable,
  better: ThresholdRow,
  worse: ThresholdRow,
  groups: readonly GroupSummary[],
): number[] {
  const seedsOf = (row: ThresholdRow) => groups.find((g) => g.id === row.groupId)?.finishedSeeds ?? [];
  const scratchSteps = Math.max(1, t.rows[0]!.stepsIqm.point);
  const worseBySeed = new Map(seedsOf(worse).map((seed, i) => [seed, worse.steps[i]?.steps]));
  const pairs: { seed: number; saved: number }[] = [];
  seedsOf(better).forEach((seed, i) => {
    const b = better.steps[i]?.steps;
    const w = worseBySeed.get(seed);
    if (b !== undefined && w !== undefined) pairs.push({ seed, saved: (w - b) / scratchSteps });
  });
  return pairs.sort((x, y) => x.seed - y.seed).map((p) => p.saved);
}

/** +1 when the paired interval lies above 0 (better ahead), −1 below, 0 when it contains 0. */
export function pairedSign(i: Interval): -1 | 0 | 1 {
  return i.low > 0 ? 1 : i.high < 0 ? -1 : 0;
}

/** The verdict on final scores: `better`'s interval above `worse`'s, below it, or overlapping. */
function scoreVerdict(
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
function lowerIsBetterVerdict(
  base: Pick<Claim, 'env' | 'dataset' | 'claim'>,
  lower: Interval,
  higher: Interval,
  text: string,
  tail: string,
  paired: PairedView | undefined,
): Claim {
  return scoreVerdict(base, higher, lower, text, tail, paired);
}

function compareScores(
  settings: Analysis['settings'],
  env: string,
  dataset: string,
  claim: string,
  better: GroupSummary | undefined,
  worse: GroupSummary | undefined,
): Claim {
  const base = { env, dataset, claim };
  const a = better?.finalScore?.iqm;
  const b = worse?.finalScore?.iqm;
  if (!better || !worse || !a || !b)
    return { ...base, verdict: 'not run', text: 'the runs it needs are missing' };
  const text = `final score ${better.label} ${formatInterval(a, 1)} vs ${worse.label} ${formatInterval(b, 1)}`;
  const { paired, sentence } = pairedView(
    [pairedDifferences(better, worse)],
    sharesPretraining(better, worse),
    settings,
    `${env}|${dataset}|${claim}`,
  );
  return gated(scoreVerdict(base, a, b, text, sentence, paired), Math.min(better.finished, worse.finished));
}

export function checkClaims(a: Analysis): Claim[] {
  const claims: Claim[] = [];
  for (const t of a.thresholds) {
    const groups = a.groups.filter((g) => g.env === t.env && g.dataset === t.dataset);
    const rowOf = (kind: (g: GroupSummary) => boolean) => thresholdRowOf(groups, t, kind);
    // A sweep's extra datasets get the headline comparison for what ran there, nothing "not run".
    if (isSweepOnly(groups)) {
      if (rowOf(isMainAug)) claims.push(stepsClaim(t, rowOf(isMainAug), 'TD3+BC+aug → TD3'));
      if (rowOf(isMainPlain)) claims.push(stepsClaim(t, rowOf(isMainPlain), 'TD3+BC → TD3'));
      continue;
    }
    claims.push(stepsClaim(t, rowOf(isMainAug), 'TD3+BC+aug → TD3'));
    claims.push(stepsClaim(t, rowOf(isMainPlain), 'TD3+BC → TD3'));
    const [main, ...ablations] = SCORE_COMPARISONS;
    const of = (side: Side) => groups.find((g) => isAblation(g, ...side));
    claims.push(compareScores(a.settings, t.env, t.dataset, main!.claim, of(main!.better), of(main!.worse)));
    const augRow = rowOf(isMainAug);
    const plainRow = rowOf(isMainPlain);
    // Steps to a threshold every policy beats at step 0 compare nothing.
    if (augRow && plainRow && !t.scratchAtStart) {
      const base = {
        env: t.env,
        dataset: t.dataset,
        claim: 'augmentation needs fewer steps than no augmentation',
      };
      const text = `steps IQM with ${formatSteps(augRow.stepsIqm, augRow)} vs without ${formatSteps(plainRow.stepsIqm, plainRow)}`;
      const { paired, sentence } = pairedView(
        [pairedStepsSaved(t, augRow, plainRow, a.groups)],
        false,
        a.settings,
        `${t.env}|${t.dataset}|${base.claim}`,
        STEPS_SAVED,
      );
      const decided = lowerIsBetterVerdict(base, augRow.stepsIqm, plainRow.stepsIqm, text, sentence, paired);
      claims.push(gated(decided, Math.min(augRow.runs, plainRow.runs)));
    }
    for (const c of ablations) {
      // Shown once the task has a run of the side that is not a main variant (an ablation, the control).
      const extra = [c.better, c.worse].filter((side) => side[1] !== 'both' || (side[2] ?? 'vae') !== 'vae');
      if (extra.some((side) => of(side) !== undefined))
        claims.push(compareScores(a.settings, t.env, t.dataset, c.claim, of(c.better), of(c.worse)));
    }
  }
  // Each task's two critic claims stand apart: the terminal-row one needs rows the held-out one does not.
  for (const c of a.critic) {
    if (c.offline.length === 0) continue;
    claims.push(...terminalRowClaim(a, c), ...heldOutClaim(a, c));
  }
  // Grouped by env × dataset in the report's order (main datasets first); stable within a task.
  const order = a.datasets.map((d) => `${d.env}|${d.dataset}`);
  const rank = (c: Claim) => {
    const i = order.indexOf(`${c.env}|${c.dataset}`);
    return i === -1 ? order.length : i;
  };
  const perTask = claims
    .map((c, i) => ({ c, i }))
    .sort((x, y) => rank(x.c) - rank(y.c) || x.i - y.i)
    .map((x) => x.c);
  return [
    ...pooledStepsClaims(a),
    ...pooledClaims(a),
    ...pooledCriticClaim(a, TERMINAL_ROWS),
    ...pooledCriticClaim(a, HELD_OUT_ROWS),
    ...perTask,
  ];
}

const CRITIC_CLAIM = 'augmentation keeps the critic closer to Monte-Carlo returns offline (smaller |Q − G|)';

/** A task's offline critic series with the VAE's augmentation (the main fraction, else any) and without. */
function criticSides(c: CriticAnalysis): { withAug?: CriticSeries; without?: CriticSeries } {
  const vae = c.offline.filter((s) => s.augmented && s.worldModel === 'vae');
  const withAug = vae.find((s) => s.augFraction === MAIN_AUG_FRACTION) ?? vae[0];
  return { withAug, without: c.offline.find((s) => !s.augmented) };
}

const HELD_OUT_CLAIM =
  "augmentation keeps the critic's values near the data's returns on rows it never trained on (held-out |Q − G|)";

/** One way to measure the critic's error per seed, with the claim it decides. */
interface CriticMeasure {
  claim: string;
  /** What the pooled sentence compares. */
  what: string;
  /** Per seed: the critic's error |Q − G| and the size of the return it estimates, |G|. */
  bySeed(s: CriticSeries): { seed: number; error: number; scale: number }[];
}

/** The diagnostic logged while pre-training: the subset's terminal-ending rows (CRITIC_NOTE). */
const TERMINAL_ROWS: CriticMeasure = {
  claim: CRITIC_CLAIM,
  what: '|Q − G| ÷ |G| at the end of pre-training',
  bySeed: (s) =>
    s.finalBySeed.map((x) => ({
      seed: x.seed,
      error: Math.abs(x.overestimation),
      scale: Math.abs(x.monteCarlo),
    })),
};

/** The held-out check (CRITIC_HELD_OUT_NOTE): source rows the critic did not train on. */
const HELD_OUT_ROWS: CriticMeasure = {
  claim: HELD_OUT_CLAIM,
  what: "held-out rows' mean |Q − G| ÷ mean G at the end of pre-training",
  bySeed: (s) =>
    s.heldOutBySeed.map((x) => ({
      seed: x.seed,
      error: x.heldOut.absError,
      scale: Math.abs(x.heldOut.monteCarlo),
    })),
};

/**
 * Per seed with both: log10 of the error without augmentation ÷ with. The two pre-trained on the same
 * data subset, so share G and the ratio is free of its scale; the log keeps one diverged critic (|Q − G|
 * in the millions) from being the whole mean.
 */
function criticLogRatios(withAug: CriticSeries, without: CriticSeries, m: CriticMeasure): number[] {
  const withBySeed = new Map(m.bySeed(withAug).map((r) => [r.seed, r.error]));
  return m.bySeed(without).flatMap((r) => {
    const w = withBySeed.get(r.seed);
    return w === undefined ? [] : [Math.log10(floored(r.error) / floored(w))];
  });
}

const CRITIC_LOG_RATIO: PairedQuantity = {
  name: 'mean log₁₀(|Q − G| without ÷ with)',
  digits: 2,
  note: ' (+1: a tenfold smaller error with augmentation.)',
};

/** A task's critic claim on the subset's terminal-ending rows (CRITIC_NOTE). */
function terminalRowClaim(a: Analysis, c: CriticAnalysis): Claim[] {
  const { withAug, without } = criticSides(c);
  const base = { env: c.env, dataset: c.dataset, claim: CRITIC_CLAIM };
  if (!withAug?.finalOverestimation || !without?.finalOverestimation) {
    // Both sides pre-trained, but the diagnostic had no rows to measure (an env that never terminates,
    // HalfCheetah, leaves no terminal-ending rows in a subset): not checked there.
    if (withAug && without) return [];
    // A sweep's extra datasets pre-train one side only: nothing to compare, and nothing missing.
    if (a.datasets.some((d) => d.env === c.env && d.dataset === c.dataset && d.sweepOnly)) return [];
    return [
      { ...base, verdict: 'not run', text: 'needs offline critic diagnostics with and without augmentation' },
    ];
  }
  const w = withAug.finalOverestimation;
  const wo = without.finalOverestimation;
  const text = `Q − G at the end of pre-training: with ${formatInterval(w, 1)}, without ${formatInterval(wo, 1)}`;
  // The size of the bias, whichever its sign: an underestimating critic is no more reliable.
  const wAbs = absInterval(w);
  const woAbs = absInterval(wo);
  const { paired, sentence } = pairedView(
    [criticLogRatios(withAug, without, TERMINAL_ROWS)],
    false,
    a.settings,
    `${c.env}|${c.dataset}|${CRITIC_CLAIM}`,
    CRITIC_LOG_RATIO,
  );
  const decided: Claim = above(woAbs, wAbs)
    ? { ...base, verdict: 'holds', text: `${text}.${sentence}` }
    : above(wAbs, woAbs)
      ? { ...base, verdict: 'does not hold', text: `${text}: augmentation is further off.${sentence}` }
      : { ...base, verdict: 'inconclusive', text: `${text}: the intervals of |Q − G| overlap.${sentence}` };
  if (paired) decided.paired = paired;
  return [gated(decided, Math.min(withAug.seeds.length, without.seeds.length))];
}

/** A task's held-out claim, once its shared pre-trainings with and without augmentation were checked. */
function heldOutClaim(a: Analysis, c: CriticAnalysis): Claim[] {
  const { withAug, without } = criticSides(c);
  const w = withAug?.heldOutError;
  const wo = without?.heldOutError;
  if (!w || !wo) return [];
  const base = { env: c.env, dataset: c.dataset, claim: HELD_OUT_CLAIM };
  const text = `mean |Q − G| on held-out rows at the end of pre-training: with ${formatInterval(w.heldOut, 1)}, without ${formatInterval(wo.heldOut, 1)} (mean G ${w.monteCarlo.toFixed(1)})`;
  const { paired, sentence } = pairedView(
    [criticLogRatios(withAug, without, HELD_OUT_ROWS)],
    false,
    a.settings,
    `${c.env}|${c.dataset}|${HELD_OUT_CLAIM}`,
    CRITIC_LOG_RATIO,
  );
  const decided = lowerIsBetterVerdict(base, w.heldOut, wo.heldOut, text, sentence, paired);
  return [gated(decided, Math.min(withAug.heldOutBySeed.length, without.heldOutBySeed.length))];
}

/** |x|, kept off 0 so that it can divide and take a log. */
const floored = (x: number) => Math.max(Math.abs(x), 1e-9);

/** Error ÷ |G| per seed: the critic's error as a fraction of the value it estimates, whatever the env's scale. */
const relativeError = (s: CriticSeries, m: CriticMeasure) =>
  m.bySeed(s).map((x) => ({ seed: x.seed, value: x.error / floored(x.scale) }));

/**
 * A critic claim over every main task: |Q − G| in return units differs in scale from env to env, so
 * each seed's error is taken relative to |G| (the Monte-Carlo return both sides estimate: it depends on
 * the data, not on the critic), pooled as the final scores are (IQM, bootstrap stratified by task).
 */
function pooledCriticClaim(a: Analysis, m: CriticMeasure): Claim[] {
  const base = { env: POOLED_ENV, dataset: POOLED_DATASET, claim: m.claim };
  const main = new Set(a.datasets.filter((d) => !d.sweepOnly).map((d) => `${d.env}|${d.dataset}`));
  const seeds = (s: CriticSeries | undefined) => (s ? m.bySeed(s).length : 0);
  const ran = a.critic
    .filter((c) => main.has(`${c.env}|${c.dataset}`))
    .map((c) => ({ task: `${c.env} ${c.dataset}`, ...criticSides(c) }))
    .filter((x) => seeds(x.withAug) > 0 && seeds(x.without) > 0);
  if (ran.length === 0) return [];
  const enough = ran.filter(
    (x) => seeds(x.withAug) >= MIN_SEEDS_FOR_VERDICT && seeds(x.without) >= MIN_SEEDS_FOR_VERDICT,
  );
  if (enough.length === 0)
    return [
      {
        ...base,
        verdict: 'inconclusive',
        text: `no task has ${MIN_SEEDS_FOR_VERDICT} or more seeds of offline critic diagnostics with and without augmentation yet.`,
      },
    ];
  const short = ran.length - enough.length;
  const shortNote =
    short > 0
      ? ` ${short} task${short === 1 ? '' : 's'} with fewer than ${MIN_SEEDS_FOR_VERDICT} seeds on a side left out.`
      : '';
  const withRel = enough.map((x) => relativeError(x.withAug!, m));
  const withoutRel = enough.map((x) => relativeError(x.without!, m));
  const pooled = (strata: { value: number }[][], side: string) =>
    iqmInterval(
      strata.map((s) => s.map((x) => x.value)),
      { ...a.settings, seed: a.settings.seed + hashSeed(`pooled|${m.claim}|${side}`) },
    );
  const w = pooled(withRel, 'with');
  const wo = pooled(withoutRel, 'without');
  const { paired, sentence } = pairedView(
    enough.map((x) => criticLogRatios(x.withAug!, x.without!, m)),
    false,
    a.settings,
    `pooled|${m.claim}`,
    CRITIC_LOG_RATIO,
  );
  const count = (strata: unknown[][]) => strata.flat().length;
  const text =
    `over ${enough.length} task${enough.length === 1 ? '' : 's'} (${enough.map((x) => x.task).join('; ')}): ` +
    `${m.what}, with augmentation ${formatInterval(w, 2)} (${count(withRel)} seeds) ` +
    `vs without ${formatInterval(wo, 2)} (${count(withoutRel)} seeds)`;
  return [lowerIsBetterVerdict(base, w, wo, text, sentence + shortNote, paired)];
}

/** A variant, the parts it pre-trains and (augmented only) its world model when not the VAE. */
type Side = ['td3bc' | 'td3bc-aug', 'both' | 'actor' | 'critic', WorldModelKind?];

/**
 * The claims decided on final scores, per task and pooled: `better` should end above `worse`. The first
 * is the main comparison; the others need the ablation runs. Augmentation only changes the critic's
 * targets, so the paper credits it with a better critic: hence the last.
 */
const SCORE_COMPARISONS: { claim: string; better: Side; worse: Side }[] = [
  { claim: 'augmentation improves the final score', better: ['td3bc-aug', 'both'], worse: ['td3bc', 'both'] },
  {
    claim: 'actor matters (with augmentation): both beat critic only',
    better: ['td3bc-aug', 'both'],
    worse: ['td3bc-aug', 'critic'],
  },
  {
    claim: 'critic matters (with augmentation): both beat actor only',
    better: ['td3bc-aug', 'both'],
    worse: ['td3bc-aug', 'actor'],
  },
  {
    claim: 'actor matters (without augmentation): both beat critic only',
    better: ['td3bc', 'both'],
    worse: ['td3bc', 'critic'],
  },
  {
    claim: 'critic matters (without augmentation): both beat actor only',
    better: ['td3bc', 'both'],
    worse: ['td3bc', 'actor'],
  },
  {
    claim: 'augmentation helps a critic pre-trained alone: critic only with beats without',
    better: ['td3bc-aug', 'critic'],
    worse: ['td3bc', 'critic'],
  },
  // The controls. A linear least-squares model predicts held-out next states better than the VAE's
  // samples, copying the state about as well, with no dynamics at all: if the VAE still wins against the
  // first, its benefit is not accuracy; if it does not beat the second, it is not the dynamics.
  {
    claim: 'the VAE world model matters: augmenting with it beats augmenting with a linear model',
    better: ['td3bc-aug', 'both'],
    worse: ['td3bc-aug', 'both', 'linear'],
  },
  {
    claim: "the VAE's dynamics matter: augmenting with it beats substituting the state itself",
    better: ['td3bc-aug', 'both'],
    worse: ['td3bc-aug', 'both', 'copy'],
  },
];

/** Claims about final scores that pool every main task, as in the "over tasks" table. */
export const POOLED_ENV = 'all tasks';
export const POOLED_DATASET = 'pooled';

/**
 * The score comparisons again, over every main task (env × dataset) where both sides have at least
 * MIN_SEEDS_FOR_VERDICT finished seeds: each side's final scores pooled over those tasks (IQM, bootstrap
 * stratified by task, rliable's aggregate). More runs per side than any single task, so narrower intervals;
 * the tasks are the same on both sides, so a task one side never ran cannot tilt the comparison.
 */
function pooledClaims(a: Analysis): Claim[] {
  const tasks = a.datasets.filter((d) => !d.sweepOnly);
  const out: Claim[] = [];
  for (const { claim, better, worse } of SCORE_COMPARISONS) {
    const base = { env: POOLED_ENV, dataset: POOLED_DATASET, claim };
    const sides = tasks.map((t) => {
      const of = (side: Side) =>
        a.groups.find((g) => g.env === t.env && g.dataset === t.dataset && isAblation(g, ...side));
      return { task: `${t.env} ${t.dataset}`, better: of(better), worse: of(worse) };
    });
    const ran = sides.filter((x) => (x.better?.finished ?? 0) > 0 && (x.worse?.finished ?? 0) > 0);
    if (ran.length === 0) {
      out.push({ ...base, verdict: 'not run', text: 'no task has finished runs of both' });
      continue;
    }
    const enough = ran.filter(
      (x) =>
        x.better!.finalScores.length >= MIN_SEEDS_FOR_VERDICT &&
        x.worse!.finalScores.length >= MIN_SEEDS_FOR_VERDICT,
    );
    const short = ran.length - enough.length;
    const shortNote =
      short > 0
        ? ` ${short} task${short === 1 ? '' : 's'} with fewer than ${MIN_SEEDS_FOR_VERDICT} finished seeds on a side left out.`
        : '';
    if (enough.length === 0) {
      out.push({
        ...base,
        verdict: 'inconclusive',
        text: `no task has ${MIN_SEEDS_FOR_VERDICT} or more finished seeds of both yet (${ran.length} ${ran.length === 1 ? 'has' : 'have'} fewer).`,
      });
      continue;
    }
    const pooled = (pick: (x: (typeof enough)[number]) => GroupSummary, side: string) => {
      const strata = enough.map((x) => pick(x).finalScores);
      const seed = a.settings.seed + hashSeed(`pooled|${claim}|${side}`);
      return { runs: strata.flat().length, iqm: iqmInterval(strata, { ...a.settings, seed }) };
    };
    const b = pooled((x) => x.better!, 'better');
    const w = pooled((x) => x.worse!, 'worse');
    const label = (x: GroupSummary | undefined) => x?.label ?? '';
    const { paired, sentence } = pairedView(
      enough.map((x) => pairedDifferences(x.better!, x.worse!)),
      sharesPretraining(enough[0]!.better!, enough[0]!.worse!),
      a.settings,
      `pooled|${claim}`,
    );
    const text =
      `over ${enough.length} task${enough.length === 1 ? '' : 's'} (${enough.map((x) => x.task).join('; ')}): ` +
      `final score ${label(enough[0]!.better)} ${formatInterval(b.iqm, 1)} (${b.runs} runs) vs ` +
      `${label(enough[0]!.worse)} ${formatInterval(w.iqm, 1)} (${w.runs} runs)`;
    out.push(scoreVerdict(base, b.iqm, w.iqm, text, sentence + shortNote, paired));
  }
  return out;
}

/**
 * The headline steps claims over every main task at once (a.pooledSteps: each run's steps as a fraction
 * of its env's scratch steps, IQM over all runs), decided as on one task: the ratio's interval below 1.
 */
function pooledStepsClaims(a: Analysis): Claim[] {
  const base = { env: POOLED_ENV, dataset: POOLED_DATASET };
  const aug = a.pooledSteps.find(isMainAug);
  const plain = a.pooledSteps.find(isMainPlain);
  const where = (r: PooledStepsRow) => {
    const censored = r.runs - r.reached;
    const leftOut = r.leftOut.length > 0 ? ` Left out: ${r.leftOut.join('; ')}.` : '';
    return {
      head: `over ${r.tasks.length} task${r.tasks.length === 1 ? '' : 's'} (${r.tasks.join('; ')}): ${r.label} needs ${formatInterval(r.ratio, 2)} of scratch's steps (IQM over ${r.runs} runs of each run's steps ÷ its env's scratch steps IQM)`,
      tail:
        (censored > 0
          ? ` ${censored} of ${r.runs} runs never reached the threshold and count at their budget (a lower bound).`
          : '') + leftOut,
    };
  };
  const claims: Claim[] = [];
  for (const [row, label] of [
    [aug, 'TD3+BC+aug → TD3'],
    [plain, 'TD3+BC → TD3'],
  ] as const) {
    if (!row) continue;
    const claim = `${label} reaches scratch's final return with fewer steps`;
    const { head, tail } = where(row);
    const r = row.ratio;
    claims.push(
      r.high < 1
        ? { ...base, claim, verdict: 'holds', text: `${head}: ${formatSpeedup(r.point)} fewer.${tail}` }
        : r.low > 1
          ? { ...base, claim, verdict: 'does not hold', text: `${head}: more steps than scratch.${tail}` }
          : { ...base, claim, verdict: 'inconclusive', text: `${head}; the interval contains 1.${tail}` },
    );
  }
  if (aug && plain) {
    const claim = 'augmentation needs fewer steps than no augmentation';
    const text = `ratio to scratch's steps over tasks with ${formatInterval(aug.ratio, 2)} (${aug.runs} runs) vs without ${formatInterval(plain.ratio, 2)} (${plain.runs} runs)`;
    // Pooled over different tasks the two ratios would not compare like with like.
    if (aug.tasks.join('|') !== plain.tasks.join('|')) {
      claims.push({
        ...base,
        claim,
        verdict: 'inconclusive',
        text: `${text}: pooled over different tasks, so not compared.`,
      });
    } else {
      const strata = a.thresholds
        .filter((t) => aug.tasks.includes(`${t.env} ${t.dataset}`))
        .flatMap((t) => {
          const augRow = thresholdRowOf(a.groups, t, isMainAug);
          const plainRow = thresholdRowOf(a.groups, t, isMainPlain);
          return augRow && plainRow ? [pairedStepsSaved(t, augRow, plainRow, a.groups)] : [];
        });
      const { paired, sentence } = pairedView(strata, false, a.settings, `pooled|${claim}`, STEPS_SAVED);
      claims.push(lowerIsBetterVerdict({ ...base, claim }, aug.ratio, plain.ratio, text, sentence, paired));
    }
  }
  return claims;
}
