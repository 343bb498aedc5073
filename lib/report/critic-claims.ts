// The claims about the critic: augmentation keeps the offline critic near the Monte-Carlo returns, on the
// subset's terminal-ending rows (the diagnostic logged while pre-training) and on held-out source rows
// (the shared pre-trainings' check), per task and pooled over tasks.
import type { Analysis, CriticAnalysis, CriticSeries } from './analysis.ts';
import { hashSeed, MIN_SEEDS_FOR_VERDICT } from './analysis-common.ts';
import { formatInterval } from './format.ts';
import { MAIN_AUG_FRACTION } from './groups.ts';
import { overTasks } from './short-task.ts';
import { iqmInterval } from './stats.ts';
import {
  above,
  absInterval,
  type Claim,
  gated,
  lowerIsBetterVerdict,
  type PairedQuantity,
  POOLED_DATASET,
  POOLED_ENV,
  pairedView,
} from './verdicts.ts';

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
export const TERMINAL_ROWS: CriticMeasure = {
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
export const HELD_OUT_ROWS: CriticMeasure = {
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
export function terminalRowClaim(a: Analysis, c: CriticAnalysis): Claim[] {
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
export function heldOutClaim(a: Analysis, c: CriticAnalysis): Claim[] {
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
export function pooledCriticClaim(a: Analysis, m: CriticMeasure): Claim[] {
  const base = { env: POOLED_ENV, dataset: POOLED_DATASET, claim: m.claim };
  const main = new Set(a.datasets.filter((d) => !d.sweepOnly).map((d) => `${d.env}|${d.dataset}`));
  const seeds = (s: CriticSeries | undefined) => (s ? m.bySeed(s).length : 0);
  const ran = a.critic
    .filter((c) => main.has(`${c.env}|${c.dataset}`))
    .map((c) => ({ task: { env: c.env, dataset: c.dataset }, ...criticSides(c) }))
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
    `${overTasks(enough.map((x) => x.task))}: ` +
    `${m.what}, with augmentation ${formatInterval(w, 2)} (${count(withRel)} seeds) ` +
    `vs without ${formatInterval(wo, 2)} (${count(withoutRel)} seeds)`;
  return [lowerIsBetterVerdict(base, w, wo, text, sentence + shortNote, paired)];
}
