// report.md for a run: the spec, every phase's status, timing, handler and metrics, and a summary of the
// trace spans when the services wrote span files into the run's trace directory.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeEnv } from '../../lib/envs/env-options-text.ts';
import { writeFileAtomic } from '../../lib/services/phase-stream.ts';
import { type ExperimentSpec, specFromJson } from '../../lib/services/spec.ts';
import { formatTraceSummary, summarizeTraceFiles } from '../../lib/telemetry/summary.ts';
import { loadState, PHASE_ORDER, type RunState } from './state.ts';

export const REPORT_FILE = 'report.md';
export const TRACE_DIR = 'traces';

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

export function renderReport(spec: ExperimentSpec, state: RunState, runDir: string): string {
  const out: string[] = [];
  out.push(`# Run ${state.runId}: ${spec.name}`, '');
  out.push(
    `${describeEnv(spec.env, spec.envOptions)}, variant ${spec.variant} (pretrain ${spec.pretrain}), seed ${spec.seed}; ` +
      `started ${state.createdAt}.`,
    '',
  );
  out.push('| phase | status | seconds | handled by | metrics |', '| --- | --- | ---: | --- | --- |');
  let total = 0;
  for (const phase of PHASE_ORDER) {
    const rec = state.phases[phase];
    if (rec === undefined) {
      if (phase !== 'report') out.push(`| ${phase} | not run | | | |`);
      continue;
    }
    total += rec.seconds;
    const metrics = Object.entries(rec.metrics)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
    const status = rec.status === 'failed' ? `failed: ${rec.error ?? ''}` : rec.status;
    out.push(`| ${phase} | ${status} | ${rec.seconds.toFixed(1)} | ${rec.handledBy} | ${metrics} |`);
  }
  out.push('', `Phases took ${total.toFixed(1)} s in all.`, '');
  const evaluation = state.phases.evaluation?.metrics;
  if (evaluation?.['return_mean'] !== undefined) {
    out.push(
      `Final evaluation: mean return ${fmt(evaluation['return_mean'])}` +
        (evaluation['normalized_score'] === undefined
          ? ''
          : `, normalized score ${fmt(evaluation['normalized_score'])}`) +
        '.',
      '',
    );
  }
  const traceDir = join(runDir, TRACE_DIR);
  if (existsSync(traceDir) && readdirSync(traceDir).some((f) => f.endsWith('.jsonl'))) {
    try {
      const summary = summarizeTraceFiles(traceDir);
      out.push('## Trace spans', '', '```', formatTraceSummary(summary, 5), '```', '');
    } catch (err) {
      out.push('## Trace spans', '', `could not read ${traceDir}: ${(err as Error).message}`, '');
    }
  }
  out.push('## Spec', '', '```json', JSON.stringify(spec, null, 2), '```', '');
  return out.join('\n');
}

/**
 * Writes the run's report.md again from its saved state, when there is one. The coordinator writes it
 * inside the run's root span, before that span and the services' last spans are exported; once every
 * service has stopped (and flushed), this makes its trace section hold the whole run.
 */
export function rewriteReport(runDir: string): void {
  const path = join(runDir, REPORT_FILE);
  const state = loadState(runDir);
  if (state === undefined || !existsSync(path)) return;
  writeFileAtomic(path, renderReport(specFromJson(state.specJson), state, runDir));
}
