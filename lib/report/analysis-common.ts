// What the report's analyses share: settings, rounding, per-group bootstrap seeds, the plotted value of an
// evaluation, and curves aggregated over seeds (IQM with a bootstrap band at every evaluation).
import { finalOf, type Group, isSweepOnly, scoreOf } from './groups.ts';
import type { RunRecord } from './results.ts';
import { type Interval, iqmInterval, type ThresholdRun } from './stats.ts';

export interface ReportSettings {
  /** Bootstrap resamples for every interval (default 2,000). */
  resamples: number;
  confidence: number;
  seed: number;
  /** Trailing moving-average window (in evaluations) before comparing a curve with the threshold. */
  window: number;
}

export const DEFAULT_SETTINGS: ReportSettings = { resamples: 2000, confidence: 0.95, seed: 0, window: 1 };

export interface CurvePoint {
  x: number;
  y: number;
  low: number;
  high: number;
  n: number;
}

/**
 * Fewer seeds than this and a bootstrap interval says nothing (one seed: a point), so a claim that the
 * intervals would decide is reported as inconclusive, with the count; pooled statistics leave such tasks out.
 */
export const MIN_SEEDS_FOR_VERDICT = 3;

export const round = (v: number, digits = 4) => Number(v.toFixed(digits));

export function roundInterval(i: Interval, digits = 4): Interval {
  return { point: round(i.point, digits), low: round(i.low, digits), high: round(i.high, digits) };
}

/** A small stable hash of a string, so each group's bootstrap stream differs but is reproducible. */
export function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h % 1_000_000;
}

export function onlineRows(run: RunRecord) {
  return run.metrics.filter((m) => m.phase === 'online').sort((a, b) => a.step - b.step);
}

/** A finished run as the steps-to-threshold analyses need it: final return, online curve, step budget. */
export function thresholdRun(run: RunRecord): ThresholdRun {
  return {
    finalReturn: finalOf(run).finalReturn,
    curve: onlineRows(run).map((m) => ({ step: m.step, value: m.returnMean })),
    budget: run.config.onlineSteps,
  };
}

export function plottedValue(run: RunRecord, row: RunRecord['metrics'][number]): number {
  return row.normalizedScore ?? scoreOf(run.config.env, row.returnMean) ?? row.returnMean;
}

/** IQM and interval per x over the runs that all have a value at x. */
export function aggregateCurve(
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

/** The env's dataset labels, main datasets before the ones only a sweep uses, each part in group order. */
export function mainFirst(env: string, groups: Group[]): string[] {
  const labels = [...new Set(groups.filter((g) => g.key.env === env).map((g) => g.key.dataset))];
  const sweep = (d: string) => isSweepOnly(groups.filter((g) => g.key.env === env && g.key.dataset === d));
  return [...labels.filter((d) => !sweep(d)), ...labels.filter(sweep)];
}
