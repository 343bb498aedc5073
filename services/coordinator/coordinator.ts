// Drives one experiment through its phases in order: dataset (here), world model (world-model service),
// offline, online and evaluation (learner), report (here). state.json is written after each phase, so a
// resumed run skips what finished; the scratch variant skips the world model and offline phases. The
// whole run is one trace: every phase request carries the run span's context to the services.
import { relative } from 'node:path';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { NatsConnection } from 'nats';
import { Phase, type PhaseProgress, PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import { envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { requestPhase } from '../../lib/services/phase-client.ts';
import { writeFileAtomic } from '../../lib/services/phase-stream.ts';
import { type ExperimentSpec, specToJson, usesOffline, usesWorldModel } from '../../lib/services/spec.ts';
import { runDatasetPhase } from './dataset-phase.ts';
import { REPORT_FILE, renderReport } from './report.ts';
import {
  collectedOutputs,
  isFinished,
  loadState,
  PHASE_ORDER,
  type PhaseName,
  type PhaseRecord,
  type RunState,
  saveState,
} from './state.ts';

const REMOTE_PHASES: Partial<Record<PhaseName, { phase: Phase; timeout: keyof ExperimentSpec['timeouts'] }>> =
  {
    world_model: { phase: Phase.PHASE_WORLD_MODEL, timeout: 'worldModel' },
    offline: { phase: Phase.PHASE_OFFLINE, timeout: 'offline' },
    online: { phase: Phase.PHASE_ONLINE, timeout: 'online' },
    evaluation: { phase: Phase.PHASE_EVALUATION, timeout: 'evaluation' },
  };

export interface RunExperimentOptions {
  nc: NatsConnection;
  spec: ExperimentSpec;
  /** Absolute run root (O2O_RUN_ROOT); run_dir in requests is sent relative to it. */
  runRoot: string;
  /** Absolute run directory inside runRoot. */
  runDir: string;
  /** Continue a run whose state.json exists (its spec must equal `spec`). */
  resume?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Minimum ms between two progress lines of one phase (default 2000). */
  progressEveryMs?: number;
}

export interface RunOutcome {
  state: RunState;
  reportPath: string;
}

export class PhaseFailedError extends Error {}

function newRunId(spec: ExperimentSpec): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${spec.name}-${stamp}`;
}

/** A progress printer: phase, step/total, steps per second between updates, and the metrics. */
function progressPrinter(name: PhaseName, log: (line: string) => void, everyMs: number) {
  let last: { step: number; at: number } | undefined;
  let printedAt = 0;
  return (p: PhaseProgress): void => {
    const now = performance.now();
    const rate =
      last !== undefined && now > last.at ? ((p.step - last.step) * 1000) / (now - last.at) : undefined;
    last = { step: p.step, at: now };
    if (now - printedAt < everyMs && p.step !== p.total) return;
    printedAt = now;
    const pct = p.total > 0 ? ` (${((100 * p.step) / p.total).toFixed(0)}%)` : '';
    const metrics = Object.entries(p.metrics)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
      .join(', ');
    log(
      `${name} ${p.step}/${p.total}${pct}` +
        (rate === undefined ? '' : `, ${rate.toFixed(1)} steps/s`) +
        (metrics === '' ? '' : `, ${metrics}`) +
        (p.message === '' ? '' : ` — ${p.message}`),
    );
  };
}

export async function runExperiment(opts: RunExperimentOptions): Promise<RunOutcome> {
  const { nc, spec, runRoot, runDir } = opts;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[coordinator] ${line}\n`));
  const specJson = specToJson(spec);
  const existing = loadState(runDir);
  let state: RunState;
  if (existing !== undefined) {
    if (opts.resume !== true) {
      throw new Error(`${runDir} already holds run ${existing.runId}; resume it with --resume ${runDir}`);
    }
    if (existing.specJson !== specJson) {
      throw new Error(`${runDir}: the spec differs from the one run ${existing.runId} was started with`);
    }
    state = existing;
    log(`resuming run ${state.runId}`);
  } else {
    state = {
      version: 1,
      runId: newRunId(spec),
      specName: spec.name,
      specJson,
      createdAt: new Date().toISOString(),
      phases: {},
    };
    saveState(runDir, state);
    log(`run ${state.runId} in ${runDir}`);
  }
  const runDirForServices = relative(runRoot, runDir) || '.';
  const tracer = trace.getTracer('o2o-coordinator');
  const reportPath = `${runDir}/${REPORT_FILE}`;

  await tracer.startActiveSpan(
    `run ${spec.name}`,
    {
      attributes: {
        'o2o.run_id': state.runId,
        'o2o.env': spec.env,
        'o2o.env_options': envOptionsJson(spec.envOptions),
        'o2o.variant': spec.variant,
      },
    },
    async (runSpan) => {
      try {
        for (const name of PHASE_ORDER) {
          if (opts.signal?.aborted === true) throw new Error('run interrupted');
          if (isFinished(state, name)) {
            log(`${name}: already finished, skipping`);
            continue;
          }
          const skip =
            (name === 'world_model' && !usesWorldModel(spec)) || (name === 'offline' && !usesOffline(spec));
          const attempt = (state.phases[name]?.attempt ?? 0) + 1;
          const started = performance.now();
          const finishedAt = () => new Date().toISOString();
          let record: PhaseRecord;
          if (skip) {
            record = {
              status: 'skipped',
              attempt,
              outputs: {},
              metrics: {},
              seconds: 0,
              handledBy: 'coordinator',
              finishedAt: finishedAt(),
            };
            log(`${name}: skipped (variant ${spec.variant})`);
          } else if (name === 'dataset' || name === 'report') {
            log(`${name}: started`);
            const outcome = await tracer.startActiveSpan(`phase ${name}`, async (span) => {
              try {
                if (name === 'dataset') return await runDatasetPhase(spec, runDir);
                return { outputs: { report: 'report.md' }, metrics: {} };
              } finally {
                span.end();
              }
            });
            record = {
              status: 'done',
              attempt,
              outputs: outcome.outputs,
              metrics: outcome.metrics,
              seconds: (performance.now() - started) / 1000,
              handledBy: 'coordinator',
              finishedAt: finishedAt(),
            };
          } else {
            const remote = REMOTE_PHASES[name]!;
            log(`${name}: requested (attempt ${attempt})`);
            const result = await requestPhase(
              nc,
              PhaseRequest.fromPartial({
                runId: state.runId,
                phase: remote.phase,
                attempt,
                runDir: runDirForServices,
                specJson,
                inputs: collectedOutputs(state),
              }),
              {
                timeoutMs: spec.timeouts[remote.timeout] * 1000,
                onProgress: progressPrinter(name, log, opts.progressEveryMs ?? 2000),
                ...(opts.signal === undefined ? {} : { signal: opts.signal }),
              },
            );
            record = {
              status: result.ok ? 'done' : 'failed',
              attempt,
              outputs: result.outputs,
              metrics: result.metrics,
              seconds: result.seconds,
              handledBy: result.handledBy,
              finishedAt: finishedAt(),
              ...(result.ok ? {} : { error: result.error }),
            };
          }
          state = { ...state, phases: { ...state.phases, [name]: record } };
          if (name === 'report') writeFileAtomic(reportPath, renderReport(spec, state, runDir));
          saveState(runDir, state);
          if (record.status === 'failed') {
            throw new PhaseFailedError(
              `${name} failed (attempt ${attempt}, ${record.handledBy}): ${record.error}`,
            );
          }
          if (record.status === 'done') {
            const metrics = Object.entries(record.metrics)
              .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
              .join(' ');
            log(`${name}: done in ${record.seconds.toFixed(1)} s${metrics === '' ? '' : ` (${metrics})`}`);
          }
        }
      } catch (err) {
        runSpan.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        // Even a failed run gets a report of how far it came.
        writeFileAtomic(reportPath, renderReport(spec, state, runDir));
        throw err;
      } finally {
        runSpan.end();
      }
    },
  );
  return { state, reportPath };
}
