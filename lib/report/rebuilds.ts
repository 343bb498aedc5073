// Shared pre-trainings (world models, offline agents) are rebuilt on every fresh clone, since their model
// files are not committed; each rebuild compares itself with the build it replaced and records the result
// in its marker (lib/experiment/rebuild-check.ts). This collects those records: the report's evidence
// that the committed results reproduce from their seeds on another clone.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { findDirsHolding, readJsonFile } from './results.ts';

const MARKERS = [
  { file: 'world-model.json', stage: 'world model' },
  { file: 'offline.json', stage: 'offline pre-training' },
] as const;

const markerSchema = z
  .object({
    rebuild: z
      .object({
        previousFinishedAt: z.string().min(1),
        identical: z.boolean(),
        compared: z.string().min(1),
        firstDifference: z.string().optional(),
      })
      .optional(),
  })
  .passthrough();

export interface RebuildRow {
  /** The entry's directory, relative to the results root. */
  entry: string;
  stage: (typeof MARKERS)[number]['stage'];
  previousFinishedAt: string;
  identical: boolean;
  compared: string;
  firstDifference: string | null;
}

/** Every marker under `root` that records a rebuild, in directory order. */
export function readRebuildChecks(root: string): RebuildRow[] {
  const rows: RebuildRow[] = [];
  for (const dir of findDirsHolding(
    root,
    MARKERS.map((m) => m.file),
  )) {
    for (const { file, stage } of MARKERS) {
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      const r = readJsonFile(markerSchema, path).rebuild;
      if (r === undefined) continue;
      rows.push({
        entry: relative(root, dir) || '.',
        stage,
        previousFinishedAt: r.previousFinishedAt,
        identical: r.identical,
        compared: r.compared,
        firstDifference: r.firstDifference ?? null,
      });
    }
  }
  return rows;
}

/** One sentence for the summary and the page. */
export function describeRebuilds(rows: readonly RebuildRow[]): string {
  if (rows.length === 0) {
    return 'No shared pre-training in these results records a rebuild compared with an earlier build yet.';
  }
  const count = (stage: RebuildRow['stage']) => {
    const n = rows.filter((r) => r.stage === stage).length;
    return `${n} ${stage}${n === 1 ? '' : 's'}`;
  };
  const differing = rows.filter((r) => !r.identical).length;
  const what = `Rebuilt on a fresh clone from the same seeds and compared with the build each replaced: ${count('offline pre-training')}, ${count('world model')}.`;
  return differing === 0
    ? `${what} All identical (evaluation returns, critic diagnostics and world-model errors; timings aside).`
    : `${what} ${differing} of them ${differing === 1 ? 'differs' : 'differ'} (listed below); the rest are identical.`;
}
