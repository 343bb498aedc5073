// One evaluation row per line in a phase's metrics JSONL (the same fields as `o2o train`'s metrics.jsonl),
// plus a steps/s rate measured between rows.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { normalizedScore, scoreFamily } from '../../lib/data/normalized-score.ts';
import type { EvaluationResult } from '../../lib/rl/evaluate.ts';

export interface MetricsRow {
  phase: 'offline' | 'online' | 'evaluation';
  step: number;
  returnMean: number;
  returnStd: number;
  normalizedScore: number | null;
  criticLoss: number | null;
  q1Mean: number | null;
  stepsPerSecond: number;
}

export class MetricsLog {
  private readonly family: string | undefined;
  private clock = performance.now();
  private clockStep = 0;
  readonly rows: MetricsRow[] = [];

  constructor(
    readonly path: string,
    envId: string,
    append = false,
  ) {
    this.family = scoreFamily(envId);
    if (!append) writeFileSync(path, '');
  }

  score(meanReturn: number): number | null {
    return this.family === undefined ? null : normalizedScore(this.family, meanReturn);
  }

  record(
    phase: MetricsRow['phase'],
    step: number,
    r: EvaluationResult,
    u?: { criticLoss: number; q1Mean: number },
  ): MetricsRow {
    const now = performance.now();
    const rate = ((step - this.clockStep) * 1000) / Math.max(1, now - this.clock);
    this.clock = now;
    this.clockStep = step;
    const row: MetricsRow = {
      phase,
      step,
      returnMean: r.meanReturn,
      returnStd: r.stdReturn,
      normalizedScore: this.score(r.meanReturn),
      criticLoss: u?.criticLoss ?? null,
      q1Mean: u?.q1Mean ?? null,
      stepsPerSecond: rate,
    };
    this.rows.push(row);
    appendFileSync(this.path, `${JSON.stringify(row)}\n`);
    return row;
  }
}

/**
 * Drops the rows after `step` from a metrics file: a learner killed after its last checkpoint may have
 * logged evaluations that the resumed run repeats, and the history must hold each step once. Returns
 * how many rows were dropped (a torn last line counts as one).
 */
export function truncateMetricsAfter(path: string, step: number): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const kept = lines.filter((line) => {
    try {
      const row = JSON.parse(line) as Partial<MetricsRow>;
      return typeof row.step === 'number' && row.step <= step;
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
