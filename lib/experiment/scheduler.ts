// Runs a grid: the pending runs in start order (start-order.ts: priority, with runs --first matches, runs
// under way and runs whose shared pre-training was built since the grid started moved ahead), `jobs` at a
// time, each in a child process (one OpenBLAS thread) that resumes the run from its checkpoints. Finished
// runs are skipped, runs whose dataset is missing are reported as blocked and the rest go on; a run
// that fails is recorded (failed.json) and retried by the next invocation. At the deadline or on a stop request the children
// are asked (SIGTERM) to checkpoint and exit; no new run starts. Before a deadline, a run starts only if the
// times of finished runs say it can finish by then (run-estimate.ts): checkpoints are not committed, so a
// run cut off at a session's end starts over in the next one; a shorter run further down may go instead.
// With fillIdle, a job that nothing can fill before the deadline takes the next run anyway: where the
// workspace outlives the session (its git-ignored checkpoints kept), the next invocation resumes it, and
// where it does not, the core would have idled.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import type { Span } from '@opentelemetry/api';
import { entriesToBuild } from './cache-entry.ts';
import { currentPlatform } from './current-platform.ts';
import { writeJsonAtomic } from './fs-atomic.ts';
import { checkFilters, expandGrid, type GridRun, matchesFilters } from './grid.ts';
import { GridTrace } from './grid-spans.ts';
import { changedSettings, gitCommit, writeRunConfigFile } from './provenance.ts';
import {
  describeMachineScale,
  describeTierEstimate,
  estimateRun,
  estimateTiers,
  type StageHistory,
  stageHistory,
} from './run-estimate.ts';
import { blockedReason, failedPath, progressDetail, refreshDatasetChecksum, runState } from './run-state.ts';
import type { GridSpec } from './spec.ts';
import { aheadForNewPretraining, startOrder, unbuiltEntries } from './start-order.ts';

/** Exit code of a child that checkpointed and stopped before finishing (EX_TEMPFAIL). */
export const EXIT_INTERRUPTED = 75;

/** A run starts before the deadline only if its estimate times this fits: stage times vary with load. */
export const DEADLINE_MARGIN = 1.15;

export interface GridOptions {
  specFile: string;
  jobs: number;
  only: string[];
  /** Filters (as `only`) of runs that go ahead of the spec's priority order, e.g. to settle a question first. */
  first?: string[];
  maxRuns?: number;
  /** Epoch milliseconds after which children are stopped and no run starts. */
  deadline?: number;
  /** Start runs even when their estimate says they cannot finish by the deadline. */
  startLate?: boolean;
  /** When no run can finish by the deadline, start the next one anyway rather than leave a job idle. */
  fillIdle?: boolean;
  /** Keep the spec's priority order: runs whose shared pre-training is new do not go first. */
  specOrder?: boolean;
  /**
   * Milliseconds since the epoch: shared pre-trainings built at or after it are new, and the runs that only
   * need them move ahead (start-order.ts), and stage times finished since were taken on this machine
   * (run-estimate.ts). Default: when this invocation started.
   */
  builtSince?: number;
  dryRun: boolean;
  /** Called when a run has finished (done.json written), e.g. to commit its results. */
  onFinished?(run: GridRun): void;
  /** How to start the child process that runs one run. */
  childCommand(run: GridRun): { command: string; args: string[] };
  log(line: string): void;
  shouldStop(): boolean;
  /** Seconds a stopped child may take to checkpoint before it is killed. */
  stopGraceSeconds?: number;
  tickMs?: number;
  /** A line saying what runs, every this many milliseconds (default 10 minutes). */
  summaryEveryMs?: number;
}

export interface GridSummary {
  selected: number;
  alreadyDone: number;
  blocked: { id: string; reason: string }[];
  finished: string[];
  interrupted: string[];
  failed: { id: string; message: string }[];
  notStarted: number;
}

interface Running {
  run: GridRun;
  child: ChildProcess;
  startedAt: number;
  tail: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The run's span in the grid's trace (grid-spans.ts), which its child continues. */
  span: Span;
}

export function selectRuns(spec: GridSpec, only: string[]): GridRun[] {
  return expandGrid(spec).filter((r) => matchesFilters(r, only));
}

export async function runGrid(spec: GridSpec, o: GridOptions): Promise<GridSummary> {
  // Stage times are learnt from every finished run of the spec, not only the selected ones: a selection
  // (--only) must not estimate its runs from fewer, or less alike, timings than the whole grid holds.
  const everyRun = expandGrid(spec);
  const runs = everyRun.filter((r) => matchesFilters(r, o.only));
  const summary: GridSummary = {
    selected: runs.length,
    alreadyDone: 0,
    blocked: [],
    finished: [],
    interrupted: [],
    failed: [],
    notStarted: 0,
  };
  // In priority order; startOrder (start-order.ts) says which goes first each time a job is free.
  const queue: GridRun[] = [];
  // Runs under way go first: their checkpoints are not committed, so finishing what is under way
  // before anything new starts loses the least if the workspace does not survive.
  const underway = new Set<string>();
  const elsewhere: GridRun[] = [];
  for (const run of runs) {
    const state = runState(run);
    if (state.kind === 'done') summary.alreadyDone++;
    else if (state.kind === 'blocked') {
      // Still queued: a dataset that appears while the grid runs unblocks it.
      summary.blocked.push({ id: run.id, reason: state.detail });
      queue.push(run);
    } else if (state.kind === 'running') {
      o.log(`[grid] ${run.id}: running in another process (${state.detail}), skipped`);
      elsewhere.push(run);
    } else {
      if (state.kind === 'started') underway.add(run.id);
      queue.push(run);
    }
  }
  const first = o.first ?? [];
  const order = {
    preferred: (run: GridRun) => first.length > 0 && matchesFilters(run, first, '--first'),
    underway,
    specOrder: o.specOrder === true,
    builtSince: o.builtSince ?? Date.now(),
  };
  // A bad --first filter fails here, before anything starts.
  checkFilters(first, '--first');
  o.log(
    `[grid] ${runs.length} runs selected: ${summary.alreadyDone} done, ${summary.blocked.length} blocked, ` +
      `${queue.length - summary.blocked.length} to run`,
  );
  const reasons = [...new Set(summary.blocked.map((b) => b.reason))];
  for (const reason of reasons) o.log(`[grid] blocked: ${reason}`);
  // Stage times taken on this machine (its GEMM kernels, or since this session began) count as they are;
  // others are scaled to it.
  const machine = { gemm: currentPlatform().gemm, since: order.builtSince };
  let history: StageHistory = stageHistory(everyRun, machine);
  o.log(`[grid] run estimates: ${describeMachineScale(history.otherMachines)}`);
  if (o.dryRun) {
    // The order the grid would start them in, one at a time: each run's shared pre-trainings count as
    // built for the runs after it (estimateRun adds them to `planned`), as do those of runs that other
    // processes are running.
    const planned = new Set(elsewhere.flatMap((run) => entriesToBuild(run).map((e) => e.marker)));
    let rest = queue.filter((run) => blockedReason(run) === undefined);
    const plan: GridRun[] = [];
    while (rest.length > 0) {
      const next = startOrder(rest, { ...order, planned })[0]!;
      rest = rest.filter((run) => run !== next);
      const { seconds, detail } = estimateRun(next, history, planned);
      plan.push(next);
      if (plan.length > (o.maxRuns ?? Number.POSITIVE_INFINITY)) continue;
      const needs = seconds === undefined ? '~? min' : `~${(seconds / 60).toFixed(0)} min (${detail})`;
      o.log(
        `[grid] would run ${String(plan.length).padStart(4)}. ${next.id}  [${next.groups.join(', ')}]  ${needs}  ${runState(next).kind}`,
      );
    }
    const tiers = estimateTiers(plan, history).map((t) => `tier ${t.tier}: ${describeTierEstimate(t)}`);
    if (tiers.length > 0) o.log(`[grid] core time still needed: ${tiers.join('; ')}`);
    summary.notStarted = plan.length;
    return summary;
  }
  const gridTrace = new GridTrace(o.specFile, { jobs: o.jobs, selected: runs.length });
  const running = new Map<string, Running>();
  let started = 0;
  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;

  /** Starts the run's child; false (and the run recorded as failed) when its settings changed. */
  const launch = (run: GridRun, why?: string): boolean => {
    refreshDatasetChecksum(run);
    const changed = changedSettings(run);
    if (changed.length > 0) {
      const message = `${run.paths.runDir} holds this run with other settings (${changed.join('; ')}); move it away to rerun`;
      summary.failed.push({ id: run.id, message });
      o.log(`[grid] FAILED ${run.id}: ${message}`);
      return false;
    }
    mkdirSync(run.paths.runDir, { recursive: true });
    rmSync(failedPath(run), { force: true });
    // The commit now: each child loads the code as it is when it starts.
    writeRunConfigFile(run, gitCommit(), o.specFile);
    const { command, args } = o.childCommand(run);
    const traced = gridTrace.startRun(run);
    const child = spawn(command, args, {
      env: { ...process.env, O2O_BLAS_THREADS: '1', OPENBLAS_NUM_THREADS: '1', ...traced.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        o.log(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', (e) => {
        tail.push(`spawn failed: ${e.message}`);
        resolve({ code: 1, signal: null });
      });
    });
    running.set(run.id, { run, child, startedAt: Date.now(), tail, exited, span: traced.span });
    started++;
    o.log(
      `[grid] start ${run.id} [${run.groups.join(', ')}] (${started} started this session${why === undefined ? '' : `; ${why}`})`,
    );
    return true;
  };

  // The highest-priority run held back by the deadline, said once (not every run behind it).
  let deferredReported: string | undefined;
  let deferredThisScan: string | undefined;
  /** Whether the run can finish before the deadline, by the stage times seen so far (unknown: yes). */
  const fitsDeadline = (run: GridRun): boolean => {
    if (o.deadline === undefined || o.startLate === true) return true;
    const estimate = estimateRun(run, history);
    if (estimate.seconds === undefined) return true;
    const left = o.deadline - Date.now();
    if (estimate.seconds * 1000 * DEADLINE_MARGIN <= left) return true;
    if (deferredThisScan === undefined) {
      deferredThisScan = run.id;
      if (deferredReported !== run.id) {
        deferredReported = run.id;
        o.log(
          `[grid] holding back ${run.id}: it needs ~${(estimate.seconds / 60).toFixed(0)} min (${estimate.detail}), ` +
            `${(left / 60_000).toFixed(0)} min are left before the deadline; runs that fit may start instead`,
        );
      }
    }
    return false;
  };

  const settle = (r: Running, exit: { code: number | null; signal: NodeJS.Signals | null }) => {
    running.delete(r.run.id);
    const before = history.otherMachines;
    history = stageHistory(everyRun, machine);
    if (history.otherMachines?.factor !== before?.factor)
      o.log(`[grid] run estimates: ${describeMachineScale(history.otherMachines)}`);
    const minutes = ((Date.now() - r.startedAt) / 60_000).toFixed(1);
    if (exit.code === 0) {
      summary.finished.push(r.run.id);
      o.log(`[grid] done ${r.run.id} after ${minutes} min: ${runState(r.run).detail}`);
      gridTrace.endRun(r.span, { kind: 'done' });
      o.onFinished?.(r.run);
    } else if (exit.code === EXIT_INTERRUPTED) {
      summary.interrupted.push(r.run.id);
      o.log(`[grid] stopped ${r.run.id} after ${minutes} min (checkpointed; the next invocation resumes it)`);
      gridTrace.endRun(r.span, { kind: 'stopped' });
    } else {
      const why = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
      const message = `${why}: ${r.tail.slice(-3).join(' | ')}`;
      summary.failed.push({ id: r.run.id, message });
      writeJsonAtomic(failedPath(r.run), { at: new Date().toISOString(), message, tail: r.tail });
      o.log(`[grid] FAILED ${r.run.id}: ${message}`);
      gridTrace.endRun(r.span, { kind: 'failed', message });
    }
  };

  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    o.log(`[grid] stopping: ${running.size} running run(s) checkpoint and exit`);
    for (const r of running.values()) r.child.kill('SIGTERM');
    killTimer = setTimeout(
      () => {
        for (const r of running.values()) {
          o.log(`[grid] ${r.run.id} did not stop in time: killed (it resumes from its last checkpoint)`);
          r.child.kill('SIGKILL');
        }
      },
      (o.stopGraceSeconds ?? 600) * 1000,
    );
  };

  let lastSummary = Date.now();
  for (;;) {
    if (!stopping && (o.shouldStop() || (o.deadline !== undefined && Date.now() >= o.deadline))) stopAll();
    if (Date.now() - lastSummary >= (o.summaryEveryMs ?? 600_000)) {
      lastSummary = Date.now();
      const ids = [...running.values()].map((r) => {
        const progress = progressDetail(r.run);
        const minutes = ((Date.now() - r.startedAt) / 60_000).toFixed(0);
        return `${r.run.id} (${minutes} min${progress === undefined ? '' : `; ${progress}`})`;
      });
      o.log(
        `[grid] ${new Date().toISOString().slice(11, 16)} UTC: running ${ids.join(', ') || 'nothing'}; this session ` +
          `${summary.finished.length} finished, ${summary.failed.length} failed; ${queue.length} queued`,
      );
    }
    while (!stopping && running.size < o.jobs && (o.maxRuns === undefined || started < o.maxRuns)) {
      const busy = new Set([...running.values()].flatMap((r) => unbuiltEntries(r.run)));
      deferredThisScan = undefined;
      const startable = (run: GridRun) =>
        blockedReason(run) === undefined && !unbuiltEntries(run).some((e) => busy.has(e));
      const ordered = startOrder(queue, order);
      const fits = ordered.find((run) => startable(run) && fitsDeadline(run));
      const next = fits ?? (o.fillIdle === true ? ordered.find(startable) : undefined);
      if (next === undefined) break;
      queue.splice(queue.indexOf(next), 1);
      launch(
        next,
        fits === undefined
          ? 'nothing left fits before the deadline (--fill-idle): it checkpoints at the stop for the next invocation'
          : aheadForNewPretraining(next, order)
            ? 'its shared pre-training was built since the grid started'
            : undefined,
      );
    }
    if (running.size === 0) break;
    const tick = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), o.tickMs ?? 2000));
    const exits = [...running.values()].map((r) => r.exited.then((exit) => ({ r, exit })));
    const first = await Promise.race([...exits, tick]);
    if (first !== undefined) settle(first.r, first.exit);
  }
  if (killTimer !== undefined) clearTimeout(killTimer);
  summary.notStarted = queue.filter((run) => blockedReason(run) === undefined).length;
  gridTrace.end({
    finished: summary.finished.length,
    stopped: summary.interrupted.length,
    failed: summary.failed.length,
  });
  return summary;
}
