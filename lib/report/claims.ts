// The paper's claims checked against our numbers, per env × dataset, each with a verdict and one
// sentence that quotes the intervals it rests on. "Holds" needs the 95% intervals to separate; when
// they overlap the verdict is "inconclusive", never a win. Score comparisons also quote the paired view
// (differences between runs of one seed), which the verdict does not use.
import type { Analysis, GroupSummary, PooledStepsRow, ThresholdRow, ThresholdTable } from './analysis.ts';
import { hashSeed, MIN_SEEDS_FOR_VERDICT } from './analysis-common.ts';
import {
  HELD_OUT_ROWS,
  heldOutClaim,
  pooledCriticClaim,
  TERMINAL_ROWS,
  terminalRowClaim,
} from './critic-claims.ts';
import { formatInterval, formatSpeedup, formatSteps } from './format.ts';
import { isSweepOnly, MAIN_AUG_FRACTION, taskKey, type WorldModelKind } from './groups.ts';
import { leftOutByReason } from './pooled-steps.ts';
import { describeTasks, overTasks } from './short-task.ts';
import { iqmInterval } from './stats.ts';
import {
  type Claim,
  gated,
  lowerIsBetterVerdict,
  type PairedQuantity,
  POOLED_DATASET,
  POOLED_ENV,
  pairedView,
  scoreVerdict,
} from './verdicts.ts';

type GroupKind = {
  variant: string;
  pretrain: string | null;
  augFraction: number;
  worldModel: WorldModelKind;
  criticLayerNorm: boolean;
};

/**
 * A group of the main grid's pre-trained variants (augmented ones at the main fraction, by the paper's
 * VAE unless `worldModel` says otherwise), with the paper's critics unless `layerNorm`.
 */
function isAblation(
  g: GroupKind,
  variant: 'td3bc' | 'td3bc-aug',
  pretrain: 'both' | 'actor' | 'critic',
  worldModel: WorldModelKind = 'vae',
  layerNorm = false,
) {
  // The paper's claims are about its networks: LayerNorm critics are an extension, compared apart.
  return (
    g.criticLayerNorm === layerNorm &&
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

/**
 * Whether each seed's two runs fine-tuned from the same pre-trained networks: the same kind of
 * pre-training, and for every seed both finished, the same pre-training evaluations in their own copies
 * (a shared pre-training rebuilt on other kernels between the two runs differs, though its settings match).
 */
export function sharesPretraining(a: GroupSummary, b: GroupSummary): boolean {
  const sameKind =
    a.variant === b.variant &&
    a.augFraction === b.augFraction &&
    a.worldModel === b.worldModel &&
    a.criticLayerNorm === b.criticLayerNorm;
  if (!sameKind) return false;
  // A run that kept no offline rows says nothing against it.
  const printOf = new Map(b.finishedSeeds.map((seed, i) => [seed, b.finishedPretrainings[i] ?? '']));
  return a.finishedSeeds.every((seed, i) => {
    const mine = a.finishedPretrainings[i] ?? '';
    const other = printOf.get(seed) ?? '';
    return mine === '' || other === '' || mine === other;
  });
}

const STEPS_SAVED: PairedQuantity = {
  name: "mean steps saved by augmentation, as a fraction of scratch's steps,",
  digits: 2,
  note: ' A run that never reached the threshold counts at its budget.',
};

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
      // Shown once the task has a run of a side that is not a main variant (extraSides).
      if (extraSides(c).some((side) => of(side) !== undefined))
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

/**
 * A variant, the parts it pre-trains, (augmented only) its world model when not the VAE, and true for
 * LayerNorm critics.
 */
type Side = ['td3bc' | 'td3bc-aug', 'both' | 'actor' | 'critic', WorldModelKind?, boolean?];

interface ScoreComparison {
  claim: string;
  better: Side;
  worse: Side;
}

/** The sides of a comparison that are not a main variant: an ablation, a control, LayerNorm critics. */
function extraSides(c: ScoreComparison): Side[] {
  return [c.better, c.worse].filter(
    (side) => side[1] !== 'both' || (side[2] ?? 'vae') !== 'vae' || side[3] === true,
  );
}

/**
 * The claims decided on final scores, per task and pooled: `better` should end above `worse`. The first
 * is the main comparison; the others need the ablation runs. Augmentation only changes the critic's
 * targets, so the paper credits it with a better critic: hence "augmentation helps a critic pre-trained alone".
 */
const SCORE_COMPARISONS: ScoreComparison[] = [
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
  // Beyond the paper: LayerNorm critics, a remedy for offline Q divergence of their own. If they lift
  // TD3+BC as augmentation does and augmentation adds nothing on top, augmentation's gain is the critic
  // it keeps from diverging.
  {
    claim: 'LayerNorm critics improve the final score (no augmentation)',
    better: ['td3bc', 'both', 'vae', true],
    worse: ['td3bc', 'both'],
  },
  {
    claim: 'augmentation improves the final score with LayerNorm critics too',
    better: ['td3bc-aug', 'both', 'vae', true],
    worse: ['td3bc', 'both', 'vae', true],
  },
  {
    claim: "LayerNorm critics alone beat augmentation with the paper's critics",
    better: ['td3bc', 'both', 'vae', true],
    worse: ['td3bc-aug', 'both'],
  },
];

/**
 * The score comparisons again, over every main task (env × dataset) where both sides have at least
 * MIN_SEEDS_FOR_VERDICT finished seeds: each side's final scores pooled over those tasks (IQM, bootstrap
 * stratified by task, rliable's aggregate). More runs per side than any single task, so narrower intervals;
 * the tasks are the same on both sides, so a task one side never ran cannot tilt the comparison.
 */
function pooledClaims(a: Analysis): Claim[] {
  const tasks = a.datasets.filter((d) => !d.sweepOnly);
  const out: Claim[] = [];
  for (const comparison of SCORE_COMPARISONS) {
    const { claim, better, worse } = comparison;
    // A comparison whose extension (ablation, control, LayerNorm critics) never ran is left out, not "not run".
    const extra = extraSides(comparison);
    if (extra.length > 0 && !a.groups.some((g) => extra.some((side) => isAblation(g, ...side)))) continue;
    const base = { env: POOLED_ENV, dataset: POOLED_DATASET, claim };
    const sides = tasks.map((t) => {
      const of = (side: Side) =>
        a.groups.find((g) => g.env === t.env && g.dataset === t.dataset && isAblation(g, ...side));
      return { task: { env: t.env, dataset: t.dataset }, better: of(better), worse: of(worse) };
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
      enough.every((x) => sharesPretraining(x.better!, x.worse!)),
      a.settings,
      `pooled|${claim}`,
    );
    const text =
      `${overTasks(enough.map((x) => x.task))}: ` +
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
    const leftOut = leftOutByReason(r.leftOut)
      .map((x) => ` Left out (${x.why}): ${x.tasks}.`)
      .join('');
    return {
      head: `${overTasks(r.tasks)}: ${r.label} needs ${formatInterval(r.ratio, 2)} of scratch's steps (IQM over ${r.runs} runs of each run's steps ÷ its env's scratch steps IQM)`,
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
  const shared = a.pooledStepsShared;
  if (shared) {
    const claim = 'augmentation needs fewer steps than no augmentation';
    // Compared over the tasks both variants pool: like with like, even when one is short of seeds elsewhere.
    const notShared = [
      ...(shared.augOnly.length > 0
        ? [`${describeTasks(shared.augOnly)}: pooled with augmentation only`]
        : []),
      ...(shared.plainOnly.length > 0
        ? [`${describeTasks(shared.plainOnly)}: pooled without augmentation only`]
        : []),
    ];
    const n = shared.tasks.length;
    const over =
      notShared.length === 0
        ? `over ${n} task${n === 1 ? '' : 's'}`
        : `over the ${n} task${n === 1 ? '' : 's'} both pool (${describeTasks(shared.tasks)}; left out: ${notShared.join('; ')})`;
    const text = `${over}, ratio to scratch's steps with ${formatInterval(shared.aug.ratio, 2)} (${shared.aug.runs} runs) vs without ${formatInterval(shared.plain.ratio, 2)} (${shared.plain.runs} runs)`;
    const pooledTasks = new Set(shared.tasks.map(taskKey));
    const strata = a.thresholds
      .filter((t) => pooledTasks.has(taskKey(t)))
      .flatMap((t) => {
        const augRow = thresholdRowOf(a.groups, t, isMainAug);
        const plainRow = thresholdRowOf(a.groups, t, isMainPlain);
        return augRow && plainRow ? [pairedStepsSaved(t, augRow, plainRow, a.groups)] : [];
      });
    const { paired, sentence } = pairedView(strata, false, a.settings, `pooled|${claim}`, STEPS_SAVED);
    claims.push(
      lowerIsBetterVerdict({ ...base, claim }, shared.aug.ratio, shared.plain.ratio, text, sentence, paired),
    );
  }
  return claims;
}
