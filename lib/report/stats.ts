// Statistics for the experiment report, following rliable (Agarwal et al., 2021, "Deep RL at the Edge of
// the Statistical Precipice"): interquartile mean, stratified percentile-bootstrap confidence intervals
// over seeds, and the paper's headline number, environment steps to reach TD3-from-scratch's final return.
// Every function is pure; everything random takes a seed.
import { Rng } from '../envs/rng.ts';

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('mean: no values');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n − 1 in the denominator, as numpy's std(ddof=1)); 0 for a single value. */
export function std(values: readonly number[]): number {
  if (values.length === 0) throw new Error('std: no values');
  if (values.length === 1) return 0;
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) ** 2;
  return Math.sqrt(sq / (values.length - 1));
}

/**
 * Mean after cutting `proportion` of the values from each end of the sorted sample. Follows
 * scipy.stats.trim_mean, which rliable's IQM calls with proportiontocut = 0.25: it cuts
 * floor(proportion · n) values from each end and keeps whole values only (no fractional weights), so
 * with 5 seeds the IQM is the mean of the middle 3, with 6 the middle 4, and with 3 or fewer the plain mean.
 */
export function trimmedMean(values: readonly number[], proportion: number): number {
  if (values.length === 0) throw new Error('trimmedMean: no values');
  if (!(proportion >= 0 && proportion < 0.5)) {
    throw new Error(`trimmedMean: proportion must be in [0, 0.5), got ${proportion}`);
  }
  // A typed array sorts numerically without a comparator: this runs millions of times per report.
  const sorted = Float64Array.from(values).sort();
  const cut = Math.floor(proportion * sorted.length);
  let sum = 0;
  for (let i = cut; i < sorted.length - cut; i++) sum += sorted[i]!;
  return sum / (sorted.length - 2 * cut);
}

/** Ranks from 1, ties sharing their average rank. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    for (let k = start; k <= end; k++) out[order[k]!.i] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return out;
}

/** Spearman's rank correlation (Pearson's on average ranks); null below 3 pairs or with a constant side. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} x values but ${y.length} y values`);
  if (x.length < 3) return null;
  const rx = ranks(x);
  const ry = ranks(y);
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

/** Interquartile mean: the 25% trimmed mean (rliable's aggregate_iqm). */
export function iqm(values: readonly number[]): number {
  return trimmedMean(values, 0.25);
}

/** Percentile with linear interpolation between order statistics (numpy's default method). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('percentile: no values');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Interval {
  /** The statistic on the observed sample. */
  point: number;
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 2,000). */
  resamples?: number;
  /** Coverage of the percentile interval (default 0.95). */
  confidence?: number;
  seed: number;
}

/**
 * Stratified percentile bootstrap: each stratum (one task / environment, holding one score per seed) is
 * resampled with replacement on its own, keeping its size, and `statistic` is recomputed on the
 * resampled strata; the interval is the (1 − c)/2 and (1 + c)/2 percentiles of those values.
 */
export function stratifiedBootstrap(
  strata: readonly (readonly number[])[],
  statistic: (strata: readonly (readonly number[])[]) => number,
  options: BootstrapOptions,
): Interval {
  return stratifiedBootstrapMany(strata, (s) => [statistic(s)], options)[0]!;
}

/**
 * The same bootstrap for several statistics of one resample at once (one stream of resamples, so their
 * intervals are consistent and the resampling is paid once). `statistic` returns one value per statistic.
 */
export function stratifiedBootstrapMany(
  strata: readonly (readonly number[])[],
  statistic: (strata: readonly (readonly number[])[]) => readonly number[],
  options: BootstrapOptions,
): Interval[] {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (strata.length === 0 || strata.some((s) => s.length === 0)) {
    throw new Error('stratifiedBootstrap: every stratum needs at least one value');
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new Error(`stratifiedBootstrap: resamples must be a positive integer, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new Error(`stratifiedBootstrap: confidence must be in (0, 1), got ${confidence}`);
  }
  const rng = new Rng(options.seed);
  const point = statistic(strata);
  const values = point.map(() => new Float64Array(resamples));
  const drawn = strata.map((s) => new Array<number>(s.length));
  for (let r = 0; r < resamples; r++) {
    strata.forEach((s, k) => {
      const out = drawn[k]!;
      for (let i = 0; i < s.length; i++) out[i] = s[Math.floor(rng.nextDouble() * s.length)]!;
    });
    const v = statistic(drawn);
    for (let m = 0; m < values.length; m++) values[m]![r] = v[m]!;
  }
  const tail = ((1 - confidence) / 2) * 100;
  return point.map((p, m) => {
    const sorted = Array.from(values[m]!);
    return { point: p, low: percentile(sorted, tail), high: percentile(sorted, 100 - tail) };
  });
}

/** IQM over all seeds of all strata (pooled, as rliable does), with its stratified bootstrap interval. */
export function iqmInterval(strata: readonly (readonly number[])[], options: BootstrapOptions): Interval {
  return stratifiedBootstrap(strata, (s) => iqm(s.flat()), options);
}

/** One evaluation of a learning curve: online environment steps and the return measured there. */
export interface CurvePoint {
  step: number;
  value: number;
}

export interface StepsToThreshold {
  /** The step of the first evaluation at or above the threshold, or `budget` when never reached. */
  steps: number;
  /** True when the run never reached the threshold: the true value is larger than `steps`. */
  censored: boolean;
}

/**
 * The online environment steps a run needs to reach `threshold`: the step of the first evaluation whose
 * return, averaged with the `window − 1` evaluations before it (a trailing moving average; window 1 means
 * no smoothing; the first evaluations average what exists so far), is at or above the threshold. A run
 * that never gets there is censored at `budget` (its online step budget).
 */
export function stepsToThreshold(
  curve: readonly CurvePoint[],
  threshold: number,
  budget: number,
  window = 1,
): StepsToThreshold {
  if (!Number.isInteger(window) || window < 1) {
    throw new Error(`stepsToThreshold: window must be a positive integer, got ${window}`);
  }
  const inOrder = curve.every((p, i) => i === 0 || curve[i - 1]!.step <= p.step);
  const points = inOrder ? curve : [...curve].sort((a, b) => a.step - b.step);
  for (let i = 0; i < points.length; i++) {
    // Summed afresh at every point: a running sum drifts by rounding, and a run whose last evaluation is
    // exactly the threshold (scratch's own, with one scratch run) would then miss it.
    const from = Math.max(0, i + 1 - window);
    let sum = 0;
    for (let k = from; k <= i; k++) sum += points[k]!.value;
    if (sum / (i + 1 - from) >= threshold) return { steps: points[i]!.step, censored: false };
  }
  return { steps: budget, censored: true };
}

/** A finished run as the steps-to-threshold analysis needs it. */
export interface ThresholdRun {
  finalReturn: number;
  curve: readonly CurvePoint[];
  budget: number;
}

export interface ThresholdComparison {
  /** Scratch's mean final return: the return every run has to reach. */
  threshold: number;
  scratch: { steps: StepsToThreshold[]; iqm: Interval };
  variant: { steps: StepsToThreshold[]; iqm: Interval };
  /**
   * IQM(variant steps) / IQM(scratch steps): below 1 means fewer environment steps than scratch. Null when
   * scratch's steps IQM is 0 (see scratchReachesAtStart): no run can need fewer steps than none.
   */
  ratio: Interval | null;
}

/**
 * Whether scratch's runs reach their own threshold (their mean final return) already at the first
 * evaluation, in the IQM: the untrained policy scores more than training ends with. It happens on Ant-v5,
 * where standing still earns the healthy reward; a steps ratio to scratch then has no denominator.
 */
export function scratchReachesAtStart(scratch: readonly ThresholdRun[], window = 1): boolean {
  if (scratch.length === 0) throw new Error('scratchReachesAtStart: no scratch runs');
  const threshold = mean(scratch.map((r) => r.finalReturn));
  return iqm(scratch.map((r) => stepsToThreshold(r.curve, threshold, r.budget, window).steps)) === 0;
}

/**
 * A resample's steps divided by scratch's. Only the point estimate refuses a zero denominator (the ratio is
 * then null); a resample whose scratch runs all reach at step 0 is floored at one step, which keeps its
 * ratio finite (variant steps ÷ 1) and so pushes the interval's upper end far above 1, as it should.
 */
const FLOOR_STEPS = 1;

/**
 * The paper's headline comparison for one environment: steps each variant run needs to reach the scratch
 * runs' mean final return, IQM over seeds, and the ratio to scratch's own steps. The bootstrap resamples
 * scratch and variant seeds separately (two strata) and recomputes the threshold from the resampled
 * scratch runs, since the threshold is itself estimated from them. Censored runs count at their budget,
 * which makes a ratio involving them a bound, not an estimate: callers report the censored counts.
 */
export function compareStepsToThreshold(
  scratch: readonly ThresholdRun[],
  variant: readonly ThresholdRun[],
  options: BootstrapOptions & { window?: number },
): ThresholdComparison {
  if (scratch.length === 0) throw new Error('compareStepsToThreshold: no scratch runs');
  if (variant.length === 0) throw new Error('compareStepsToThreshold: no variant runs');
  const window = options.window ?? 1;
  const stepsOf = (runs: readonly ThresholdRun[], threshold: number) =>
    runs.map((r) => stepsToThreshold(r.curve, threshold, r.budget, window));
  const evaluate = (s: readonly ThresholdRun[], v: readonly ThresholdRun[]) => {
    const threshold = mean(s.map((r) => r.finalReturn));
    const scratchSteps = iqm(stepsOf(s, threshold).map((x) => x.steps));
    const variantSteps = iqm(stepsOf(v, threshold).map((x) => x.steps));
    return { scratchSteps, variantSteps, ratio: variantSteps / Math.max(FLOOR_STEPS, scratchSteps) };
  };
  // Resample indices, not runs; one bootstrap stream yields all three intervals.
  const indices = [scratch.map((_, i) => i), variant.map((_, i) => i + scratch.length)];
  const all = [...scratch, ...variant];
  const pick = (s: readonly (readonly number[])[]) =>
    evaluate(
      s[0]!.map((i) => all[i]!),
      s[1]!.map((i) => all[i]!),
    );
  const [ratio, scratchIqm, variantIqm] = stratifiedBootstrapMany(
    indices,
    (s) => {
      const e = pick(s);
      return [e.ratio, e.scratchSteps, e.variantSteps];
    },
    options,
  ) as [Interval, Interval, Interval];
  const threshold = mean(scratch.map((r) => r.finalReturn));
  return {
    threshold,
    scratch: { steps: stepsOf(scratch, threshold), iqm: scratchIqm },
    variant: { steps: stepsOf(variant, threshold), iqm: variantIqm },
    // The observed scratch steps IQM (the interval's point) is the denominator: 0 leaves no ratio.
    ratio: scratchIqm.point === 0 ? null : ratio,
  };
}

/** One task (env × dataset) of a pooled steps comparison: the env its threshold comes from, and the runs. */
export interface StepsTask {
  env: string;
  variant: readonly ThresholdRun[];
}

export interface PooledStepsRatio {
  /** IQM over every variant run of its steps ÷ its env's scratch steps IQM, with the interval. */
  ratio: Interval;
  runs: number;
  /** Runs that reached their env's threshold (the others count at their budget). */
  reached: number;
}

/**
 * The steps ratio to scratch pooled over tasks, as rliable aggregates: each variant run's steps to its env's
 * threshold, divided by the IQM of that env's scratch steps, and the IQM of all those ratios. On one task it
 * is compareStepsToThreshold's ratio (dividing by a constant commutes with the IQM). The bootstrap
 * resamples each env's scratch runs once (the env's tasks share them, and so their threshold) and each
 * task's variant runs, recomputing the thresholds from the resampled scratch runs.
 */
export function pooledStepsRatio(
  scratchByEnv: ReadonlyMap<string, readonly ThresholdRun[]>,
  tasks: readonly StepsTask[],
  options: BootstrapOptions & { window?: number },
): PooledStepsRatio {
  if (tasks.length === 0) throw new Error('pooledStepsRatio: no tasks');
  const envs = [...new Set(tasks.map((t) => t.env))];
  for (const env of envs) {
    if ((scratchByEnv.get(env)?.length ?? 0) === 0)
      throw new Error(`pooledStepsRatio: no scratch runs for ${env}`);
    if (scratchReachesAtStart(scratchByEnv.get(env)!, options.window))
      throw new Error(`pooledStepsRatio: ${env}'s scratch runs reach their threshold at step 0: no ratio`);
  }
  const window = options.window ?? 1;
  const scratch = envs.map((env) => scratchByEnv.get(env)!);
  if (tasks.some((t) => t.variant.length === 0))
    throw new Error('pooledStepsRatio: a task has no variant runs');
  // Resample indices into one list of runs: the envs' scratch strata first, then one stratum per task.
  const all = [...scratch.flat(), ...tasks.flatMap((t) => t.variant)];
  const strata: number[][] = [];
  let next = 0;
  for (const runs of [...scratch, ...tasks.map((t) => t.variant)]) {
    strata.push(runs.map(() => next++));
  }
  const envIndex = tasks.map((t) => envs.indexOf(t.env));
  const evaluate = (s: readonly (readonly number[])[]) => {
    const per = s.slice(0, envs.length).map((indices) => {
      const runs = indices.map((i) => all[i]!);
      const threshold = mean(runs.map((r) => r.finalReturn));
      const steps = iqm(runs.map((r) => stepsToThreshold(r.curve, threshold, r.budget, window).steps));
      return { threshold, steps: Math.max(FLOOR_STEPS, steps) };
    });
    const ratios: number[] = [];
    let reached = 0;
    s.slice(envs.length).forEach((indices, t) => {
      const { threshold, steps } = per[envIndex[t]!]!;
      for (const i of indices) {
        const r = all[i]!;
        const x = stepsToThreshold(r.curve, threshold, r.budget, window);
        if (!x.censored) reached++;
        ratios.push(x.steps / steps);
      }
    });
    return { ratio: iqm(ratios), runs: ratios.length, reached };
  };
  const [ratio] = stratifiedBootstrapMany(strata, (s) => [evaluate(s).ratio], options) as [Interval];
  const { runs, reached } = evaluate(strata);
  return { ratio, runs, reached };
}
