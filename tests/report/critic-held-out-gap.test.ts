import assert from 'node:assert/strict';
import { describeHeldOutGaps, GAP_THRESHOLD, heldOutGaps } from '../../lib/report/critic-held-out-gap.ts';
import type { CriticChecks } from '../../lib/report/critic-outcome.ts';

/** One task's critics: per setting, each seed's mean |Q − G| on training rows and on held-out rows. */
function task(
  env: string,
  sides: { augFraction: number; worldModel?: 'vae' | 'copy'; seeds: [number, number][] }[],
): CriticChecks {
  return {
    env,
    dataset: 'medium-10k',
    offline: sides.map((s) => ({
      augmented: s.augFraction > 0,
      augFraction: s.augFraction,
      worldModel: s.worldModel ?? 'vae',
      heldOutBySeed: s.seeds.map(([train, heldOut], seed) => ({
        seed,
        train: { absError: train, monteCarlo: 100 },
        heldOut: { absError: heldOut, monteCarlo: 100 },
      })),
    })),
  };
}

describe('report: held-out against training rows, critic by critic', () => {
  it('gives each checked seed its ratio, named by task, setting and seed', () => {
    const gaps = heldOutGaps([
      task('Hopper-v5', [
        {
          augFraction: 0,
          seeds: [
            [50, 51],
            [0, 3],
          ],
        },
        { augFraction: 0.5, worldModel: 'copy', seeds: [[40, 38]] },
      ]),
    ]);
    // A critic with no error on its training rows has no ratio: left out rather than infinite.
    assert.deepEqual(gaps, [
      {
        critic: 'Hopper-v5 medium-10k no augmentation seed 0',
        augmented: false,
        trainError: 50,
        ratio: 51 / 50,
      },
      { critic: 'Hopper-v5 medium-10k p=0.5 (copy) seed 0', augmented: true, trainError: 40, ratio: 38 / 40 },
    ]);
  });

  it('says no critic fits its own rows better when every ratio is near 1, and names the furthest when not', () => {
    const close = heldOutGaps([
      task('Hopper-v5', [
        {
          augFraction: 0,
          seeds: [
            [1000, 1040],
            [50, 49],
          ],
        },
        {
          augFraction: 0.5,
          seeds: [
            [60, 57],
            [60, 61],
          ],
        },
      ]),
    ]);
    const text = describeHeldOutGaps(close);
    assert.match(text, /critic by critic \(4: .*training rows from 50 to 1k\)/);
    assert.match(text, /median 1\.00, 0\.95–1\.04 \(without augmentation 0\.98–1\.04, with 0\.95–1\.02\)/);
    assert.match(text, /No critic is more than 4% further off/);
    // All closer on held-out rows: no percentage to give.
    const closer = heldOutGaps([task('Hopper-v5', [{ augFraction: 0, seeds: [[50, 49]] }])]);
    assert.match(describeHeldOutGaps(closer), /No critic is further off on rows it did not train on/);
    assert.match(text, /drawn by transition/);

    const far = heldOutGaps([
      task('Walker2d-v5', [
        {
          augFraction: 0,
          seeds: [
            [10, 30],
            [10, 12],
            [10, 10],
          ],
        },
      ]),
      task('Hopper-v5', [{ augFraction: 0.5, seeds: [[10, 10]] }]),
    ]);
    assert.ok(GAP_THRESHOLD < 1.2);
    const farText = describeHeldOutGaps(far);
    assert.match(farText, /2 of 4 are more than 10% further off on held-out rows/);
    assert.match(farText, /the furthest: Walker2d-v5 medium-10k no augmentation seed 0, ×3\.00/);
    assert.doesNotMatch(farText, /No critic/);
  });

  it('says nothing when no critic was checked', () => {
    assert.equal(describeHeldOutGaps([]), '');
  });
});
