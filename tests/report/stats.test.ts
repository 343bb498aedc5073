import assert from 'node:assert/strict';
import { Rng } from '../../lib/envs/rng.ts';
import {
  compareStepsToThreshold,
  iqm,
  iqmInterval,
  mean,
  percentile,
  pooledStepsRatio,
  scratchReachesAtStart,
  spearman,
  std,
  stepsToThreshold,
  stratifiedBootstrap,
  trimmedMean,
} from '../../lib/report/stats.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

/** A run whose return ramps as final · min(1, step / rampEnd), evaluated every 2.5k up to a 50k budget. */
const ramp = (final: number, rampEnd: number) => ({
  finalReturn: final,
  budget: 50_000,
  curve: Array.from({ length: 20 }, (_, i) => {
    const step = (i + 1) * 2_500;
    return { step, value: final * Math.min(1, step / rampEnd) };
  }),
});

describe('report statistics', () => {
  it('mean and sample std of hand-computed arrays', () => {
    close(mean([2, 4, 4, 4, 5, 5, 7, 9]), 5);
    close(std([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7));
    assert.equal(std([3]), 0);
    assert.throws(() => mean([]), /no values/);
  });

  it('IQM cuts floor(n/4) from each end, as scipy.stats.trim_mean(x, 0.25)', () => {
    close(iqm([1, 2, 3, 4, 5, 6, 7, 8]), 4.5); // middle 3..6
    close(iqm([100, 1, 3, 2, 4]), 3); // n = 5: cut 1 each side → mean(2, 3, 4)
    close(iqm([1, 2, 3, 4, 5, 60]), 3.5); // n = 6: cut 1 → mean(2..5)
    close(iqm([1, 2, 9]), 4); // n = 3: nothing cut
    close(iqm([7]), 7);
    // scipy's documented example: trim_mean(arange(20), 0.1) == 9.5
    close(
      trimmedMean(
        Array.from({ length: 20 }, (_, i) => i),
        0.1,
      ),
      9.5,
    );
    assert.throws(() => trimmedMean([1, 2], 0.5), /proportion/);
  });

  it('percentile interpolates linearly (numpy default)', () => {
    close(percentile([4, 1, 3, 2], 25), 1.75);
    close(percentile([1, 2, 3, 4], 50), 2.5);
    close(percentile([1, 2, 3, 4], 100), 4);
  });

  it('the bootstrap interval contains the point estimate, is seeded, and shrinks with more seeds', () => {
    const rng = new Rng(3);
    const draw = (n: number) => Array.from({ length: n }, () => 50 + 10 * rng.normal());
    const few = draw(5);
    const many = draw(80);
    const a = iqmInterval([few], { seed: 1 });
    assert.deepEqual(iqmInterval([few], { seed: 1 }), a);
    // With 80 values the percentiles fall between many distinct resampled IQMs: another seed moves them.
    assert.notDeepEqual(iqmInterval([many], { seed: 2 }), iqmInterval([many], { seed: 1 }));
    assert.ok(a.low <= a.point && a.point <= a.high, JSON.stringify(a));
    const wide = iqmInterval([few], { seed: 1 });
    const narrow = iqmInterval([many], { seed: 1 });
    assert.ok(narrow.low <= narrow.point && narrow.point <= narrow.high);
    assert.ok(
      narrow.high - narrow.low < (wide.high - wide.low) / 2,
      `${JSON.stringify(narrow)} vs ${JSON.stringify(wide)}`,
    );
    // No spread, no interval.
    assert.deepEqual(iqmInterval([[4, 4, 4]], { seed: 0 }), { point: 4, low: 4, high: 4 });
  });

  it('the stratified bootstrap resamples within each stratum, keeping its size and values', () => {
    const strata = [
      [1, 2, 3],
      [100, 200],
    ];
    let calls = 0;
    stratifiedBootstrap(
      strata,
      (s) => {
        calls++;
        assert.equal(s[0]!.length, 3);
        assert.equal(s[1]!.length, 2);
        assert.ok(s[0]!.every((v) => v < 10) && s[1]!.every((v) => v >= 100), 'values crossed strata');
        return 0;
      },
      { seed: 0, resamples: 50 },
    );
    assert.equal(calls, 51); // 50 resamples and the point estimate
    assert.throws(() => stratifiedBootstrap([[]], () => 0, { seed: 0 }), /at least one value/);
  });

  it('steps to threshold: first evaluation at or above it, smoothing window, censoring at the budget', () => {
    const curve = [
      { step: 5_000, value: 10 },
      { step: 10_000, value: 30 },
      { step: 15_000, value: 20 },
      { step: 20_000, value: 50 },
    ];
    assert.deepEqual(stepsToThreshold(curve, 25, 20_000), { steps: 10_000, censored: false });
    // window 2: 10, 20, 25, 35 → 15k; window 3: 10, 20, 20, 33.3 → 20k
    assert.deepEqual(stepsToThreshold(curve, 25, 20_000, 2), { steps: 15_000, censored: false });
    assert.deepEqual(stepsToThreshold(curve, 25, 20_000, 3), { steps: 20_000, censored: false });
    assert.deepEqual(stepsToThreshold(curve, 60, 25_000), { steps: 25_000, censored: true });
    assert.deepEqual(stepsToThreshold([], 1, 7), { steps: 7, censored: true });
    // A run whose last evaluation is the threshold itself reaches it there, whatever came before
    // (HalfCheetah-v5 scratch seed 0's curve tail: a running sum ended 1 ulp below its final return).
    const returns = [
      -0.45433058267376075, -475.91471009238575, -269.1704103044238, 97.30740845102221, 976.8871811442334,
      1699.5794560689524, 2356.6909237082195, 2766.881192661256, 3015.198656187753, 2815.9206191307144,
      3430.126609120708, 3976.165189458864, 4123.935242889385, 4154.258329768729, 4348.892958321903,
      4098.03283540913, 4097.564140324484, 4543.361149427901, 4549.8931203752245, 4640.641068172712,
      4658.887838004164, 4788.029062142322, 4756.436004445821, 4824.138620360574, 4950.4867115240795,
      5005.388480126396, 4933.473167273364, 5050.064700952874, 5030.178966749265, 5065.938588258234,
      5134.602584459634, 5001.346631078267, 5127.140987966237, 5124.0468888862215, 5133.495970514359,
      5180.97128236359,
    ];
    const exact = returns.map((value, i) => ({ step: 5_000 * i, value }));
    assert.deepEqual(stepsToThreshold(exact, returns.at(-1)!, 175_000), { steps: 175_000, censored: false });
  });

  it('the steps ratio to scratch matches a hand-computed case, with an interval around it', () => {
    const scratch = [1000, 1100, 1200, 1300, 1400].map((f) => ramp(f, 40_000));
    const variant = [1500, 1600, 1700, 1800, 1900].map((f) => ramp(f, 10_000));
    const c = compareStepsToThreshold(scratch, variant, { seed: 0, resamples: 500 });
    close(c.threshold, 1200);
    assert.deepEqual(
      c.scratch.steps.map((s) => (s.censored ? -s.steps : s.steps)),
      [-50_000, -50_000, 40_000, 37_500, 35_000],
    );
    close(c.scratch.iqm.point, 42_500);
    close(c.variant.iqm.point, 7_500);
    const ratio = c.ratio;
    assert.ok(ratio, 'scratch needs steps, so there is a ratio');
    close(ratio.point, 7_500 / 42_500);
    assert.ok(ratio.low <= ratio.point && ratio.point <= ratio.high);
    assert.ok(ratio.high < 1, 'the variant is clearly faster');
  });

  describe('when scratch reaches its own final return at its first evaluation (Ant-v5 stands still)', () => {
    // An untrained policy that scores 990 at step 0, falls, and ends at `final` below that.
    const standsThenFalls = (final: number) => ({
      finalReturn: final,
      budget: 50_000,
      curve: [
        { step: 0, value: 990 },
        ...Array.from({ length: 10 }, (_, i) => ({ step: (i + 1) * 5_000, value: i === 9 ? final : -100 })),
      ],
    });
    const scratch = [600, 850, 900, 1100, 800].map(standsThenFalls);
    const variant = [1500, 1600, 1700, 1800, 1900].map((f) => ramp(f, 10_000));

    it('gives no ratio, and the pooled ratio refuses that env', () => {
      assert.equal(scratchReachesAtStart(scratch), true);
      const c = compareStepsToThreshold(scratch, variant, { seed: 0, resamples: 200 });
      close(c.threshold, 850);
      assert.equal(c.scratch.iqm.point, 0);
      assert.equal(c.ratio, null, 'no run can need fewer steps than none');
      assert.throws(
        () => pooledStepsRatio(new Map([['Ant', scratch]]), [{ env: 'Ant', variant }], { seed: 0 }),
        /Ant's scratch runs reach their threshold at step 0/,
      );
    });

    it('still gives a ratio when only a few scratch seeds start above it (the IQM is not 0)', () => {
      // Threshold mean(700, 800, 900, 600, 500) = 700: the two that stand reach it at step 0, the ramps at
      // 40k, 35k and 32.5k, so the IQM lies between.
      const mixed = [...[700, 800, 900].map((f) => ramp(f, 40_000)), ...[600, 500].map(standsThenFalls)];
      assert.equal(scratchReachesAtStart(mixed), false);
      const c = compareStepsToThreshold(mixed, variant, { seed: 0, resamples: 200 });
      assert.ok(c.scratch.iqm.point > 0);
      assert.ok(c.ratio && c.ratio.point > 0 && Number.isFinite(c.ratio.high));
    });
  });

  describe('the steps ratio pooled over tasks', () => {
    const scratchA = [1000, 1100, 1200, 1300, 1400].map((f) => ramp(f, 40_000));
    const variantA = [1500, 1600, 1700, 1800, 1900].map((f) => ramp(f, 10_000));

    it('is the one-task ratio on one task, interval included (the same resamples)', () => {
      const options = { seed: 3, resamples: 400 };
      const one = compareStepsToThreshold(scratchA, variantA, options);
      const pooled = pooledStepsRatio(new Map([['A', scratchA]]), [{ env: 'A', variant: variantA }], options);
      assert.ok(one.ratio);
      close(pooled.ratio.point, one.ratio.point, 1e-12);
      close(pooled.ratio.low, one.ratio.low, 1e-12);
      close(pooled.ratio.high, one.ratio.high, 1e-12);
      assert.deepEqual([pooled.runs, pooled.reached], [5, 5]);
    });

    it("divides each run's steps by its own env's scratch steps, then takes the IQM of all of them", () => {
      // Env B: threshold mean(800, 900, 1000) = 900; scratch steps [> 50k, 45k, 42.5k] → IQM (n = 3: all) 45,833.
      // Its variant [> 50k, > 50k, 45k]. Env A as above: scratch IQM 42.5k, variant [10k, 7.5k × 4].
      const scratchB = [800, 900, 1000].map((f) => ramp(f, 45_000));
      const variantB = [700, 800, 900].map((f) => ramp(f, 45_000));
      const pooled = pooledStepsRatio(
        new Map([
          ['A', scratchA],
          ['B', scratchB],
        ]),
        [
          { env: 'A', variant: variantA },
          { env: 'B', variant: variantB },
        ],
        { seed: 0, resamples: 300 },
      );
      const b = (50_000 + 45_000 + 42_500) / 3;
      const ratios = [10_000, 7_500, 7_500, 7_500, 7_500].map((x) => x / 42_500);
      ratios.push(50_000 / b, 50_000 / b, 45_000 / b);
      close(pooled.ratio.point, iqm(ratios), 1e-12);
      assert.deepEqual([pooled.runs, pooled.reached], [8, 6]);
      assert.ok(pooled.ratio.low <= pooled.ratio.point && pooled.ratio.point <= pooled.ratio.high);
      // Two tasks of one env share its scratch runs: a task pooled with a copy of itself keeps its point.
      const twice = pooledStepsRatio(
        new Map([['A', scratchA]]),
        [
          { env: 'A', variant: variantA },
          { env: 'A', variant: variantA },
        ],
        { seed: 0, resamples: 300 },
      );
      close(twice.ratio.point, 7_500 / 42_500, 1e-12);
    });

    it('says which env has no scratch runs, and refuses no tasks', () => {
      assert.throws(
        () => pooledStepsRatio(new Map([['A', scratchA]]), [{ env: 'B', variant: variantA }], { seed: 0 }),
        /no scratch runs for B/,
      );
      assert.throws(() => pooledStepsRatio(new Map(), [], { seed: 0 }), /no tasks/);
    });
  });

  it("Spearman's rank correlation: monotone is ±1, ties share ranks, too few pairs or a constant side is null", () => {
    assert.equal(spearman([1, 2, 3, 4], [10, 100, 1000, 1e6]), 1, 'any increasing map');
    assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    // Ranks x [1, 2, 3], y [1.5, 1.5, 3]: Pearson of those, 1.5 / √(2 · 1.5).
    close(spearman([1, 2, 3], [5, 5, 9])!, 1.5 / Math.sqrt(2 * 1.5), 1e-12);
    assert.equal(spearman([1, 2], [1, 2]), null);
    assert.equal(spearman([1, 2, 3], [7, 7, 7]), null);
    assert.throws(() => spearman([1, 2, 3], [1, 2]), /3 x values but 2 y values/);
  });
});
