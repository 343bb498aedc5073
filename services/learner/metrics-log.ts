// One evaluation row per line in a phase's metrics JSONL (the same fields as `o2o train`'s metrics.jsonl),
// plus a steps/s rate measured between rows.
import { appendFileSync, writeFileSync } from 'node:fs';
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
