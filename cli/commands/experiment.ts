// `o2o experiment`: the paper's experiment grid (experiments/paper.yaml), resumable and accumulating.
//   run SPEC     runs the spec's pending runs in priority order (child processes, one BLAS thread each)
//   paper        run experiments/paper.yaml
//   status [SPEC]  per env / dataset / variant: seeds done, running, started, waiting, blocked, failed
//   run-one SPEC --id ID   (internal) one run in this process; what `run` starts as a child
//   critic-check [DIR]   the critic's held-out check of each shared pre-training under DIR (results/)

import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context } from '@opentelemetry/api';
import { z } from 'zod';
import { clockTime } from '../../lib/experiment/clock-time.ts';
import { commitRunResults } from '../../lib/experiment/commit-results.ts';
import { checkEntry, findEntries } from '../../lib/experiment/critic-held-out.ts';
import { currentPlatform } from '../../lib/experiment/current-platform.ts';
import {
  checkFilters,
  expandGrid,
  type GridRun,
  matchesFilters,
  unmatchedFilterValues,
} from '../../lib/experiment/grid.ts';
import { tryLock } from '../../lib/experiment/lock.ts';
import { describeMachineScale, estimateTiers, stageHistory } from '../../lib/experiment/run-estimate.ts';
import { runLockPath, runState } from '../../lib/experiment/run-state.ts';
import { EXIT_INTERRUPTED, runGrid } from '../../lib/experiment/scheduler.ts';
import { type GridSpec, loadSpec, SpecError } from '../../lib/experiment/spec.ts';
import { formatStatus, gridStatus } from '../../lib/experiment/status.ts';
import { extractFromEnv } from '../../lib/telemetry/propagation.ts';
import { type CommandSpec, integerFlag, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { ProgressLine } from '../progress.ts';

export const PAPER_SPEC = 'experiments/paper.yaml';
const BIN = fileURLToPath(new URL('../../bin/o2o.mjs', import.meta.url));

const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour, local time)')
  .optional();

const flagSpec = {
  flags: {
    jobs: { type: 'string' },
    only: { type: 'string' },
    first: { type: 'string' },
    'max-runs': { type: 'string' },
    'stop-at': { type: 'string' },
    'time-budget': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'start-late': { type: 'boolean' },
    'fill-idle': { type: 'boolean' },
    'built-since': { type: 'string' },
    'spec-order': { type: 'boolean' },
    commit: { type: 'boolean' },
    force: { type: 'boolean' },
    id: { type: 'string' },
  },
  schema: z
    .object({
      jobs: integerFlag('jobs', 1).default(1),
      only: z.string().min(1).optional(),
      first: z.string().min(1).optional(),
      'max-runs': integerFlag('max-runs', 1).optional(),
      'stop-at': clock,
      'time-budget': integerFlag('time-budget', 1).optional(),
      'dry-run': z.boolean().default(false),
      'start-late': z.boolean().default(false),
      'fill-idle': z.boolean().default(false),
      'built-since': clock,
      'spec-order': z.boolean().default(false),
      commit: z.boolean().default(false),
      force: z.boolean().default(false),
      id: z.string().min(1).optional(),
      _: z.array(z.string()),
    })
    .refine((f) => f['stop-at'] === undefined || f['time-budget'] === undefined, {
      path: ['stop-at'],
      message: 'give --stop-at or --time-budget, not both',
    })
    .refine((f) => f['built-since'] === undefined || !f['spec-order'], {
      path: ['built-since'],
      message: '--spec-order moves no run ahead: give it or --built-since, not both',
    }),
  help: [
    'usage: o2o experiment paper [flags]          (= o2o experiment run experiments/paper.yaml)',
    '       o2o experiment run SPEC [flags]',
    '       o2o experiment status [SPEC] [--only FILTER]',
    '       o2o experiment critic-check [DIR] [--force]',
    '',
    'Runs the grid of a spec into results/<env>/<dataset>/<variant>/seed-<s>/, highest priority first;',
    'finished runs (done.json) are skipped, unfinished ones resume from their checkpoints, runs whose',
    'dataset file is missing are reported as blocked. Ctrl-C / SIGTERM checkpoint and stop cleanly.',
    '  --jobs N            runs in parallel, each a child process with one OpenBLAS thread (default 1)',
    '  --only FILTER       env=ID, dataset=LABEL, variant=LABEL, group=NAME, seed=S (comma = any of;',
    '                      several filters, separated by spaces, must all match; a value no run of',
    '                      the spec has is an error)',
    '  --first FILTER      runs matching FILTER (same form) go ahead of the priority order',
    '                      (then, in each part: runs under way, then runs whose shared pre-training',
    '                      was built since the grid started, as model files are not committed;',
    '                      then the rest)',
    '  --built-since HH:MM "since the grid started" above means since this local time (today, or',
    "                      yesterday if later than now): a top-up after a session's grid picks the",
    '                      runs on the pre-trainings that grid built',
    '  --spec-order        do not move runs whose shared pre-training was built since the grid',
    '                      started ahead',
    '  --max-runs N        start at most N runs this invocation',
    '  --stop-at HH:MM     checkpoint and stop at this local time (today, or tomorrow if past)',
    '  --time-budget MIN   checkpoint and stop after MIN minutes',
    '                      (with either, a run starts only if the times of finished runs say it can',
    '                      finish before then; a shorter one further down may start instead)',
    '  --start-late        start runs even when they cannot finish before --stop-at / --time-budget',
    '  --fill-idle         when no run can finish before then, start the next one anyway rather than',
    '                      leave a job idle: it checkpoints at the stop and the next invocation',
    '                      resumes it, if this workspace (its uncommitted checkpoints) is kept',
    '  --commit            git-commit each run as it finishes (its directory and the shared',
    '                      pre-training it used; nothing else), so a cut-off session keeps it',
    '  --dry-run           list what would run, in order, and stop',
    '',
    'critic-check: for each shared offline pre-training under DIR (default results) whose model file is',
    'here, its final critic against Monte-Carlo returns on the whole source dataset, training rows vs',
    'held-out rows, into critic-held-out.json beside its offline.json; entries already checked for the',
    'same build are skipped (--force: check again).',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

type Flags = z.output<typeof flagSpec.schema>;

function readSpec(file: string): GridSpec {
  try {
    return loadSpec(file);
  } catch (e) {
    if (e instanceof SpecError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * A filter flag's value as its space-separated filters (none when the flag is absent), each checked, and
 * each value one that some run of `runs` has.
 */
function filtersOf(value: string | undefined, flag: '--only' | '--first', runs: GridRun[]): string[] {
  const filters = value === undefined ? [] : value.split(/\s+/).filter((s) => s !== '');
  try {
    checkFilters(filters, flag);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const unmatched = unmatchedFilterValues(runs, filters, flag);
  if (unmatched.length > 0) throw new UsageError(unmatched.join('; '));
  return filters;
}

function deadlineOf(f: Flags, now = new Date()): number | undefined {
  if (f['time-budget'] !== undefined) return now.getTime() + f['time-budget'] * 60_000;
  return f['stop-at'] === undefined ? undefined : clockTime(f['stop-at'], 'next', now);
}

/** Calls `onStop` on the first SIGINT / SIGTERM; returns a function removing the handlers. */
function onStopSignals(onStop: (signal: string) => void): () => void {
  const handler = (signal: string) => onStop(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function runSpec(specFile: string, f: Flags): Promise<number> {
  const spec = readSpec(specFile);
  const everyRun = expandGrid(spec);
  let stop = false;
  const removeHandlers = onStopSignals((signal) => {
    if (!stop) console.error(`[grid] ${signal}: checkpointing the running runs, then stopping`);
    stop = true;
  });
  // The grid and the runs it starts as one trace (grid-spans.ts), where lib/telemetry's settings say;
  // a dry run starts nothing to trace.
  const { startTelemetry } = await import('../../lib/telemetry/index.ts');
  const telemetry = f['dry-run'] ? undefined : startTelemetry({ service: 'grid' });
  try {
    const deadline = deadlineOf(f);
    if (deadline !== undefined) console.error(`[grid] stops at ${new Date(deadline).toISOString()}`);
    const builtSince = f['built-since'] === undefined ? undefined : clockTime(f['built-since'], 'last');
    if (builtSince !== undefined)
      console.error(`[grid] pre-trainings built since ${new Date(builtSince).toISOString()} count as new`);
    const summary = await runGrid(spec, {
      specFile,
      jobs: f.jobs,
      only: filtersOf(f.only, '--only', everyRun),
      first: filtersOf(f.first, '--first', everyRun),
      maxRuns: f['max-runs'],
      deadline,
      startLate: f['start-late'],
      fillIdle: f['fill-idle'],
      specOrder: f['spec-order'],
      ...(builtSince === undefined ? {} : { builtSince }),
      onFinished: f.commit
        ? (run) => {
            const outcome = commitRunResults(run);
            console.error(
              outcome.committed
                ? `[grid] committed ${run.id} (${outcome.commit})`
                : `[grid] ${run.id} not committed: ${outcome.reason}`,
            );
          }
        : undefined,
      dryRun: f['dry-run'],
      childCommand: (run) => ({
        command: process.execPath,
        args: [BIN, 'experiment', 'run-one', specFile, '--id', run.id],
      }),
      log: (line) => console.error(line),
      shouldStop: () => stop,
    });
    console.error(
      `[grid] finished ${summary.finished.length}, stopped ${summary.interrupted.length}, ` +
        `failed ${summary.failed.length}, blocked ${summary.blocked.length}, not started ${summary.notStarted}, ` +
        `done before ${summary.alreadyDone} (of ${summary.selected} selected)`,
    );
    return summary.failed.length > 0 ? 1 : 0;
  } finally {
    removeHandlers();
    await telemetry?.shutdown();
  }
}

/** One run, in this process: what `run` starts as a child. Exit 0 done, 75 stopped (checkpointed). */
async function runOne(specFile: string, id: string): Promise<number> {
  const spec = readSpec(specFile);
  const run: GridRun | undefined = expandGrid(spec).find((r) => r.id === id);
  if (run === undefined) throw new UsageError(`--id ${id}: no such run in ${specFile}`);
  mkdirSync(run.paths.runDir, { recursive: true });
  const lock = tryLock(runLockPath(run));
  if ('heldBy' in lock) {
    console.error(`[${id}] already running (${lock.heldBy})`);
    return EXIT_INTERRUPTED;
  }
  let stop = false;
  const removeHandlers = onStopSignals(() => {
    stop = true;
  });
  const logFile = join(run.paths.runDir, 'run.log');
  let progress: ProgressLine | undefined;
  const log = (line: string) => {
    progress?.clear();
    const at = new Date().toISOString();
    for (const part of line.split('\n')) {
      console.error(`[${id}] ${part}`);
      appendFileSync(logFile, `${at} ${part}\n`);
    }
  };
  // Spans of the run and its stages, when O2O_TRACE_DIR / O2O_TRACE_FILE / OTEL_EXPORTER_OTLP_ENDPOINT say where
  // (the grid's children inherit its environment).
  const { startTelemetry } = await import('../../lib/telemetry/index.ts');
  const telemetry = startTelemetry({ service: 'experiment' });
  try {
    // Loaded here: status and the grid's parent process need no MuJoCo or OpenBLAS.
    const { runPipeline } = await import('../../lib/experiment/pipeline.ts');
    // The grid's span of this run (TRACEPARENT from the parent) is the parent of the run's own spans.
    const result = await context.with(extractFromEnv(), () =>
      runPipeline(run.config, run.paths, {
        name: id,
        log,
        progress: (stage, total, start) => {
          progress = new ProgressLine(`${id} ${stage}`, total, { startStep: start });
          return progress;
        },
        shouldStop: () => stop,
        onStage: (stage) => log(`stage: ${stage}`),
      }),
    );
    if (result.status === 'interrupted') {
      log('stopped; checkpointed');
      return EXIT_INTERRUPTED;
    }
    log(
      `done: final return ${result.done.finalReturn?.toFixed(1) ?? '-'} in ${result.done.seconds.toFixed(0)} s online`,
    );
    return 0;
  } finally {
    removeHandlers();
    lock.release();
    await telemetry.shutdown();
  }
}

function status(specFile: string, f: Flags): number {
  const spec = readSpec(specFile);
  const everyRun = expandGrid(spec);
  const filters = filtersOf(f.only, '--only', everyRun);
  const runs = everyRun.filter((r) => matchesFilters(r, filters));
  const rows = gridStatus(runs);
  // What is left to run, in the grid's priority order (a shared pre-training counts once, for its first run),
  // timed from every finished run of the spec, as the grid does.
  const left = runs.filter((r) => !['done', 'blocked'].includes(runState(r).kind));
  // Times taken on this machine's kernels count as they are, others are scaled to them, as the grid does.
  const history = stageHistory(everyRun, { gemm: currentPlatform().gemm });
  console.log(formatStatus(rows, estimateTiers(left, history)));
  console.log(`run estimates: ${describeMachineScale(history.otherMachines)}`);
  return 0;
}

async function criticCheck(root: string, f: Flags): Promise<number> {
  if (!existsSync(root)) throw new UsageError(`critic-check: ${root} does not exist`);
  const entries = findEntries(root);
  const counts = new Map<string, number>();
  for (const [i, dir] of entries.entries()) {
    const outcome = await checkEntry(dir, { force: f.force });
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    if (outcome === 'written') console.error(`[critic-check] ${i + 1}/${entries.length} ${dir}`);
  }
  const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  console.error(`[critic-check] ${entries.length} shared pre-trainings: ${summary || 'none'}`);
  return 0;
}

export const experimentCommand: Command = {
  summary: "the paper's experiment grid: run (resumable, accumulating into results/), status",
  async run(argv: string[]): Promise<number> {
    const f = parseFlags(argv, flagSpec);
    if (f === 'help') {
      console.log(flagSpec.help);
      return 0;
    }
    const [sub, ...rest] = f._;
    switch (sub) {
      case 'paper':
        if (rest.length > 0) throw new UsageError(`paper takes no SPEC (it is ${PAPER_SPEC})`);
        return runSpec(PAPER_SPEC, f);
      case 'run':
        if (rest.length !== 1) throw new UsageError(`run takes one SPEC\n\n${flagSpec.help}`);
        return runSpec(rest[0]!, f);
      case 'status':
        if (rest.length > 1) throw new UsageError('status takes at most one SPEC');
        return status(rest[0] ?? PAPER_SPEC, f);
      case 'critic-check':
        if (rest.length > 1) throw new UsageError('critic-check takes at most one DIR');
        return criticCheck(rest[0] ?? 'results', f);
      case 'run-one':
        if (rest.length !== 1 || f.id === undefined) throw new UsageError('run-one takes SPEC and --id ID');
        return runOne(rest[0]!, f.id);
      default:
        throw new UsageError(
          `${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}\n\n${flagSpec.help}`,
        );
    }
  },
};
