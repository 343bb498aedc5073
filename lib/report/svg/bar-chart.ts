// Grouped bar charts with error bars: the ablations (pre-trained parts × with / without augmentation),
// final normalised score IQM with its bootstrap interval.
import { drawAxes, linearScale, niceDomain, niceTicks } from './axes.ts';
import { legend, svgDocument } from './document.ts';
import { el, text } from './xml.ts';

export interface Bar {
  /** Series name (legend), e.g. "with augmentation". */
  series: string;
  colour: string;
  value: number;
  low: number;
  high: number;
  /** Small note above the bar, e.g. "n=5". */
  note?: string;
}

export interface BarGroup {
  label: string;
  bars: readonly Bar[];
}

export interface BarChartSpec {
  title: string;
  yLabel: string;
  groups: readonly BarGroup[];
  width?: number;
  height?: number;
}

export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 380;
  const legendWidth = 200;
  const frame = { left: 70, top: 36, width: width - 70 - legendWidth - 20, height: height - 36 - 52 };
  const bars = spec.groups.flatMap((g) => g.bars);
  if (bars.length === 0) {
    return svgDocument(
      width,
      height,
      spec.title,
      text({ x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'no data'),
    );
  }
  const ys = [0, ...bars.flatMap((b) => [b.value, b.low, b.high])].filter(Number.isFinite);
  const yDomain = niceDomain(Math.min(...ys), Math.max(...ys), 6);
  const y = linearScale(yDomain, [frame.top + frame.height, frame.top]);
  const slot = frame.width / spec.groups.length;
  const x = linearScale([0, spec.groups.length], [frame.left, frame.left + frame.width]);
  const parts = [drawAxes(frame, x, y, [], niceTicks(yDomain[0], yDomain[1], 6), '', spec.yLabel)];
  spec.groups.forEach((g, gi) => {
    const inner = slot * 0.8;
    const barWidth = inner / Math.max(1, g.bars.length);
    const start = frame.left + gi * slot + (slot - inner) / 2;
    g.bars.forEach((b, bi) => {
      const bx = start + bi * barWidth;
      const top = y(Math.max(0, b.value));
      const base = y(Math.min(0, b.value));
      parts.push(
        el('rect', {
          x: bx + 1,
          y: top,
          width: barWidth - 2,
          height: Math.max(0.5, base - top),
          fill: b.colour,
        }),
      );
      const cx = bx + barWidth / 2;
      parts.push(
        el('line', { x1: cx, x2: cx, y1: y(b.low), y2: y(b.high), stroke: '#111', 'stroke-width': 1.5 }),
      );
      for (const v of [b.low, b.high]) {
        parts.push(
          el('line', { x1: cx - 5, x2: cx + 5, y1: y(v), y2: y(v), stroke: '#111', 'stroke-width': 1.5 }),
        );
      }
      if (b.note) {
        parts.push(
          text(
            {
              x: cx,
              y: y(Math.max(b.high, b.value)) - 5,
              'text-anchor': 'middle',
              'font-size': 10,
              fill: '#333',
            },
            b.note,
          ),
        );
      }
    });
    parts.push(
      text(
        {
          x: frame.left + gi * slot + slot / 2,
          y: frame.top + frame.height + 18,
          'text-anchor': 'middle',
          'font-size': 11,
          fill: '#111',
        },
        g.label,
      ),
    );
  });
  const seen = new Map<string, string>();
  for (const b of bars) if (!seen.has(b.series)) seen.set(b.series, b.colour);
  parts.push(
    legend(
      frame.left + frame.width + 20,
      frame.top + 8,
      [...seen].map(([label, colour]) => ({ label, colour, mark: 'box' as const })),
    ),
  );
  return svgDocument(width, height, spec.title, parts.join(''));
}
