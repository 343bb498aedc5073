// The report's tables as rows of cells, rendered by both the HTML page and the markdown summary.
import type { Analysis, ThresholdTable } from './analysis.ts';
import { type BudgetRow, PAPER_SCRATCH_SCORES, paperEnvironmentNote } from './budgets.ts';
import { formatRho } from './critic-outcome.ts';
import {
  formatCount,
  formatInterval,
  formatRange,
  formatRunSteps,
  formatSpeedup,
  formatSteps,
} from './format.ts';
import { formatFrozen } from './frozen-runs.ts';
import {
  augmentationSetting,
  baseEnv,
  isMainVariant,
  isPaperScratch,
  MAIN_AUG_FRACTION,
  variantLabel,
} from './groups.ts';
import { leftOutByReason } from './pooled-steps.ts';
import type { RebuildRow } from './rebuilds.ts';
import { describeTasks, envName, taskLabel, taskTitle } from './short-task.ts';
import { type Interval, mean, std } from './stats.ts';
import { type Claim, MIN_SEEDS_FOR_VERDICT, POOLED_ENV, pairedSign } from './verdicts.ts';
import { type PredictorId, WORLD_MODEL_PREDICTORS, type WorldModelQuality } from './world-models.ts';

export interface Table {
  caption: string;
  header: string[];
  rows: string[][];
}

export function thresholdTable(t: ThresholdTable): Table {
  return {
    caption:
      `${taskTitle(t)}: online steps to reach TD3-from-scratch's final return ` +
      `${t.threshold.toFixed(1)}${t.thresholdScore === null ? '' : ` (normalised ${t.thresholdScore.toFixed(1)})`}, ` +
      `mean over ${t.scratchRuns} scratch runs` +
      (t.scratchAtStart
        ? "; scratch's first evaluation (step 0) already reaches it, so no ratio to scratch's steps"
        : ''),
    header: [
      'variant',
      'reached',
      'steps IQM [95% CI]',
      'ratio to scratch [95% CI]',
      'fewer steps',
      'per run',
    ],
    rows: t.rows.map((r, i) => [
      r.label,
      `${r.reached}/${r.runs}`,
      formatSteps(r.stepsIqm, r),
      r.ratio ? formatInterval(r.ratio, 2) : i === 0 ? '1 (reference)' : 'n/a',
      r.ratio ? formatSpeedup(r.ratio.point) : '',
      r.steps.map(formatRunSteps).join(', '),
    ]),
  };
}

/** The headline's two variants: the paper's method and TD3+BC without augmentation (both parts pre-trained). */
const HEADLINE_VARIANTS = [
  { variant: 'td3bc-aug', pretrain: 'both', augFraction: MAIN_AUG_FRACTION },
  { variant: 'td3bc', pretrain: 'both', augFraction: 0 },
] as const;

/**
 * The headline at a glance: per task, the steps ratio to scratch of the paper's method and of TD3+BC
 * without augmentation, then the two pooled over tasks, and over the tasks both pool when those differ (the
 * per-task tables that follow have every variant, the steps and the runs). Null when no task has either
 * variant yet.
 */
export function headlineTable(a: Analysis): Table | null {
  const groups = new Map(a.groups.map((g) => [g.id, g]));
  const ratioCell = (ratio: Interval, runs: string) =>
    `${formatInterval(ratio, 2)} ${formatSpeedup(ratio.point)} (${runs})`;
  const taskCell = (t: ThresholdTable, variant: string) => {
    const row = t.rows.find((r) => {
      const g = groups.get(r.groupId);
      return g !== undefined && g.variant === variant && isMainVariant(g);
    });
    if (row === undefined) return '–';
    const runs = `${row.runs} run${row.runs === 1 ? '' : 's'}`;
    if (row.ratio === null) return t.scratchAtStart ? `n/a: scratch at step 0 (${runs})` : 'n/a';
    return ratioCell(row.ratio, runs);
  };
  // A task with neither variant (scratch only) has no row.
  const rows = a.thresholds
    .map((t) => ({ t, cells: HEADLINE_VARIANTS.map((v) => taskCell(t, v.variant)) }))
    .filter(({ cells }) => cells.some((c) => c !== '–'))
    .map(({ t, cells }) => [
      taskLabel(t),
      `${t.threshold.toFixed(0)}${t.thresholdScore === null ? '' : ` (${t.thresholdScore.toFixed(1)})`}`,
      String(t.scratchRuns),
      ...cells,
    ]);
  if (rows.length === 0) return null;
  const pooled = HEADLINE_VARIANTS.map((v) =>
    a.pooledSteps.find((r) => r.variant === v.variant && isMainVariant(r)),
  );
  if (pooled.some((r) => r !== undefined)) {
    rows.push([
      'pooled over tasks',
      '–',
      '–',
      ...pooled.map((r) =>
        r === undefined ? '–' : ratioCell(r.ratio, `${r.runs} runs, ${r.tasks.length} tasks`),
      ),
    ]);
  }
  // The two pooled over different tasks do not compare like with like: then also over the ones both pool.
  const shared = a.pooledStepsShared;
  if (shared && shared.augOnly.length + shared.plainOnly.length > 0) {
    const n = shared.tasks.length;
    rows.push([
      `pooled over the ${n} task${n === 1 ? '' : 's'} both pool`,
      '–',
      '–',
      ...[shared.aug, shared.plain].map((r) => ratioCell(r.ratio, `${r.runs} runs`)),
    ]);
  }
  return {
    caption:
      "At a glance: the steps to reach scratch's final return as a ratio to scratch's steps (IQM [95% CI]; " +
      'below 1: fewer steps) and how many times fewer; per task, then pooled over the tasks with enough seeds ' +
      '(the pooled table below says which)',
    header: [
      'task',
      "threshold: scratch's final return (score)",
      'scratch runs',
      ...HEADLINE_VARIANTS.map((v) => variantLabel({ ...v, criticLayerNorm: false })),
    ],
    rows,
  };
}

/** The steps ratio of every pre-trained variant pooled over the main tasks (empty: no table). */
export function pooledStepsTable(a: Analysis): Table | null {
  if (a.pooledSteps.length === 0) return null;
  return {
    caption:
      "All tasks pooled: each run's steps to its env's threshold ÷ that env's scratch steps IQM, IQM over " +
      'the runs of every task (bootstrap stratified by task, scratch resampled per env); tasks with fewer ' +
      `than ${MIN_SEEDS_FOR_VERDICT} seeds on a side, or whose scratch runs reach their threshold at step 0, left out`,
    header: ['variant', 'tasks', 'reached', 'ratio to scratch [95% CI]', 'fewer steps', 'left out'],
    rows: a.pooledSteps.map((r) => [
      r.label,
      String(r.tasks.length),
      `${r.reached}/${r.runs}`,
      formatInterval(r.ratio, 2),
      formatSpeedup(r.ratio.point),
      leftOutByReason(r.leftOut)
        .map((x) => `${x.why}: ${x.tasks}`)
        .join('. ') || '–',
    ]),
  };
}

/**
 * Every claim's verdict per task in one grid (pooled first, then the tasks in the report's order), the
 * evidence being in the list that follows. A score comparison whose paired interval excludes 0 says which
 * way it points, since the verdict alone does not use it.
 */
export function claimsAtAGlanceTable(claims: readonly Claim[]): Table {
  const taskOf = (c: Claim) => `${c.env} ${c.dataset}`;
  const tasks = [...new Set(claims.map(taskOf))];
  // A column per task: the tasks' envs by their short names (the report's top says what they stand for).
  const columnOf = (c: Claim) => (c.env === POOLED_ENV ? taskOf(c) : taskLabel(c));
  const columns = [...new Map(claims.map((c) => [taskOf(c), columnOf(c)])).values()];
  // Rows in the per-task order (the headline steps claims first), then what only the pooled list has.
  const perTask = claims.filter((c) => c.env !== POOLED_ENV);
  const names = [...new Set([...perTask, ...claims].map((c) => c.claim))];
  const cell = (c: Claim | undefined) => {
    if (!c) return '–';
    const sign = c.paired ? pairedSign(c.paired.difference) : 0;
    return sign === 0 ? c.verdict : `${c.verdict} (paired: ${sign > 0 ? 'for' : 'against'})`;
  };
  return {
    caption:
      'The claims at a glance: verdict per task (evidence below; – not checked there). "paired: for / against": ' +
      'the runs of one seed, compared pairwise, separate in favour of the claim or against it',
    header: ['claim', ...columns],
    rows: names.map((name) => [
      name,
      ...tasks.map((t) => cell(claims.find((c) => c.claim === name && taskOf(c) === t))),
    ]),
  };
}

export function finalScoresTable(a: Analysis): Table {
  return {
    caption:
      'Final evaluation after online fine-tuning, finished runs only (unfinished runs are counted, not used)',
    header: [
      'env',
      'dataset',
      'variant',
      'finished',
      'unfinished',
      'budget',
      'return mean ± std',
      'score IQM [95% CI]',
      'score mean ± std',
    ],
    rows: a.groups.map((g) => [
      envName(g.env),
      g.dataset,
      g.label,
      String(g.finished),
      String(g.unfinished),
      g.budgets.map(formatCount).join(', '),
      g.finalReturn ? `${g.finalReturn.mean.toFixed(1)} ± ${g.finalReturn.std.toFixed(1)}` : '–',
      g.finalScore ? formatInterval(g.finalScore.iqm, 1) : '–',
      g.finalScore ? `${g.finalScore.mean.toFixed(1)} ± ${g.finalScore.std.toFixed(1)}` : '–',
    ]),
  };
}

export function aggregateTable(a: Analysis): Table {
  return {
    caption:
      'Final normalised score over tasks (env × dataset): IQM of every run pooled, bootstrap stratified by task',
    header: ['variant', 'tasks', 'runs', 'runs per task', 'score IQM [95% CI]'],
    rows: a.aggregate.map((r) => [
      r.label,
      describeTasks(r.tasks),
      String(r.runs),
      r.runsPerTask[0] === r.runsPerTask[1] ? String(r.runsPerTask[0]) : r.runsPerTask.join('–'),
      // With one run on every task the bootstrap has nothing to resample: a point, not an interval.
      r.runsPerTask[1] === 1
        ? `${r.score.point.toFixed(1)} (one run per task: no interval)`
        : formatInterval(r.score, 1),
    ]),
  };
}

export function criticTable(a: Analysis): Table {
  return {
    caption:
      "Critic at the end of offline pre-training: Q − G on the subset's terminal-ending transitions (IQM over seeds [95% CI]) and the " +
      "world model's target shift",
    header: [
      'env',
      'dataset',
      'augmentation',
      'seeds',
      'source',
      'Q − G',
      'mean Q(s′) − Q(ŝ′)',
      'mean ‖s′ − ŝ′‖²',
    ],
    rows: a.critic.flatMap((c) =>
      c.offline.map((s) => [
        envName(c.env),
        c.dataset,
        augmentationSetting(s),
        String(s.seeds.length),
        { pretrained: 'shared pre-training', runs: 'runs', mixed: 'both' }[s.source],
        s.finalOverestimation ? formatInterval(s.finalOverestimation, 1) : '–',
        s.finalTargetShift ? s.finalTargetShift.qDifference.toFixed(2) : '–',
        s.finalTargetShift ? s.finalTargetShift.predictionError.toFixed(4) : '–',
      ]),
    ),
  };
}

/** The held-out check, where shared pre-trainings have one: one row per task and augmentation setting. */
export function criticHeldOutTable(a: Analysis): Table {
  return {
    caption:
      'Critic at the end of offline pre-training on the whole source dataset (o2o experiment critic-check, else ' +
      'the check logged at the last update): ' +
      'mean |Q − G| on the rows it trained on and on the rest (IQM over seeds [95% CI]), against the mean return G',
    header: [
      'env',
      'dataset',
      'augmentation',
      'seeds',
      'mean G',
      '|Q − G| training rows',
      '|Q − G| held-out rows',
    ],
    rows: a.critic.flatMap((c) =>
      c.offline
        .filter((s) => s.heldOutError !== null)
        .map((s) => [
          envName(c.env),
          c.dataset,
          augmentationSetting(s),
          String(s.heldOutBySeed.length),
          s.heldOutError!.monteCarlo.toFixed(1),
          formatInterval(s.heldOutError!.train, 1),
          formatInterval(s.heldOutError!.heldOut, 1),
        ]),
    ),
  };
}

/** Per task, how the pre-trained critic's held-out error ranks against the final score of its run. */
export function criticOutcomeTable(a: Analysis): Table {
  return {
    caption:
      "Pre-trained critic's held-out |Q − G| ÷ G against the final score of the run (both parts pre-trained) " +
      "that started from it: Spearman's rank correlation over the task's seeds (negative: a closer critic, a " +
      'higher score)',
    header: [
      'env',
      'dataset',
      'dots',
      'all',
      'without augmentation',
      `with augmentation (p=${MAIN_AUG_FRACTION})`,
    ],
    rows: a.criticOutcome.byTask.map((t) => [
      envName(t.task.env),
      t.task.dataset,
      String(t.dots),
      formatRho(t.spearman.all),
      formatRho(t.spearman.without),
      formatRho(t.spearman.with),
    ]),
  };
}

export function sweepTable(a: Analysis): Table {
  return {
    caption: 'Sweeps: final normalised score and steps ratio to scratch per setting',
    header: [
      'sweep',
      'env',
      'dataset',
      'variant',
      'setting',
      'finished',
      'score IQM [95% CI]',
      'ratio [95% CI]',
    ],
    rows: a.sweeps.flatMap((s) =>
      s.series.flatMap((x) =>
        x.points.map((p) => [
          s.kind === 'size' ? 'dataset size' : 'augmentation ratio',
          envName(s.env),
          s.dataset,
          x.label,
          s.kind === 'size' ? formatCount(p.x) : `p=${p.x}`,
          String(p.finished),
          p.finalScore ? formatInterval(p.finalScore, 1) : '–',
          p.ratio ? formatInterval(p.ratio, 2) : '–',
        ]),
      ),
    ),
  };
}

export function scratchBaselineTable(a: Analysis): Table {
  // With the paper's networks; on Gymnasium's env and on any other options of it (each its own row).
  const rows = a.groups
    .filter((g) => g.variant === 'scratch' && !g.criticLayerNorm && g.finalScore !== null)
    .map((g) => {
      const env = baseEnv(g.env);
      const paper = Object.hasOwn(PAPER_SCRATCH_SCORES, env) ? PAPER_SCRATCH_SCORES[env] : undefined;
      const starts = a.runList
        .filter((r) => r.groupId === g.id && r.finished && r.startScore !== null)
        .map((r) => r.startScore!);
      return [
        envName(g.env),
        `${g.finalScore!.mean.toFixed(1)} ± ${g.finalScore!.std.toFixed(1)}`,
        starts.length === 0 ? '–' : `${mean(starts).toFixed(1)} ± ${std(starts).toFixed(1)}`,
        `${g.finished} runs, ${g.budgets.map(formatCount).join(', ')} steps`,
        paper ? `${paper.mean.toFixed(1)} ± ${paper.std.toFixed(1)}` : '–',
        paper ? `5 runs, ${formatCount(paper.steps)} steps` : '',
      ];
    });
  return {
    caption:
      "TD3 from scratch: our final normalised score (mean ± std) and the untrained policy's, at step 0, next " +
      "to the paper author's final scores",
    header: ['env', 'ours', 'ours at step 0 (untrained)', 'our runs', 'paper', 'paper runs'],
    rows,
  };
}

/** Notes on the paper's environments, for the envs of the scratch baseline table. */
export function scratchBaselineNotes(a: Analysis): string[] {
  const envs = [
    ...new Set(
      a.groups
        .filter((g) => isPaperScratch(g) && g.envOptions === '' && g.finalScore !== null)
        .map((g) => g.env),
    ),
  ];
  return envs.sort().flatMap((env) => {
    const note = paperEnvironmentNote(env);
    return note === undefined ? [] : [`${env}: ${note}`];
  });
}

export function runListTable(a: Analysis): Table {
  const labels = new Map(a.groups.map((g) => [g.id, g.label]));
  return {
    caption: 'Every run: progress and, when finished, its final evaluation',
    header: [
      'run directory',
      'variant',
      'seed',
      'status',
      'online steps',
      'final return',
      'final score',
      'policy frozen (steps)',
      'commit',
    ],
    rows: a.runList.map((r) => [
      r.dir,
      labels.get(r.groupId) ?? r.groupId,
      String(r.seed),
      r.finished ? 'finished' : 'unfinished',
      `${formatCount(r.lastStep)} / ${formatCount(r.budget)}`,
      r.finalReturn === null ? '–' : r.finalReturn.toFixed(1),
      r.finalScore === null ? '–' : r.finalScore.toFixed(1),
      r.frozen === null ? '' : formatFrozen(r.frozen),
      r.commit === null ? '–' : r.commit.slice(0, 12),
    ]),
  };
}

export function budgetTable(rows: BudgetRow[]): Table {
  return {
    caption: "Our budgets (smallest–largest over the env's runs) against the paper's",
    header: ['env', 'parameter', 'ours', 'paper', 'smaller than the paper'],
    rows: rows.map((r) => [
      r.env,
      r.parameter,
      formatRange(r.oursMin, r.oursMax),
      r.paper,
      r.smaller ? `yes${r.note ? ` (${r.note})` : ''}` : 'no',
    ]),
  };
}

export function rebuildTable(rows: readonly RebuildRow[]): Table {
  return {
    caption:
      'Shared pre-trainings rebuilt from their committed markers, compared with the build they replaced',
    header: ['entry', 'stage', 'compared', 'previous build', 'result', 'kernels'],
    rows: rows.map((r) => [
      r.entry,
      r.stage,
      r.compared,
      r.previousFinishedAt,
      r.identical ? 'identical' : `differs: ${r.firstDifference ?? 'unknown'}`,
      r.platforms,
    ]),
  };
}

export function worldModelTable(rows: readonly WorldModelQuality[]): Table {
  const shown = WORLD_MODEL_PREDICTORS.filter((p) => p.id !== 'copy');
  const cell = (r: WorldModelQuality, id: PredictorId) => {
    const v = r.vsCopy.find((x) => x.predictor === id);
    return v === undefined ? '–' : formatInterval(v.iqm, 2);
  };
  return {
    caption:
      "Held-out one-step error of each predictor over copying the state (s′ = s; below 1 is better than no change): MSE on standardised states, IQM over the world models' seeds [95% CI]",
    header: ['env', 'dataset', 'model', 'seeds', ...shown.map((p) => p.label)],
    rows: rows.map((r) => [
      envName(r.env),
      r.dataset,
      r.implementation,
      String(r.seeds.length),
      ...shown.map((p) => cell(r, p.id)),
    ]),
  };
}
