import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Analysis, analyse } from '../../lib/report/analysis.ts';
import { checkClaims } from '../../lib/report/claims.ts';
import { isMainVariant } from '../../lib/report/groups.ts';
import { readResults } from '../../lib/report/results.ts';
import { iqm } from '../../lib/report/stats.ts';
import { headlineTable } from '../../lib/report/tables.ts';
import { type Claim, POOLED_ENV } from '../../lib/report/verdicts.ts';
import { writeFixtureResults } from './fixture-results.ts';

const SAVES_STEPS = 'augmentation needs fewer steps than no augmentation';
const HOPPER = { env: 'Hopper-v5', dataset: 'medium-10k' };
const WALKER = { env: 'Walker2d-v5', dataset: 'medium-replay-10k' };

function analyseFixture(change: (results: string) => void): { analysis: Analysis; claims: Claim[] } {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-pooled-steps-'));
  try {
    const results = join(dir, 'results');
    writeFixtureResults(results);
    change(results);
    const analysis = analyse(readResults(results), { resamples: 300, seed: 0 });
    return { analysis, claims: checkClaims(analysis) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pooledClaim = (claims: readonly Claim[]) =>
  claims.find((c) => c.env === POOLED_ENV && c.claim === SAVES_STEPS);

describe('report: augmentation against none, pooled over the tasks both pool', () => {
  it('compares the two over the same tasks when their pools are the same', () => {
    const { analysis, claims } = analyseFixture(() => {});
    const shared = analysis.pooledStepsShared!;
    assert.deepEqual(shared.tasks, [HOPPER, WALKER]);
    assert.deepEqual([shared.augOnly, shared.plainOnly], [[], []]);
    // The very rows the pooled table shows: nothing recomputed.
    const row = (variant: string) =>
      analysis.pooledSteps.find((r) => r.variant === variant && isMainVariant(r));
    assert.deepEqual(shared.aug, row('td3bc-aug'));
    assert.deepEqual(shared.plain, row('td3bc'));
    const claim = pooledClaim(claims)!;
    assert.match(claim.text, /^over 2 tasks, ratio to scratch's steps with /);
    assert.equal(claim.paired?.pairs, 8, 'paired by seed: 5 on Hopper and 3 on Walker2d');
    const firstCells = headlineTable(analysis)!.rows.map((r) => r[0]);
    assert.equal(firstCells.at(-1), 'pooled over tasks', 'one pooled row: the two pools are the same');
  });

  it('leaves out a task only one of them pools, instead of not comparing at all', () => {
    // Walker2d keeps 2 augmented runs: too few seeds for its pool, while TD3+BC still pools all 3.
    const { analysis, claims } = analyseFixture((results) =>
      rmSync(join(results, 'Walker2d-v5', 'medium-replay-10k', 'td3bc-aug-both-p0.5', 'seed-2'), {
        recursive: true,
      }),
    );
    const row = (variant: string) =>
      analysis.pooledSteps.find((r) => r.variant === variant && isMainVariant(r))!;
    assert.deepEqual(row('td3bc-aug').tasks, [HOPPER]);
    assert.deepEqual(
      row('td3bc').tasks,
      [HOPPER, WALKER],
      'the pooled table still pools what each variant has',
    );
    const shared = analysis.pooledStepsShared!;
    assert.deepEqual(shared.tasks, [HOPPER]);
    assert.deepEqual([shared.augOnly, shared.plainOnly], [[], [WALKER]]);
    assert.deepEqual(shared.plain.tasks, [HOPPER]);
    assert.equal(shared.plain.runs, 5);
    // Hopper's scratch steps IQM is 42.5k; TD3+BC reaches the threshold at [> 50k, 30k, 27.5k, 25k, 25k].
    const plainRatios = [50_000, 30_000, 27_500, 25_000, 25_000].map((x) => x / 42_500);
    assert.equal(shared.plain.ratio.point, Number(iqm(plainRatios).toFixed(4)));
    assert.notEqual(shared.plain.ratio.point, row('td3bc').ratio.point);
    const claim = pooledClaim(claims)!;
    assert.notEqual(claim.verdict, undefined);
    assert.doesNotMatch(claim.text, /not compared/);
    assert.match(
      claim.text,
      /^over the 1 task both pool \(Hopper-v5 medium-10k; left out: Walker2d-v5 medium-replay-10k: pooled without augmentation only\)/,
    );
    assert.equal(claim.paired?.pairs, 5, 'paired over Hopper alone');
    // Hopper alone: aug 7.5k against plain 27.5k steps, the intervals apart.
    assert.equal(claim.verdict, 'holds');
    // The headline table adds the like-with-like row under the two pools.
    const [last, beforeLast] = headlineTable(analysis)!.rows.toReversed();
    assert.equal(beforeLast![0], 'pooled over tasks');
    assert.deepEqual(last!.slice(0, 3), ['pooled over the 1 task both pool', '–', '–']);
    assert.match(last![3]!, new RegExp(`^${shared.aug.ratio.point.toFixed(2)} \\[.* \\(5 runs\\)$`));
    assert.match(last![4]!, new RegExp(`^${shared.plain.ratio.point.toFixed(2)} \\[.* \\(5 runs\\)$`));
  });

  it('has nothing to compare when the two pool no task in common', () => {
    const { analysis, claims } = analyseFixture((results) => {
      for (const seed of [2, 3, 4])
        rmSync(join(results, 'Hopper-v5', 'medium-10k', 'td3bc-aug-both-p0.5', `seed-${seed}`), {
          recursive: true,
        });
      rmSync(join(results, 'Walker2d-v5', 'medium-replay-10k', 'td3bc-both-p0', 'seed-2'), {
        recursive: true,
      });
    });
    assert.equal(analysis.pooledStepsShared, null);
    assert.equal(pooledClaim(claims), undefined);
  });
});
