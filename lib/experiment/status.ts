// `o2o experiment status`: per env / dataset / variant, how many seeds are done, running, started
// (resumable), waiting, blocked or failed, with the reasons for blocked and failed runs; then each priority
// tier's progress and, from the stage times of finished runs, the core time it still needs.
import type { GridRun } from './grid.ts';
import { describeTierEstimate, runCount, type TierEstimate } from './run-estimate.ts';
import { type RunState, type RunStateKind, runState } from './run-state.ts';

export interface StatusRow {
  /** The priority tier of the row's runs (the lowest, should they differ). */
  tier: number;
  env: string;
  dataset: string;
  variant: string;
  counts: Record<RunStateKind, number>;
  /** Distinct reasons (blocked) and messages (failed). */
  notes: string[];
}

const KINDS: RunStateKind[] = ['done', 'running', 'started', 'waiting', 'blocked', 'failed'];

export function gridStatus(runs: GridRun[], stateOf: (run: GridRun) => RunState = runState): StatusRow[] {
  const rows = new Map<string, StatusRow>();
  for (const run of runs) {
    const key = `${run.env}\u0000${run.datasetLabel}\u0000${run.variantLabel}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = {
        tier: run.tier,
        env: run.env,
        dataset: run.datasetLabel,
        variant: run.variantLabel,
        counts: { done: 0, running: 0, started: 0, waiting: 0, blocked: 0, failed: 0 },
        notes: [],
      };
      rows.set(key, row);
    }
    row.tier = Math.min(row.tier, run.tier);
    const state = stateOf(run);
    row.counts[state.kind]++;
    if ((state.kind === 'blocked' || state.kind === 'failed') && !row.notes.includes(state.detail)) {
      row.notes.push(state.kind === 'failed' ? `seed ${run.seed} failed: ${state.detail}` : state.detail);
    }
    // How far a resumable run got (its checkpoints).
    if (state.kind === 'started' && state.detail !== '') row.notes.push(`seed ${run.seed}: ${state.detail}`);
  }
  return [...rows.values()];
}

/** `estimates`: the core time each tier's unfinished runs need (estimateTiers); tiers without one say nothing. */
export function formatStatus(rows: StatusRow[], estimates: readonly TierEstimate[] = []): string {
  const header = ['env', 'dataset', 'variant', ...KINDS, 'notes'];
  const table = rows.map((r) => [
    r.env,
    r.dataset,
    r.variant,
    ...KINDS.map((k) => (r.counts[k] === 0 ? '.' : String(r.counts[k]))),
    r.notes.join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const count = (of: StatusRow[], k: RunStateKind) => of.reduce((n, r) => n + r.counts[k], 0);
  const totals = KINDS.map((k) => `${count(rows, k)} ${k}`).join(', ');
  // Per tier: how far it is, and what else its runs are doing (only the kinds that occur).
  const tiers = [...new Set(rows.map((r) => r.tier))]
    .sort((a, b) => a - b)
    .map((t) => {
      const of = rows.filter((r) => r.tier === t);
      const all = KINDS.reduce((n, k) => n + count(of, k), 0);
      const rest = KINDS.filter((k) => k !== 'done' && count(of, k) > 0).map((k) => `${count(of, k)} ${k}`);
      const estimate = estimates.find((e) => e.tier === t && e.runs > 0);
      const left = estimate === undefined ? '' : `; core time left: ${describeTierEstimate(estimate)}`;
      return `tier ${t}: ${count(of, 'done')} of ${all} done${rest.length > 0 ? ` (${rest.join(', ')})` : ''}${left}`;
    });
  const seconds = estimates.reduce((s, e) => s + e.seconds, 0);
  const untimed = estimates.reduce((n, e) => n + e.unknown, 0);
  const overall =
    seconds > 0 || untimed > 0
      ? [
          `core time left: ~${(seconds / 3600).toFixed(1)} h${untimed > 0 ? ` + ${runCount(untimed)} never timed` : ''}`,
        ]
      : [];
  return [line(header), ...table.map(line), '', ...tiers, `total: ${totals}`, ...overall].join('\n');
}
