// Turns an evaluation into the metrics row `o2o train` writes (with the D4RL-normalised score and the
// steps/s since the previous evaluation) and prints the line it always printed.
import { normalizedScore, scoreFamily } from '../data/normalized-score.ts';
import type { EvaluationResult } from '../rl/evaluate.ts';
import type { MetricsRow } from './run-log.ts';

export class EvalRecorder {
  private readonly family: string | undefined;
  private clock = performance.now();
  private clockStep = 0;
  /** "last eval <return>", for progress lines. */
  lastEval = '';

  constructor(envId: string) {
    this.family = scoreFamily(envId);
  }

  /** The D4RL-normalised score of a mean return, or null for an environment without reference returns. */
  score(meanReturn: number): number | null {
    return this.family === undefined ? null : normalizedScore(this.family, meanReturn);
  }

  /** Restarts the steps/s clock (a new stage, or a resumed one at `step`). */
  restart(step = 0): void {
    this.clock = performance.now();
    this.clockStep = step;
  }

  row(
    phase: MetricsRow['phase'],
    step: number,
    r: EvaluationResult,
    u: { criticLoss: number; q1Mean: number } | undefined,
  ): MetricsRow {
    const now = performance.now();
    const rate = ((step - this.clockStep) * 1000) / Math.max(1, now - this.clock);
    this.restart(step);
    this.lastEval = `last eval ${r.meanReturn.toFixed(1)}`;
    return {
      phase,
      step,
      returnMean: r.meanReturn,
      returnStd: r.stdReturn,
      normalizedScore: this.score(r.meanReturn),
      criticLoss: u?.criticLoss ?? null,
      q1Mean: u?.q1Mean ?? null,
      stepsPerSecond: rate,
    };
  }

  static describe(row: MetricsRow): string {
    const score = row.normalizedScore === null ? '' : `  score ${row.normalizedScore.toFixed(1)}`;
    return `[${row.phase}] ${String(row.step).padStart(7)}  return ${row.returnMean.toFixed(1)} ± ${row.returnStd.toFixed(1)}${score}  ${row.stepsPerSecond.toFixed(0)}/s`;
  }
}

/** Keeps only the logged `update` / `step` up to `upTo` (what a checkpoint at `upTo` had seen). */
export function upTo<T extends { step?: number; update?: number }>(rows: T[], limit: number): T[] {
  return rows.filter((r) => (r.step ?? r.update ?? 0) <= limit);
}
