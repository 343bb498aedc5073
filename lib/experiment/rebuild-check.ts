// A shared cache entry (world model, offline pre-training) is built again on every fresh clone, because
// its model files are not committed while its marker and rows are. Same key, seed and code should give
// the same entry; this compares the rebuilt entry's rows with the previous build's, so a difference (other
// code, another BLAS kernel) is reported and recorded in the marker instead of showing only in `git diff`.

import { type BuildPlatform, describePlatforms } from './build-platform.ts';

/** What the marker of a rebuilt entry records about the build it replaced. */
export interface RebuildCheck {
  /** finishedAt of the build it replaced. */
  previousFinishedAt: string;
  /** What the build it replaced ran on, when its marker says (markers before session 33 do not). */
  previousPlatform?: BuildPlatform;
  identical: boolean;
  /** What was compared, e.g. "20 metrics rows, 20 critic rows". */
  compared: string;
  /** The first difference, when not identical. */
  firstDifference?: string;
}

/** Fields that measure the machine, not the result (timings). */
const TIMING_FIELDS = new Set(['stepsPerSecond']);

/** A metrics or critic row (any JSON object). */
type Row = object;

/**
 * The row as compared: timings left out, and fields the previous build did not log (diagnostics added
 * since) too, so an entry built before a new diagnostic still checks as identical when its results are.
 */
function compared(row: Row, previous: Row): string {
  const fields = row as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const k of Object.keys(previous)) if (!TIMING_FIELDS.has(k)) kept[k] = fields[k];
  return JSON.stringify(kept);
}

function rowLabel(row: Row | undefined, index: number): string {
  const fields = row as Record<string, unknown> | undefined;
  const at = fields?.['step'] ?? fields?.['update'];
  return typeof at === 'number' ? `at ${at}` : `#${index + 1}`;
}

/** The first field that differs between two rows, as "field a → b". */
function fieldDifference(before: Row, after: Row): string {
  const x = before as Record<string, unknown>;
  const y = after as Record<string, unknown>;
  for (const k of Object.keys(x)) {
    if (TIMING_FIELDS.has(k)) continue;
    const a = JSON.stringify(x[k]);
    const b = JSON.stringify(y[k]);
    if (a !== b) return `${k} ${abbreviate(a)} → ${abbreviate(b)}`;
  }
  // Unreached: compared() differs only where some field of the previous row does.
  return 'a field';
}

function abbreviate(json: string | undefined): string {
  if (json === undefined) return 'absent';
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** A whole report line (they are short), quoted; absent past the end. */
function quoted(line: string | undefined): string {
  return line === undefined ? 'absent' : JSON.stringify(line);
}

/** The first difference between two row lists (timings ignored), or undefined when they are equal. */
export function firstRowDifference(
  name: string,
  before: readonly Row[],
  after: readonly Row[],
): string | undefined {
  const n = Math.max(before.length, after.length);
  for (let i = 0; i < n; i++) {
    const a = before[i];
    const b = after[i];
    if (a === undefined || b === undefined) {
      return `${name}: ${before.length} rows before, ${after.length} now`;
    }
    if (compared(a, a) !== compared(b, a)) {
      return `${name} row ${rowLabel(a, i)}: ${fieldDifference(a, b)}`;
    }
  }
  return undefined;
}

/** Compares named row lists of a rebuilt entry with the previous build's. */
export function checkRebuiltRows(
  previousFinishedAt: string,
  lists: { name: string; before: readonly Row[]; after: readonly Row[] }[],
): RebuildCheck {
  const compared = lists.map((l) => `${l.before.length} ${l.name} rows`).join(', ');
  for (const l of lists) {
    const difference = firstRowDifference(l.name, l.before, l.after);
    if (difference !== undefined) {
      return { previousFinishedAt, identical: false, compared, firstDifference: difference };
    }
  }
  return { previousFinishedAt, identical: true, compared };
}

/** Compares a rebuilt entry's text report with the previous build's, line by line. */
export function checkRebuiltText(
  previousFinishedAt: string,
  name: string,
  before: string,
  after: string,
): RebuildCheck {
  const a = before.trimEnd().split('\n');
  const b = after.trimEnd().split('\n');
  const compared = `${name} (${a.length} lines)`;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return {
        previousFinishedAt,
        identical: false,
        compared,
        firstDifference: `${name} line ${i + 1}: ${quoted(a[i])} → ${quoted(b[i])}`,
      };
    }
  }
  return { previousFinishedAt, identical: true, compared };
}

/** The check with what the replaced build ran on, when its marker recorded it. */
export function withPreviousPlatform(check: RebuildCheck, previous: BuildPlatform | undefined): RebuildCheck {
  return previous === undefined ? check : { ...check, previousPlatform: previous };
}

/** The log line for a check: plain when identical, a warning naming the difference otherwise. */
export function describeRebuildCheck(stage: string, check: RebuildCheck, platform?: BuildPlatform): string {
  if (check.identical) {
    return `[${stage}] rebuilt identically: ${check.compared}, the same as in the previous build (${check.previousFinishedAt})`;
  }
  return (
    `[${stage}] WARNING: the rebuilt entry differs from the previous build (${check.previousFinishedAt}; ` +
    `${describePlatforms(check.previousPlatform, platform)}): ${check.firstDifference}. Runs that used the previous build ` +
    'keep their own copy of its rows; the marker records the difference'
  );
}
