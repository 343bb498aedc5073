// The offline data of a run: a dataset file, optionally cut to a seeded subset, and the file's sha256
// from its committed manifest (datasets/<env>/<kind>.json next to <kind>.hdf5).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { describeColumns, type OfflineDataset } from '../data/dataset.ts';
import { DatasetError } from '../data/errors.ts';
import { loadDataset } from '../data/load.ts';
import { subsetDataset, subsetRows } from '../data/subset.ts';
import { checkRewritable, rewriteTransitions } from '../envs/derive-transitions.ts';
import { describeEnv, sameEnvOptions } from '../envs/env-options-text.ts';
import { readJsonIfExists } from './fs-atomic.ts';
import type { DatasetSource } from './run-config.ts';

/** The manifest next to a dataset file, if there is one. */
export function manifestPath(file: string): string {
  return file.replace(/\.hdf5$/, '') + '.json';
}

/** The fields of a manifest (scripts/make-datasets.sh) that runs use. */
const manifestSchema = z.object({
  sha256: z.string().optional(),
  metadata: z.object({ envOptions: z.record(z.string(), z.unknown()).optional() }).optional(),
});

/** The dataset's manifest, or undefined without a (complete, readable) one. */
export function readManifest(file: string): z.infer<typeof manifestSchema> | undefined {
  const path = manifestPath(file);
  if (path === file) return undefined;
  try {
    const parsed = manifestSchema.safeParse(readJsonIfExists(path));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Being written right now (scripts/make-datasets.sh writes it just after the data file).
    return undefined;
  }
}

/** The sha256 recorded in the dataset's manifest, or null without a (complete, readable) manifest. */
export function manifestSha256(file: string): string | null {
  return readManifest(file)?.sha256 ?? null;
}

/** A subset's whole source and the source rows it kept: what the critic's held-out check compares. */
export interface SubsetOrigin {
  source: OfflineDataset;
  rows: Uint32Array;
}

/**
 * Throws a DatasetError naming `file` unless rows recorded on `recordedOn` (undefined: the defaults) can
 * serve `envId` with `envOptions`: recorded on those very options, or on the defaults and rewritable for
 * them (lib/envs/derive-transitions.ts).
 */
export function checkServesEnvOptions(
  recordedOn: Record<string, unknown> | undefined,
  envId: string,
  envOptions: Record<string, unknown> | undefined,
  file: string,
): void {
  if (sameEnvOptions(recordedOn, envOptions)) return;
  const mismatch = `recorded on ${describeEnv(envId, recordedOn)}, but the run is on ${describeEnv(envId, envOptions)}`;
  if (!sameEnvOptions(recordedOn, undefined))
    throw new DatasetError(
      'env-options',
      { file },
      `${mismatch}; only rows recorded on the default options can be rewritten`,
    );
  try {
    checkRewritable(envId, envOptions ?? {}, mismatch);
  } catch (err) {
    throw new DatasetError('env-options', { file }, (err as Error).message);
  }
}

/**
 * The dataset (read from `file`) as the env with `envOptions` records it: as it is when it was recorded on
 * those options (metadata.envOptions; none: the defaults), rewritten (lib/envs/derive-transitions.ts) when
 * it was recorded on the defaults. Rows that cannot serve the options are a DatasetError naming the file.
 */
export function datasetForEnvOptions(
  dataset: OfflineDataset,
  envId: string,
  envOptions: Record<string, unknown> | undefined,
  file: string,
): OfflineDataset {
  const recordedOn = dataset.metadata.envOptions;
  checkServesEnvOptions(recordedOn, envId, envOptions, file);
  if (sameEnvOptions(recordedOn, envOptions)) return dataset;
  const rewritten = {
    ...dataset,
    ...rewriteTransitions(envId, envOptions ?? {}, dataset, `dataset ${file}`),
  };
  // Same provenance; counts, returns and checksum are the rewritten rows'.
  return { ...rewritten, metadata: describeColumns(rewritten, { ...dataset.metadata, envOptions }) };
}

/**
 * A run's offline data, rewritten for the run's env options if it has any, and for a subset also where it
 * came from (`origin`).
 */
export async function loadRunDataset(
  source: DatasetSource,
  envId: string,
  envOptions?: Record<string, unknown>,
): Promise<{ dataset: OfflineDataset; origin?: SubsetOrigin }> {
  if (!existsSync(source.file)) throw new Error(`dataset ${source.file} does not exist`);
  const loaded = await loadDataset(source.file, { envId });
  const dataset = datasetForEnvOptions(loaded.dataset, envId, envOptions, source.file);
  if (source.transitions === null) return { dataset };
  const options = {
    count: source.transitions,
    mode: source.by ?? 'transition',
    seed: source.subsetSeed ?? 0,
  };
  return {
    dataset: subsetDataset(dataset, options, source.file),
    origin: { source: dataset, rows: subsetRows(dataset, options, source.file) },
  };
}
