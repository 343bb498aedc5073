// The comparison of a rebuilt cache entry with the previous build: timings never count, the first
// differing row and field are named, and missing or extra rows are differences.
import assert from 'node:assert/strict';
import { describePlatforms, platformChange } from '../../lib/experiment/build-platform.ts';
import {
  checkRebuiltRows,
  checkRebuiltText,
  describeRebuildCheck,
  firstRowDifference,
  withPreviousPlatform,
} from '../../lib/experiment/rebuild-check.ts';

describe('rebuild check', () => {
  const row = (step: number, returnMean: number, stepsPerSecond: number) => ({
    phase: 'offline',
    step,
    returnMean,
    stepsPerSecond,
  });

  it('ignores timings and names the first differing row and field', () => {
    const before = [row(5000, 41.5, 135), row(10000, 166.25, 149)];
    assert.equal(
      firstRowDifference('metrics', before, [row(5000, 41.5, 300), row(10000, 166.25, 1)]),
      undefined,
    );
    assert.equal(
      firstRowDifference('metrics', before, [row(5000, 41.5, 135), row(10000, 166.5, 149)]),
      'metrics row at 10000: returnMean 166.25 → 166.5',
    );
    assert.equal(
      firstRowDifference(
        'critic',
        [{ phase: 'offline', update: 7, q: [1, 2] }],
        [{ phase: 'offline', update: 7, q: [1, 3] }],
      ),
      'critic row at 7: q [1,2] → [1,3]',
    );
    assert.equal(firstRowDifference('metrics', before, before.slice(0, 1)), 'metrics: 2 rows before, 1 now');
  });

  it('does not compare a field the previous build did not log, but does compare one it dropped', () => {
    const old = [{ phase: 'offline', update: 5, vsReturns: 1 }];
    assert.equal(
      firstRowDifference('critic', old, [{ update: 5, heldOut: { a: 1 }, phase: 'offline', vsReturns: 1 }]),
      undefined,
    );
    assert.equal(
      firstRowDifference('critic', old, [{ phase: 'offline', update: 5 }]),
      'critic row at 5: vsReturns 1 → absent',
    );
  });

  it('records what was compared and stops at the first list that differs', () => {
    const metrics = [row(1, 1, 1)];
    const same = checkRebuiltRows('2026-12-03T12:00:00.000Z', [
      { name: 'metrics', before: metrics, after: metrics },
      { name: 'critic', before: [], after: [] },
    ]);
    assert.deepEqual(same, {
      previousFinishedAt: '2026-12-03T12:00:00.000Z',
      identical: true,
      compared: '1 metrics rows, 0 critic rows',
    });
    assert.match(describeRebuildCheck('offline', same), /^\[offline\] rebuilt identically: 1 metrics rows/);
    const differs = checkRebuiltRows('t', [
      { name: 'metrics', before: metrics, after: metrics },
      { name: 'critic', before: [{ update: 1, x: 1 }], after: [{ update: 1, x: 2 }] },
    ]);
    assert.equal(differs.identical, false);
    assert.equal(differs.firstDifference, 'critic row at 1: x 1 → 2');
    assert.match(describeRebuildCheck('offline', differs), /WARNING: .*critic row at 1: x 1 → 2/);
  });

  it('compares text reports line by line, ignoring a trailing newline', () => {
    assert.equal(checkRebuiltText('t', 'report', 'a\nb\n', 'a\nb').identical, true);
    const differs = checkRebuiltText('t', 'report', 'a\nb\n', 'a\nc\n');
    assert.equal(differs.compared, 'report (2 lines)');
    assert.equal(differs.firstDifference, 'report line 2: "b" → "c"');
    assert.equal(checkRebuiltText('t', 'report', 'a', 'a\nb').firstDifference, 'report line 2: absent → "b"');
  });

  it('says whether the kernels changed between the builds, as far as both markers record them', () => {
    const zen = { gemm: 'native OpenBLAS (1 thread, Zen kernels)', cpu: 'AMD EPYC', node: 'v20.20.2' };
    const cooperlake = { ...zen, gemm: 'native OpenBLAS (1 thread, Cooperlake kernels)' };
    assert.equal(
      platformChange(zen, { ...zen, cpu: 'another name' }),
      'same',
      'the CPU name alone is not the kernels',
    );
    assert.equal(platformChange(cooperlake, zen), 'changed');
    assert.equal(platformChange(zen, { ...zen, node: 'v22.1.0' }), 'changed');
    assert.equal(platformChange(undefined, zen), 'unknown');
    const differs = checkRebuiltText('t', 'report', 'a\n', 'b\n');
    assert.deepEqual(withPreviousPlatform(differs, undefined), differs, 'nothing recorded, nothing added');
    const recorded = withPreviousPlatform(differs, cooperlake);
    assert.deepEqual(recorded.previousPlatform, cooperlake);
    assert.match(
      describeRebuildCheck('world model', recorded, zen),
      /WARNING: the rebuilt entry differs from the previous build \(t; the previous build on native OpenBLAS \(1 thread, Cooperlake kernels\), Node\.js v20\.20\.2, this one on native OpenBLAS \(1 thread, Zen kernels\), Node\.js v20\.20\.2\): report line 1/,
    );
    assert.match(
      describeRebuildCheck('world model', differs, zen),
      /\(t; the previous build does not record its kernels\)/,
    );
    assert.equal(
      describePlatforms(zen, zen),
      'both builds on native OpenBLAS (1 thread, Zen kernels), Node.js v20.20.2',
    );
  });
});
