// Number formatting shared by the HTML page and the markdown summary, so both say the same thing.
import type { Interval, StepsToThreshold } from './stats.ts';

/** 45000 → "45k", 7500 → "7.5k", 1250000 → "1.25M", 800 → "800". */
export function formatCount(n: number): string {
  if (Math.abs(n) >= 1e6) return `${Number((n / 1e6).toFixed(2))}M`;
  if (Math.abs(n) >= 1e3) return `${Number((n / 1e3).toFixed(1))}k`;
  return String(Math.round(n));
}

/** "50k", or "3–6" for a range of values. */
export function formatRange(min: number, max: number): string {
  return min === max ? formatCount(min) : `${formatCount(min)}–${formatCount(max)}`;
}

export function formatInterval(i: Interval, digits: number): string {
  return `${i.point.toFixed(digits)} [${i.low.toFixed(digits)}, ${i.high.toFixed(digits)}]`;
}

/**
 * Steps IQM with its interval. When every run was censored the value is only known to exceed the budget
 * ("> 200k"); when some were, the IQM counts them at their budget and is a lower bound ("≥ 120k").
 */
export function formatSteps(i: Interval, row: { steps: StepsToThreshold[] }): string {
  const censored = row.steps.filter((s) => s.censored);
  if (censored.length === row.steps.length)
    return `> ${formatCount(Math.min(...censored.map((s) => s.steps)))}`;
  const prefix = censored.length > 0 ? '≥ ' : '';
  return `${prefix}${formatCount(i.point)} [${formatCount(i.low)}, ${formatCount(i.high)}]`;
}

/** One run's steps: "45k", or "> 200k" when it never reached the threshold. */
export function formatRunSteps(s: StepsToThreshold): string {
  return s.censored ? `> ${formatCount(s.steps)}` : formatCount(s.steps);
}

/**
 * How many times fewer steps than scratch a ratio means: "3.3×", or "at step 0" when the pre-trained
 * policy already reaches the threshold at its first evaluation (a ratio of 0 has no finite factor).
 */
export function formatSpeedup(ratio: number): string {
  return ratio > 0 ? `${(1 / ratio).toFixed(1)}×` : 'at step 0';
}
