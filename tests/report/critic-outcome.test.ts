import assert from 'node:assert/strict';
import {
  type CriticChecks,
  criticOutcome,
  describeSpearman,
  type GroupFinals,
  startedFromKey,
} from '../../lib/report/critic-outcome.ts';
import { MAIN_AUG_FRACTION } from '../../lib/report/groups.ts';

const SETTINGS = { seed: 0, resamples: 400, confidence: 0.95 };

/** One task's main runs: per seed, the critic's held-out error and the final score, per side. */
interface TaskSeeds {
  env: string;
  dataset: string;
  without: { error: number; score: number }[];
  with: { error: number; score: number }[];
}

function inputs(tasks: TaskSeeds[]): { groups: GroupFinals[]; critic: CriticChecks[]; main: Set<string> } {
  const groups: GroupFinals[] = [];
  const critic: CriticChecks[] = [];
  for (const t of tasks) {
    const sides = [
      { augmented: false, runs: t.without },
      { augmented: true, runs: t.with },
    ];
    for (const side of sides) {
      groups.push({
        id: groupId(t, side.augmented),
        env: t.env,
        dataset: t.dataset,
        variant: side.augmented ? 'td3bc-aug' : 'td3bc',
        pretrain: 'both',
        augFraction: side.augmented ? MAIN_AUG_FRACTION : 0,
        worldModel: 'vae',
        criticLayerNorm: false,
        finalScores: side.runs.map((r) => r.score),
        finishedSeeds: side.runs.map((_, seed) => seed),
      });
    }
    critic.push({
      env: t.env,
      dataset: t.dataset,
      offline: sides.map((side) => ({
        augmented: side.augmented,
        augFraction: side.augmented ? MAIN_AUG_FRACTION : 0,
        worldModel: 'vae',
        // Mean G 100, so the relative error is the absolute one ÷ 100.
        heldOutBySeed: side.runs.map((r, seed) => ({
          seed,
          train: { absError: r.error / 2, monteCarlo: 100 },
          heldOut: { absError: r.error, monteCarlo: 100 },
        })),
      })),
    });
  }
  return { groups, critic, main: new Set(tasks.map((t) => `${t.env}|${t.dataset}`)) };
}

const groupId = (t: TaskSeeds, augmented: boolean) => `${t.env}|${t.dataset}|${augmented ? 'aug' : 'plain'}`;

const outcome = (tasks: TaskSeeds[], startedFrom?: Map<string, { absError: number; monteCarlo: number }>) => {
  const { groups, critic, main } = inputs(tasks);
  return criticOutcome(groups, critic, main, SETTINGS, startedFrom);
};

describe('report: critic error against the fine-tuned score', () => {
  // Within each task a closer critic ends higher, but the task whose critics are far off scores higher
  // overall: pooled, the tasks' levels hide what each task shows.
  const easy: TaskSeeds = {
    env: 'Hopper-v5',
    dataset: 'medium-10k',
    without: [
      { error: 500, score: 90 },
      { error: 600, score: 85 },
      { error: 700, score: 80 },
    ],
    with: [
      { error: 300, score: 100 },
      { error: 400, score: 95 },
    ],
  };
  const hard: TaskSeeds = {
    env: 'Ant-v5',
    dataset: 'medium-replay-10k',
    without: [
      { error: 20, score: 10 },
      { error: 30, score: 5 },
    ],
    with: [
      { error: 5, score: 30 },
      { error: 10, score: 20 },
      { error: 15, score: 15 },
    ],
  };

  it('ranks seeds within each task as well as over all dots', () => {
    const o = outcome([easy, hard]);
    assert.equal(o.points.length, 10);
    assert.ok(
      o.spearman.all! > 0,
      `pooled over the two tasks the correlation is positive: ${o.spearman.all}`,
    );
    assert.deepEqual(
      o.byTask.map((t) => [t.task.env, t.task.dataset, t.dots, t.spearman.all, t.spearman.without]),
      [
        ['Hopper-v5', 'medium-10k', 5, -1, -1],
        ['Ant-v5', 'medium-replay-10k', 5, -1, null],
      ],
      'two dots on a side rank nothing',
    );
    // Every resample of a perfectly ranked task ranks perfectly (or, drawing one dot 5 times, not at all).
    assert.equal(o.withinTasks!.point, -1);
    assert.equal(o.withinTasks!.tasks, 2);
    assert.ok(o.withinTasks!.low >= -1 && o.withinTasks!.high <= 0, JSON.stringify(o.withinTasks));
    assert.match(
      describeSpearman(o),
      /within tasks \(seeds of one task ranked against each other\), -1\.00 \[-1\.00, -1\.00\] on average over 2 tasks\.$/,
    );
  });

  it('resamples within tasks: an interval that spans both signs where seeds disagree, the same for one seed', () => {
    const mixed: TaskSeeds = {
      ...easy,
      without: [
        { error: 500, score: 80 },
        { error: 600, score: 90 },
        { error: 700, score: 85 },
      ],
      with: [
        { error: 300, score: 100 },
        { error: 400, score: 75 },
      ],
    };
    const a = outcome([mixed]).withinTasks!;
    assert.ok(a.low < 0 && a.high > 0, `seeds that disagree leave the sign open: ${JSON.stringify(a)}`);
    assert.deepEqual(outcome([mixed]).withinTasks, a, 'seeded: the same interval again');
  });

  it('leaves out of the within-task mean a task of fewer than 3 dots, and has none without one', () => {
    const tiny: TaskSeeds = {
      env: 'Walker2d-v5',
      dataset: 'medium-10k',
      without: [{ error: 1, score: 1 }],
      with: [{ error: 2, score: 2 }],
    };
    const o = outcome([easy, tiny]);
    assert.deepEqual(
      o.byTask.map((t) => [t.task.env, t.dots, t.spearman.all]),
      [
        ['Hopper-v5', 5, -1],
        ['Walker2d-v5', 2, null],
      ],
    );
    assert.equal(o.withinTasks!.tasks, 1);
    assert.equal(outcome([tiny]).withinTasks, null);
    assert.match(
      describeSpearman(outcome([tiny])),
      /with\.$/,
      'no within-task clause without a task to rank',
    );
  });

  it("pairs a run with the critic it started from: its own logged check over the shared pre-training's", () => {
    // The shared pre-training of Hopper's seed 1 (without augmentation) was rebuilt differently since the
    // run fine-tuned from it: the run's own copy of its rows says its critic was off by 900, not 600.
    const own = new Map([[startedFromKey(groupId(easy, false), 1), { absError: 900, monteCarlo: 100 }]]);
    const point = (o: ReturnType<typeof outcome>) => o.points.find((p) => !p.augmented && p.seed === 1)!;
    assert.equal(point(outcome([easy])).heldOutRelError, 6);
    assert.equal(point(outcome([easy], own)).heldOutRelError, 9);
    assert.equal(
      outcome([easy], own).byTask[0]!.spearman.without,
      -0.5,
      'the ranks follow the run’s own check',
    );
  });
});
