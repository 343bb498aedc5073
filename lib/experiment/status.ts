// `o2o experiment status`: per env / dataset / variant, how many seeds are done, running, started
// (resumable), waiting, blocked or failed, with the reasons for blocked and failed runs.
import type { GridRun } from './grid.ts';
import { type RunState, type RunStateKind, runState } from './run-state.ts';

export interface StatusRow {
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
        env: run.env,
        dataset: run.datasetLabel,
        variant: run.variantLabel,
        counts: { done: 0, running: 0, started: 0, waiting: 0, blocked: 0, failed: 0 },
        notes: [],
      };
      rows.set(key, row);
    }
    const state = stateOf(run);
    row.counts[state.kind]++;
    if ((state.kind === 'blocked' || state.kind === 'failed') && !row.notes.includes(state.detail)) {
      row.notes.push(state.kind === 'failed' ? `seed ${run.seed} failed: ${state.detail}` : state.detail);
    }
  }
  return [...rows.values()];
}

export function formatStatus(rows: StatusRow[]): string {
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
  const totals = KINDS.map((k) => `${rows.reduce((n, r) => n + r.counts[k], 0)} ${k}`).join(', ');
  return [line(header), ...table.map(line), '', `total: ${totals}`].join('\n');
}
