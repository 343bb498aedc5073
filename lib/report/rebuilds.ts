// Shared pre-trainings (world models, offline agents) are rebuilt on every fresh clone, since their model
// files are not committed; each rebuild compares itself with the build it replaced and records the result
// in its marker (lib/experiment/rebuild-check.ts). This collects those records: the report's evidence
// that the committed results reproduce from their seeds on another clone.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { describePlatforms, platformChange } from '../experiment/build-platform.ts';
import { findDirsHolding, readJsonFile } from './results.ts';

const MARKERS = [
  { file: 'world-model.json', stage: 'world model' },
  { file: 'offline.json', stage: 'offline pre-training' },
] as const;

const platformSchema = z.object({ gemm: z.string(), cpu: z.string(), node: z.string() });

const markerSchema = z
  .object({
    platform: platformSchema.optional(),
    rebuild: z
      .object({
        previousFinishedAt: z.string().min(1),
        previousPlatform: platformSchema.optional(),
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
  /** Whether the two builds ran on the same GEMM kernels and Node.js ('unknown': a marker does not say). */
  platformChange: 'same' | 'changed' | 'unknown';
  /** What each build ran on, in words. */
  platforms: string;
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
      const marker = readJsonFile(markerSchema, path);
      const r = marker.rebuild;
      if (r === undefined) continue;
      rows.push({
        entry: relative(root, dir) || '.',
        stage,
        previousFinishedAt: r.previousFinishedAt,
        identical: r.identical,
        compared: r.compared,
        firstDifference: r.firstDifference ?? null,
        platformChange: platformChange(r.previousPlatform, marker.platform),
        platforms: describePlatforms(r.previousPlatform, marker.platform),
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
  if (differing === 0) {
    return `${what} All identical (evaluation returns, critic diagnostics and world-model errors; timings aside).`;
  }
  return `${what} ${differing} of them ${differing === 1 ? 'differs' : 'differ'} (listed below); the rest are identical. ${describeDifferingPlatforms(rows)}`;
}

/**
 * Why rebuilds may differ: the same code and seed give bit-identical results only on the same GEMM kernels,
 * so the differing ones are counted by whether their kernels changed, as far as the markers say.
 */
function describeDifferingPlatforms(rows: readonly RebuildRow[]): string {
  const differing = rows.filter((r) => !r.identical);
  const n = (change: RebuildRow['platformChange']) =>
    differing.filter((r) => r.platformChange === change).length;
  const parts = [
    n('changed') > 0
      ? `${n('changed')} ran on other GEMM kernels or another Node.js than the build they replaced`
      : '',
    n('same') > 0 ? `${n('same')} on the same ones` : '',
    n('unknown') > 0
      ? `${n('unknown')} replaced a build whose marker does not record its kernels (older markers do not)`
      : '',
  ].filter((p) => p !== '');
  return `Of those that differ: ${parts.join('; ')}. Floating-point sums depend on the kernels' order of operations, and a training run carries the smallest difference on.`;
}
