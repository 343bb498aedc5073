// A run's evaluation rows (metrics.jsonl, with metrics.csv beside it) and critic diagnostics
// (critic.jsonl). Rows are appended as they come; on resume the files are rewritten with only the rows
// up to the checkpoint, so a resumed run's files equal an uninterrupted run's.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './fs-atomic.ts';

/**
 * One evaluation row, as `o2o train` has always written it; the learner service writes the same rows,
 * with 'evaluation' for its stand-alone evaluation phase.
 */
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

export const CSV_COLUMNS: (keyof MetricsRow)[] = [
  'phase',
  'step',
  'returnMean',
  'returnStd',
  'normalizedScore',
  'criticLoss',
  'q1Mean',
  'stepsPerSecond',
];

/** A critic diagnostics row: offline rows carry `update`, online rows `step`. */
export type CriticRow = { phase: 'offline'; update: number } | { phase: 'online'; step: number };

export function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const rows: T[] = [];
  for (const [i, line] of readFileSync(path, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as T);
    } catch {
      // A line cut by a kill mid-write: everything after it is unreliable too.
      if (i > 0) break;
    }
  }
  return rows;
}

function jsonl(rows: unknown[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}

function csvLine(row: MetricsRow): string {
  return `${CSV_COLUMNS.map((c) => row[c] ?? '').join(',')}\n`;
}

/** metrics.jsonl + metrics.csv (or just a jsonl when `csv` is undefined). */
export class MetricsLog {
  constructor(
    readonly jsonlPath: string,
    readonly csvPath?: string,
  ) {}

  rows(): MetricsRow[] {
    return readJsonl<MetricsRow>(this.jsonlPath);
  }

  /** Replaces the contents with `rows`. */
  reset(rows: MetricsRow[]): void {
    writeFileAtomic(this.jsonlPath, jsonl(rows));
    if (this.csvPath !== undefined)
      writeFileAtomic(this.csvPath, `${CSV_COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`);
  }

  append(row: MetricsRow): void {
    appendFileSync(this.jsonlPath, jsonl([row]));
    if (this.csvPath !== undefined) appendFileSync(this.csvPath, csvLine(row));
  }
}

export class CriticLog {
  constructor(readonly path: string) {}

  rows(): (CriticRow & Record<string, unknown>)[] {
    return readJsonl(this.path);
  }

  reset(rows: unknown[]): void {
    writeFileAtomic(this.path, jsonl(rows));
  }

  append(row: CriticRow & Record<string, unknown>): void {
    appendFileSync(this.path, jsonl([row]));
  }
}
