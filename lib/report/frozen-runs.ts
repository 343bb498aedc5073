// Runs whose policy stopped changing while fine-tuning: the evaluation return is exactly the same at
// consecutive evaluations although updates run between them. Evaluation episodes start from the same
// seeds each time, so only a deterministic policy whose actions no longer change repeats its return to
// the last digit (seen in session 12: a Hopper actor-only run whose fresh critic drove the pre-trained
// actor to the action bounds within 5k updates, its output layer at 16-43 before the tanh, falling after
// a few steps for the remaining 170k). Such a run is not noise around a mean; the report names it.
import { onlineRows } from './analysis-common.ts';
import { formatCount } from './format.ts';
import type { RunRecord } from './results.ts';

/** A stretch shorter than this (in environment steps) is not reported: a few evaluations can tie by chance. */
export const FROZEN_MIN_STEPS = 25_000;

export interface FrozenStretch {
  /** First and last online step of the longest stretch of identical evaluation returns. */
  from: number;
  to: number;
}

/** The step from which the run's online loop updates its networks (before it, the policy is fixed). */
function updatesFrom(run: RunRecord): number {
  const c = run.config;
  return c.variant === 'scratch' ? (c.startSteps ?? 0) : (c.warmupSteps ?? c.startSteps ?? 0);
}

/** The longest stretch of identical returns after updates began, when at least FROZEN_MIN_STEPS long. */
export function frozenStretch(run: RunRecord): FrozenStretch | null {
  const rows = onlineRows(run).filter((m) => m.step > updatesFrom(run));
  let best: FrozenStretch | null = null;
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    if (i < rows.length && rows[i]!.returnMean === rows[start]!.returnMean) continue;
    const stretch = { from: rows[start]!.step, to: rows[i - 1]!.step };
    if (stretch.to - stretch.from > (best ? best.to - best.from : 0)) best = stretch;
    start = i;
  }
  return best !== null && best.to - best.from >= FROZEN_MIN_STEPS ? best : null;
}

export const formatFrozen = (f: FrozenStretch) => `${formatCount(f.from)}–${formatCount(f.to)}`;

/** One sentence naming the frozen runs (empty when there are none). */
export function describeFrozen(runs: readonly { dir: string; frozen: FrozenStretch | null }[]): string {
  const frozen = runs.filter((r) => r.frozen !== null);
  if (frozen.length === 0) return '';
  const list = frozen.map((r) => `${r.dir} (steps ${formatFrozen(r.frozen!)})`).join('; ');
  return (
    `${frozen.length} run${frozen.length === 1 ? '' : 's'} stopped changing while fine-tuning: the same ` +
    `evaluation return to the last digit for ${formatCount(FROZEN_MIN_STEPS)} steps or more with updates ` +
    `running (a deterministic policy whose actions no longer change, e.g. saturated at the action bounds): ${list}.`
  );
}
