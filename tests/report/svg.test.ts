import assert from 'node:assert/strict';
import { formatCount, formatSteps } from '../../lib/report/format.ts';
import {
  formatTick,
  linearScale,
  niceTicks,
  symlogDomain,
  symlogScale,
  symlogTicks,
} from '../../lib/report/svg/axes.ts';
import { barChart } from '../../lib/report/svg/bar-chart.ts';
import { lineChart, wantsSymlog } from '../../lib/report/svg/line-chart.ts';
import { absInterval } from '../../lib/report/verdicts.ts';
import { checkWellFormed } from './xml-check.ts';

describe('report SVG charts and formatting', () => {
  it('nice ticks and compact tick labels', () => {
    assert.deepEqual(niceTicks(0, 200_000, 6), [0, 50_000, 100_000, 150_000, 200_000]);
    assert.deepEqual(niceTicks(-3, 7, 5), [-2, 0, 2, 4, 6]);
    assert.deepEqual(niceTicks(0.1, 0.5, 4), [0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.deepEqual(['250k', '1.5M', '0.25', '-40k'], [250_000, 1_500_000, 0.25, -40_000].map(formatTick));
    const x = linearScale([0, 100], [10, 210]);
    assert.equal(x(50), 110);
  });

  it('a line chart maps points into the plot, escapes labels and is well-formed', () => {
    const svg = lineChart({
      title: 'A <title> & "quotes"',
      xLabel: 'steps',
      yLabel: 'score',
      series: [
        {
          label: 'R&D <variant>',
          colour: '#0072B2',
          points: [
            { x: 0, y: 0, low: -1, high: 1 },
            { x: 100, y: 10, low: 9, high: 11 },
          ],
        },
        {
          label: 'faint',
          colour: '#E69F00',
          faint: true,
          points: [
            { x: 0, y: 1000 },
            { x: 50, y: 2000 },
          ],
        },
      ],
      hLines: [{ y: 5, label: 'threshold' }],
    });
    checkWellFormed(svg);
    assert.ok(svg.includes('A &lt;title&gt; &amp; &quot;quotes&quot;'));
    assert.ok(svg.includes('R&amp;D &lt;variant&gt;'));
    assert.equal((svg.match(/fill-opacity="0.18"/g) ?? []).length, 1, 'one band, none for the faint series');
    // The faint series (y up to 2000) does not stretch the y axis: its top tick stays near 11.
    assert.ok(!svg.includes('>2k<') && !svg.includes('>1k<'), 'faint series out of the y range');
    assert.ok(svg.includes('clip-path="url(#clip-A-title-quotes-)"'));
  });

  it('a symmetric log scale is odd, monotone and linear near zero; its ticks are powers of ten', () => {
    const y = symlogScale([-100, 1_000_000], [300, 0]);
    assert.equal(y(0), symlogScale([-100, 1_000_000], [300, 0])(0));
    assert.ok(y(-100) === 300 && y(1_000_000) === 0);
    const values = [-100, -10, -1, -0.5, 0, 0.5, 1, 10, 1e3, 1e6];
    for (let i = 1; i < values.length; i++)
      assert.ok(y(values[i]!) < y(values[i - 1]!), `monotone at ${values[i]}`);
    const zero = y(0);
    assert.ok(Math.abs(zero - y(5) - (y(-5) - zero)) < 1e-9, 'symmetric about 0');
    // Each decade beyond the threshold takes the same height.
    assert.ok(Math.abs(y(1e3) - y(1e4) - (y(1e4) - y(1e5))) < 0.05);
    assert.deepEqual(symlogDomain(-4.9, 2_400_000), [-10, 10_000_000]);
    assert.deepEqual(symlogDomain(0.2, 3), [0, 10]);
    assert.deepEqual(symlogTicks(-10, 1000), [-10, -1, 0, 1, 10, 100, 1000]);
    assert.deepEqual(
      symlogTicks(-1e7, 1e7),
      [-1e6, -1e4, -100, -1, 0, 1, 100, 1e4, 1e6],
      'thinned to every second decade',
    );
  });

  it("'auto' uses a symlog axis only when one series dwarfs another", () => {
    const near = {
      label: 'with',
      colour: '#009E73',
      points: [
        { x: 0, y: 2 },
        { x: 1, y: -3 },
      ],
    };
    const far = {
      label: 'without',
      colour: '#E69F00',
      points: [
        { x: 0, y: 5 },
        { x: 1, y: 2_400_000 },
      ],
    };
    const mild = {
      label: 'mild',
      colour: '#E69F00',
      points: [
        { x: 0, y: 5 },
        { x: 1, y: 40 },
      ],
    };
    assert.equal(wantsSymlog([near, far]), true);
    assert.equal(wantsSymlog([near, mild]), false);
    assert.equal(wantsSymlog([far]), false, 'one series alone stays linear');
    const spec = { title: 't', xLabel: 'updates', yLabel: 'Q', series: [near, far] };
    const auto = lineChart({ ...spec, yScale: 'auto' });
    checkWellFormed(auto);
    assert.ok(auto.includes('Q (symmetric log scale)'));
    assert.ok(auto.includes('>1M<') && auto.includes('>100<'), 'decade ticks');
    const yLabels = [...auto.matchAll(/text-anchor="end"[^>]*>([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(yLabels, ['0', '100', '10k', '1M'], '±1 dropped where they would crowd 0');
    const linear = lineChart({ ...spec });
    assert.ok(!linear.includes('symmetric log') && linear.includes('>2M<'), 'linear by default');
  });

  it('a bar chart draws one bar and one error bar per value', () => {
    const svg = barChart({
      title: 'ablation',
      yLabel: 'score',
      groups: [
        {
          label: 'actor only',
          bars: [{ series: 'with', colour: '#009E73', value: 40, low: 35, high: 45, note: 'n=5' }],
        },
        {
          label: 'both',
          bars: [
            { series: 'with', colour: '#009E73', value: 50, low: 45, high: 55 },
            { series: 'without', colour: '#E69F00', value: -5, low: -8, high: -2 },
          ],
        },
      ],
    });
    checkWellFormed(svg);
    assert.equal((svg.match(/<rect[^>]*fill="#009E73"/g) ?? []).length, 3, 'two bars and a legend box');
    assert.equal((svg.match(/stroke-width="1.5"/g) ?? []).length, 9, 'three whiskers with two caps each');
    assert.ok(svg.includes('>n=5<'));
  });

  it('formats steps with censoring and absolute intervals', () => {
    assert.equal(formatCount(42_500), '42.5k');
    assert.equal(formatCount(7_500), '7.5k');
    const steps = (censored: boolean[]) => ({ steps: censored.map((c) => ({ steps: 50_000, censored: c })) });
    const i = { point: 42_500, low: 40_000, high: 50_000 };
    assert.equal(formatSteps(i, steps([false, false])), '42.5k [40k, 50k]');
    assert.equal(formatSteps(i, steps([true, false])), '≥ 42.5k [40k, 50k]');
    assert.equal(formatSteps(i, steps([true, true])), '> 50k');
    assert.deepEqual(absInterval({ point: -3, low: -5, high: -1 }), { point: 3, low: 1, high: 5 });
    assert.deepEqual(absInterval({ point: 1, low: -2, high: 4 }), { point: 1, low: 0, high: 4 });
  });
});
