// A learner phase's metrics JSONL: the rows `o2o train` writes (lib/experiment), kept in memory too.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { EvalRecorder } from '../../lib/experiment/eval-recorder.ts';
import { MetricsLog as MetricsFile, type MetricsRow } from '../../lib/experiment/run-log.ts';
import type { EvaluationResult } from '../../lib/rl/evaluate.ts';

export type { MetricsRow };

export class MetricsLog {
  private readonly recorder: EvalRecorder;
  private readonly file: MetricsFile;
  readonly rows: MetricsRow[] = [];

  constructor(
    readonly path: string,
    envId: string,
    append = false,
  ) {
    this.recorder = new EvalRecorder(envId);
    this.file = new MetricsFile(path);
    if (!append) writeFileSync(path, '');
  }

  score(meanReturn: number): number | null {
    return this.recorder.score(meanReturn);
  }

  record(
    phase: MetricsRow['phase'],
    step: number,
    r: EvaluationResult,
    u?: { criticLoss: number; q1Mean: number },
  ): MetricsRow {
    const row = this.recorder.row(phase, step, r, u);
    this.rows.push(row);
    this.file.append(row);
    return row;
  }
}

/**
 * Drops the rows after `step` from a metrics (or critic) log, whose rows count in `key`: a learner killed
 * after its last checkpoint may have logged evaluations that the resumed run repeats, and the history must
 * hold each step once. Returns how many rows were dropped (a torn last line counts as one).
 */
export function truncateMetricsAfter(path: string, step: number, key: 'step' | 'update' = 'step'): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const kept = lines.filter((line) => {
    try {
      const at = (JSON.parse(line) as Record<string, unknown>)[key];
      return typeof at === 'number' && at <= step;
    } catch {
      return false;
    }
  });
  if (kept.length === lines.length) return 0;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''));
  renameSync(tmp, path);
  return lines.length - kept.length;
}

/** Measures a rate of events per second between calls of `sample`. */
export class RateMeter {
  private at = performance.now();
  private count = 0;
  sample(count: number): number {
    const now = performance.now();
    const rate = ((count - this.count) * 1000) / Math.max(1, now - this.at);
    this.at = now;
    this.count = count;
    return rate;
  }
}
