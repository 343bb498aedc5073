// Linear and symmetric-log scales, "nice" tick values (1, 2, 5 × 10^k steps, or powers of ten for
// symlog) and tick labels for the charts.
import { GRID } from './palette.ts';
import { el, num, text } from './xml.ts';

export interface Scale {
  domain: [number, number];
  range: [number, number];
  (value: number): number;
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const span = d1 - d0 === 0 ? 1 : d1 - d0;
  const f = ((v: number) => range[0] + ((v - d0) / span) * (range[1] - range[0])) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/**
 * Symmetric log scale: linear within ±`linear`, logarithmic beyond, so that one chart can show a
 * series near zero next to one that diverges by orders of magnitude (a critic's Q running away).
 */
export function symlogScale(domain: [number, number], range: [number, number], linear = 1): Scale {
  if (!(linear > 0)) throw new RangeError(`symlogScale: linear threshold must be > 0, got ${linear}`);
  const t = (v: number) => Math.sign(v) * Math.log10(1 + Math.abs(v) / linear);
  const inner = linearScale([t(domain[0]), t(domain[1])], range);
  const f = ((v: number) => inner(t(v))) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/**
 * Symlog ticks: 0 and ± powers of ten from `linear` up to the domain's ends, inside the domain; every
 * second (third, ...) power when there would be more than about `target` per side.
 */
export function symlogTicks(min: number, max: number, linear = 1, target = 5): number[] {
  const top = Math.max(Math.abs(min), Math.abs(max));
  const decades = top > linear ? Math.floor(Math.log10(top / linear) + 1e-9) + 1 : 1;
  const stride = Math.max(1, Math.ceil(decades / target));
  const ticks = min <= 0 && max >= 0 ? [0] : [];
  for (let k = 0; k < decades; k += stride) {
    const v = Number((linear * 10 ** k).toPrecision(12));
    if (v <= max * (1 + 1e-9)) ticks.push(v);
    if (-v >= min * (1 + 1e-9)) ticks.push(-v);
  }
  return ticks.sort((a, b) => a - b);
}

/** A symlog domain widened to ± powers of ten (times `linear`) that cover [min, max]. */
export function symlogDomain(min: number, max: number, linear = 1): [number, number] {
  const cover = (v: number) =>
    v === 0 ? 0 : Math.sign(v) * linear * 10 ** Math.ceil(Math.log10(Math.max(1, Math.abs(v) / linear)));
  return [Math.min(0, cover(min)), Math.max(0, cover(max))];
}

/** Tick values covering [min, max] with a step of 1, 2 or 5 × 10^k, about `target` of them. */
export function niceTicks(min: number, max: number, target = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`niceTicks: bad range ${min}..${max}`);
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.round(v / step) * step);
  }
  return ticks.map((t) => Number(t.toPrecision(12)));
}

/** The domain widened to whole ticks, so that the axis starts and ends on a labelled value. */
export function niceDomain(min: number, max: number, target = 6): [number, number] {
  if (min === max) return [min - 1, max + 1];
  const ticks = niceTicks(min, max, target);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  return [
    Math.min(ticks[0]!, Math.floor(min / step) * step),
    Math.max(ticks.at(-1)!, Math.ceil(max / step) * step),
  ];
}

/** Compact tick labels: 250000 → 250k, 1500000 → 1.5M, 0.25 → 0.25. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${num(value / 1e6)}M`;
  if (abs >= 1e3) return `${num(value / 1e3)}k`;
  return num(value);
}

export interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Gridlines, both axes with ticks and labels, for a plot area `frame`. */
export function drawAxes(
  frame: Frame,
  x: Scale,
  y: Scale,
  xTicks: number[],
  yTicks: number[],
  xLabel: string,
  yLabel: string,
  xFormat: (v: number) => string = formatTick,
): string {
  const bottom = frame.top + frame.height;
  const right = frame.left + frame.width;
  const parts: string[] = [];
  for (const t of yTicks) {
    const py = y(t);
    parts.push(el('line', { x1: frame.left, x2: right, y1: py, y2: py, stroke: GRID }));
    parts.push(
      text(
        { x: frame.left - 6, y: py + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#333' },
        formatTick(t),
      ),
    );
  }
  for (const t of xTicks) {
    const px = x(t);
    parts.push(el('line', { x1: px, x2: px, y1: bottom, y2: bottom + 5, stroke: '#333' }));
    parts.push(
      text({ x: px, y: bottom + 18, 'text-anchor': 'middle', 'font-size': 11, fill: '#333' }, xFormat(t)),
    );
  }
  parts.push(el('line', { x1: frame.left, x2: right, y1: bottom, y2: bottom, stroke: '#333' }));
  parts.push(el('line', { x1: frame.left, x2: frame.left, y1: frame.top, y2: bottom, stroke: '#333' }));
  parts.push(
    text(
      {
        x: frame.left + frame.width / 2,
        y: bottom + 36,
        'text-anchor': 'middle',
        'font-size': 12,
        fill: '#111',
      },
      xLabel,
    ),
  );
  const cy = frame.top + frame.height / 2;
  parts.push(
    text(
      {
        x: frame.left - 48,
        y: cy,
        'text-anchor': 'middle',
        'font-size': 12,
        fill: '#111',
        transform: `rotate(-90 ${num(frame.left - 48)} ${num(cy)})`,
      },
      yLabel,
    ),
  );
  return parts.join('');
}
