import assert from 'node:assert/strict';
import { type GroupSummary, pretrainingPrint } from '../../lib/report/analysis.ts';
import { sharesPretraining } from '../../lib/report/claims.ts';
import type { RunRecord } from '../../lib/report/results.ts';

/** A group of one kind whose finished runs fine-tuned from the pre-trainings given per seed. */
function group(pretrain: string, prints: [number, string][], variant = 'td3bc-aug'): GroupSummary {
  return {
    id: `g|${pretrain}`,
    env: 'Hopper-v5',
    dataset: 'medium-10k',
    variant,
    pretrain,
    augFraction: variant === 'td3bc-aug' ? 0.5 : 0,
    worldModel: 'vae',
    criticLayerNorm: false,
    envOptions: '',
    label: pretrain,
    tags: [],
    seeds: prints.map(([seed]) => seed),
    finished: prints.length,
    unfinished: 0,
    budgets: [1000],
    finalReturn: null,
    finalScore: null,
    finalScores: prints.map(() => 50),
    finishedSeeds: prints.map(([seed]) => seed),
    finishedPretrainings: prints.map(([, print]) => print),
  };
}

describe('report: pairs from the same pre-trained networks', () => {
  it("prints a run's pre-training from its own copy of the offline evaluations", () => {
    const run = {
      metrics: [
        { phase: 'offline', step: 5000, returnMean: 12.5 },
        { phase: 'offline', step: 10000, returnMean: 30 },
        { phase: 'online', step: 0, returnMean: 31 },
      ],
    } as unknown as RunRecord;
    assert.equal(pretrainingPrint(run), '5000:12.5 10000:30');
  });

  it('holds for one kind of pre-training whose copies match at every seed both finished', () => {
    const both = group('both', [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ]);
    // Seed 3 only on one side, seed 1 without offline rows: neither counts against it.
    const actor = group('actor', [
      [0, 'a'],
      [1, ''],
      [2, 'c'],
      [3, 'd'],
    ]);
    assert.equal(sharesPretraining(both, actor), true);
    // Seed 2's shared pre-training rebuilt differently between the two runs.
    const rebuilt = group('actor', [
      [0, 'a'],
      [2, 'c′'],
    ]);
    assert.equal(sharesPretraining(both, rebuilt), false);
    assert.equal(sharesPretraining(rebuilt, both), false);
    // Another kind of pre-training never shares, whatever its rows.
    assert.equal(sharesPretraining(both, group('both', [[0, 'a']], 'td3bc')), false);
  });
});
