// What the report's figure builders share: the Figure record, file-name slugs, one colour per variant
// across every figure, and the learning curves' lines and axes.
import type { Curve, GroupSummary } from './analysis.ts';
import { MAIN_AUG_FRACTION, scoreOf, type WorldModelKind } from './groups.ts';
import { type LineChartSpec, type LineSeries, lineChart } from './svg/line-chart.ts';
import { colour, PALETTE } from './svg/palette.ts';

export interface Figure {
  /** File name under figures/, e.g. "curves-Hopper-v5-medium-10k.svg". */
  file: string;
  title: string;
  caption: string;
  svg: string;
  /** Which section of the page it belongs to. */
  section: 'curves' | 'ablations' | 'critic' | 'world-model' | 'sweeps';
  env: string;
  dataset: string;
}

/**
 * One colour per variant across every figure: scratch blue, TD3+BC orange, TD3+BC+aug green, the
 * world-model controls pink (linear) and black (copy), others after.
 */
export function variantColour(
  g: { variant: string; augFraction: number; worldModel?: WorldModelKind } | undefined,
  fallback: number,
): string {
  if (!g) return colour(fallback);
  if (g.variant === 'scratch') return colour(0);
  if (g.variant === 'td3bc') return colour(1);
  if (g.worldModel === 'linear') return colour(4);
  if (g.worldModel === 'copy') return colour(7);
  if (g.augFraction === MAIN_AUG_FRACTION) return colour(2);
  const sweep = SWEEP_FRACTION_COLOURS.get(g.augFraction);
  if (sweep !== undefined) return colour(sweep);
  // Any other fraction: a colour no fixed variant owns.
  let i = 3 + fallback;
  while (RESERVED_COLOURS.has(i % PALETTE.length)) i++;
  return colour(i);
}

/** The ratio sweep's other fractions, one colour each in every figure. */
const SWEEP_FRACTION_COLOURS = new Map([
  [0.25, 5],
  [0.75, 3],
]);
/** Palette slots of scratch, TD3+BC, TD3+BC+aug, the two controls and the sweep's fractions. */
const RESERVED_COLOURS = new Set([0, 1, 2, 3, 4, 5, 7]);

export const slug = (s: string) => s.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-|-$/g, '');

/** A learning-curve figure's lines: per group its online IQM curve, its offline phase and its unfinished runs. */
export function curveSeries(curves: Curve[], groups: Map<string, GroupSummary>): LineSeries[] {
  const series: LineSeries[] = [];
  curves.forEach((c, i) => {
    const c2 = variantColour(groups.get(c.groupId), i);
    const online = c.online.map((p) => ({ x: p.x, y: p.y, low: p.low, high: p.high }));
    const offline = c.offline.map((p) => ({ x: p.x, y: p.y, low: p.low, high: p.high }));
    const n = groups.get(c.groupId)?.finished ?? 0;
    if (online.length > 0) series.push({ label: `${c.label} (n=${n})`, colour: c2, points: online });
    if (offline.length > 0)
      series.push({ label: `${c.label}: offline`, colour: c2, points: offline, dashed: true });
    for (const p of c.partial) {
      series.push({
        label: `${c.label}: ${c.partial.length} unfinished`,
        colour: c2,
        points: p.points,
        dashed: true,
        faint: true,
      });
    }
  });
  return series;
}

/** The x axis of a learning-curve figure: with the offline phase at x < 0 and a line where online starts. */
export function phaseAxis(hasOffline: boolean): { xLabel: string; vLines: { x: number; label: string }[] } {
  return hasOffline
    ? {
        xLabel: 'offline updates (< 0) · online environment steps (≥ 0)',
        vLines: [{ x: 0, label: 'online starts' }],
      }
    : { xLabel: 'online environment steps', vLines: [] };
}

/** Scores where the env has D4RL reference returns, else raw returns. */
export function curveYLabel(env: string): string {
  return scoreOf(env, 0) !== null ? 'D4RL-normalised score (IQM)' : 'return (IQM)';
}

/** A learning-curve chart at the page's size: the phase axis and the env's score (or return) axis. */
export function curveChart(c: {
  title: string;
  env: string;
  hasOffline: boolean;
  series: LineSeries[];
  hLines?: LineChartSpec['hLines'];
}): string {
  return lineChart({
    title: c.title,
    ...phaseAxis(c.hasOffline),
    yLabel: curveYLabel(c.env),
    series: c.series,
    ...(c.hLines === undefined ? {} : { hLines: c.hLines }),
    width: 900,
    height: 420,
  });
}
