// Line charts with shaded confidence bands: learning curves (IQM with its bootstrap interval per
// evaluation), the critic analysis, the sweeps. Legend to the right of the plot area.
import {
  drawAxes,
  formatTick,
  linearScale,
  niceDomain,
  niceTicks,
  symlogDomain,
  symlogScale,
  symlogTicks,
} from './axes.ts';
import { legend, svgDocument } from './document.ts';
import { GREY } from './palette.ts';
import { el, escapeXml, num, text } from './xml.ts';

export interface LinePoint {
  x: number;
  y: number;
  /** Band around y (both or neither). */
  low?: number;
  high?: number;
}

export interface LineSeries {
  label: string;
  colour: string;
  points: readonly LinePoint[];
  dashed?: boolean;
  /** Thin, lighter line without a legend entry (e.g. one unfinished run). */
  faint?: boolean;
  /** Draw a dot at each point (for sparse x values such as sweeps). */
  markers?: boolean;
  /** Dots only, no line through them (a scatter of unordered points). */
  pointsOnly?: boolean;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Vertical reference lines, e.g. where the online phase starts. */
  vLines?: readonly { x: number; label: string }[];
  /** Horizontal reference lines, e.g. the threshold return. */
  hLines?: readonly { y: number; label: string }[];
  /** Categorical x ticks (sweeps): these values only, with these labels. */
  xTicks?: readonly { x: number; label: string }[];
  /**
   * 'auto' switches to a symmetric log axis (linear within ±1) when one series is over 100× larger in
   * magnitude than another, so a diverging series does not flatten the rest into a line at zero.
   */
  yScale?: 'linear' | 'symlog' | 'auto';
  width?: number;
  height?: number;
}

/** Series magnitudes this far apart make a linear y axis useless for the smaller ones. */
const SYMLOG_SPREAD = 100;

/** Whether 'auto' picks symlog: the largest series' max |y| against the smallest's (at least 1). */
export function wantsSymlog(series: readonly LineSeries[]): boolean {
  const magnitudes = series
    .filter((s) => s.points.length > 0)
    .map((s) => Math.max(...s.points.map((p) => Math.abs(p.y)).filter(Number.isFinite)));
  if (magnitudes.length < 2) return false;
  return Math.max(...magnitudes) >= SYMLOG_SPREAD * Math.max(1, Math.min(...magnitudes));
}

function path(points: readonly { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(p.x)} ${num(p.y)}`).join(' ');
}

export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 380;
  const legendWidth = 220;
  const frame = { left: 70, top: 36, width: width - 70 - legendWidth - 20, height: height - 36 - 52 };
  const all = spec.series.flatMap((s) => s.points);
  const xs = [
    ...all.map((p) => p.x),
    ...(spec.vLines ?? []).map((l) => l.x),
    ...(spec.xTicks ?? []).map((t) => t.x),
  ];
  // Faint series (unfinished runs) do not stretch the y axis; they are clipped to the plot area.
  const drawn = spec.series.filter((s) => s.points.length > 0);
  const solid = drawn.some((s) => !s.faint) ? drawn.filter((s) => !s.faint) : drawn;
  const ys = [
    ...solid.flatMap((s) => s.points).flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]),
    ...(spec.hLines ?? []).map((l) => l.y),
  ].filter(Number.isFinite);
  if (xs.length === 0 || ys.length === 0) {
    return svgDocument(
      width,
      height,
      spec.title,
      text(
        { x: width / 2, y: height / 2, 'text-anchor': 'middle', 'font-size': 13, fill: '#555' },
        'no data',
      ),
    );
  }
  // x spans exactly the data (steps end on the budget); only y is widened to whole ticks.
  const xDomain: [number, number] = [Math.min(...xs), Math.max(...xs)];
  if (xDomain[0] === xDomain[1]) xDomain[1] = xDomain[0] + 1;
  const symlog = spec.yScale === 'symlog' || (spec.yScale === 'auto' && wantsSymlog(solid));
  const yDomain = symlog
    ? symlogDomain(Math.min(...ys), Math.max(...ys))
    : niceDomain(Math.min(...ys), Math.max(...ys), 6);
  const pad = spec.xTicks ? (xDomain[1] - xDomain[0]) * 0.06 : 0;
  const x = linearScale([xDomain[0] - pad, xDomain[1] + pad], [frame.left, frame.left + frame.width]);
  const yRange: [number, number] = [frame.top + frame.height, frame.top];
  const y = symlog ? symlogScale(yDomain, yRange) : linearScale(yDomain, yRange);
  // On symlog, ±1 sit close to 0 when many decades share the height: keep their labels from overlapping.
  const yTickValues = symlog
    ? symlogTicks(yDomain[0], yDomain[1]).filter((t) => Math.abs(t) !== 1 || Math.abs(y(1) - y(0)) >= 12)
    : niceTicks(yDomain[0], yDomain[1], 6);
  const xTickValues = spec.xTicks ? spec.xTicks.map((t) => t.x) : niceTicks(xDomain[0], xDomain[1], 7);
  const xLabels = new Map((spec.xTicks ?? []).map((t) => [t.x, t.label]));
  const parts = [
    drawAxes(
      frame,
      x,
      y,
      xTickValues,
      yTickValues,
      spec.xLabel,
      symlog ? `${spec.yLabel} (symmetric log scale)` : spec.yLabel,
      (v) => xLabels.get(v) ?? formatTick(v),
    ),
  ];
  for (const l of spec.vLines ?? []) {
    const px = x(l.x);
    parts.push(
      el('line', {
        x1: px,
        x2: px,
        y1: frame.top,
        y2: frame.top + frame.height,
        stroke: GREY,
        'stroke-dasharray': '3 3',
      }),
    );
    parts.push(text({ x: px + 4, y: frame.top + 12, 'font-size': 10, fill: '#555' }, l.label));
  }
  for (const l of spec.hLines ?? []) {
    const py = y(l.y);
    parts.push(
      el('line', {
        x1: frame.left,
        x2: frame.left + frame.width,
        y1: py,
        y2: py,
        stroke: GREY,
        'stroke-dasharray': '6 3',
      }),
    );
    parts.push(text({ x: frame.left + 4, y: py - 4, 'font-size': 10, fill: '#555' }, l.label));
  }
  // Bands first, so that every line stays visible on top of every band.
  for (const s of spec.series) {
    const banded = s.points.filter((p) => p.low !== undefined && p.high !== undefined);
    if (banded.length < 2 || s.faint) continue;
    const upper = banded.map((p) => ({ x: x(p.x), y: y(p.high!) }));
    const lower = banded.map((p) => ({ x: x(p.x), y: y(p.low!) })).reverse();
    parts.push(
      el('path', {
        d: `${path([...upper, ...lower])} Z`,
        fill: s.colour,
        'fill-opacity': 0.18,
        stroke: 'none',
      }),
    );
  }
  const clipId = `clip-${spec.title.replace(/[^A-Za-z0-9]+/g, '-')}`;
  parts.push(
    `<defs><clipPath id="${escapeXml(clipId)}">${el('rect', { x: frame.left, y: frame.top, width: frame.width, height: frame.height })}</clipPath></defs>`,
  );
  for (const s of spec.series) {
    const pts = s.points.map((p) => ({ x: x(p.x), y: y(p.y) }));
    if (pts.length >= 2 && !s.pointsOnly) {
      parts.push(
        el('path', {
          'clip-path': s.faint ? `url(#${clipId})` : undefined,
          d: path(pts),
          fill: 'none',
          stroke: s.colour,
          'stroke-width': s.faint ? 1 : 2,
          'stroke-opacity': s.faint ? 0.55 : 1,
          'stroke-dasharray': s.dashed ? '6 4' : undefined,
        }),
      );
    }
    if (s.markers || s.pointsOnly || pts.length === 1) {
      for (const p of pts) parts.push(el('circle', { cx: p.x, cy: p.y, r: 3.5, fill: s.colour }));
    }
  }
  const entries = spec.series
    .filter((s) => !s.faint)
    .map((s) => ({ label: s.label, colour: s.colour, dashed: s.dashed }));
  // Faint series share a legend entry per label (e.g. all unfinished runs of one variant).
  const faintLabels = new Set<string>();
  for (const s of spec.series.filter((x) => x.faint && x.points.length > 0)) {
    if (faintLabels.has(s.label)) continue;
    faintLabels.add(s.label);
    entries.push({ label: s.label, colour: s.colour, dashed: true });
  }
  parts.push(legend(frame.left + frame.width + 20, frame.top + 8, entries));
  return svgDocument(width, height, spec.title, parts.join(''));
}
