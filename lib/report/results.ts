// Reads a results tree (`results/<env>/<dataset>/<variant>/seed-<s>/`, and shared offline pre-training
// under `_pretrained/`) into typed records. Every field comes from the files' contents (config.json,
// metrics.jsonl, critic.jsonl, done.json), never from directory names, which only say where to look.
// Unknown extra fields are tolerated; a malformed file fails with its path and the field that was wrong.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const datasetSchema = z
  .object({
    /** Null when the grid could not tell the kind; the label then falls back to the file name. */
    kind: z.string().min(1).nullable().optional(),
    /** Subset size; null means the whole file. */
    transitions: count.nullable().optional(),
    by: z.string().nullable().optional(),
    subsetSeed: count.nullable().optional(),
    file: z.string().optional(),
    source: z.string().optional(),
    sha256: z.string().nullable().optional(),
  })
  .passthrough();

const tagsSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((t) => (typeof t === 'string' ? [t] : t))
  .optional();

export const runConfigSchema = z
  .object({
    env: z.string().min(1),
    dataset: datasetSchema.nullable().optional(),
    variant: z.enum(['scratch', 'td3bc', 'td3bc-aug']),
    pretrain: z.enum(['both', 'actor', 'critic']).nullable().optional(),
    augFraction: z.number().min(0).max(1).nullable().optional(),
    /** The augmenting world model; absent: the paper's VAE. */
    worldModel: z.enum(['vae', 'linear', 'copy']).optional(),
    /** LayerNorm in the critics' hidden layers (not the paper's); absent: without. */
    criticLayerNorm: z.boolean().optional(),
    /** Options the env was built with (lib/envs names); absent: Gymnasium v5's defaults. */
    envOptions: z.record(z.string(), z.unknown()).optional(),
    offlineSteps: count.nullable().optional(),
    onlineSteps: count,
    startSteps: count.nullable().optional(),
    warmupSteps: count.nullable().optional(),
    wmEpochs: count.nullable().optional(),
    evalEvery: count.nullable().optional(),
    evalEpisodes: count.nullable().optional(),
    seed: count,
    groups: tagsSchema,
    tags: tagsSchema,
    group: tagsSchema,
    commit: z.string().optional(),
  })
  .passthrough();

export type RunConfig = z.output<typeof runConfigSchema>;

const distributionSchema = z.object({ mean: z.number(), p05: z.number(), p50: z.number(), p95: z.number() });
const vsReturnsSchema = z
  .object({
    samples: count,
    q: distributionSchema,
    monteCarlo: distributionSchema,
    overestimation: distributionSchema,
  })
  .passthrough();

const metricsRowSchema = z
  .object({
    phase: z.enum(['offline', 'online']),
    step: count,
    returnMean: z.number(),
    returnStd: z.number().optional(),
    normalizedScore: z.number().nullable().optional(),
  })
  .passthrough();

export type MetricsRow = z.output<typeof metricsRowSchema>;

const heldOutSplitSchema = z.object({
  eligible: count,
  vsReturns: z
    .object({
      samples: count,
      monteCarlo: z.object({ mean: z.number() }).passthrough(),
      overestimation: z.object({ mean: z.number() }).passthrough(),
    })
    .passthrough()
    .nullable(),
  meanAbsError: z.number().min(0).nullable(),
});

const heldOutCriticSchema = z
  .object({ train: heldOutSplitSchema, heldOut: heldOutSplitSchema })
  .passthrough();

const criticRowSchema = z.union([
  z
    .object({
      phase: z.literal('offline'),
      update: count,
      vsReturns: vsReturnsSchema.nullable().optional(),
      targetShift: z
        .object({ qDifference: distributionSchema, predictionError: distributionSchema })
        .passthrough()
        .nullable()
        .optional(),
      /** The held-out check at this update (pre-trainings since it was logged). */
      heldOut: heldOutCriticSchema.nullable().optional(),
    })
    .passthrough(),
  z
    .object({
      phase: z.literal('online'),
      step: count,
      onPolicy: vsReturnsSchema.nullable().optional(),
      vsReturns: vsReturnsSchema.nullable().optional(),
    })
    .passthrough(),
]);

export type CriticRow = z.output<typeof criticRowSchema>;

const doneSchema = z
  .object({
    finishedAt: z.string().optional(),
    seconds: z.number().optional(),
    /** Null when the run had no online evaluation (the grid's offline-only runs). */
    finalReturn: z.number().nullable(),
    finalNormalizedScore: z.number().nullable().optional(),
  })
  .passthrough();

export type Done = z.output<typeof doneSchema>;

export interface RunRecord {
  /** Directory relative to the results root (for messages and the report's run list). */
  dir: string;
  config: RunConfig;
  /** Tags from `groups` / `tags` / `group`, deduplicated and sorted. */
  tags: string[];
  metrics: MetricsRow[];
  critic: CriticRow[];
  done: Done | null;
  /** True for shared offline pre-training (no online phase): read by the critic analysis only. */
  offlineOnly: boolean;
  /** A shared pre-training's critic-held-out.json (o2o experiment critic-check), when it has one. */
  heldOutCritic?: HeldOutCritic;
}

export type HeldOutCritic = z.output<typeof heldOutCriticSchema>;

export class ResultsError extends Error {}

function parseJson(path: string, text: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const where = line === undefined ? path : `${path}:${line}`;
    throw new ResultsError(`${where}: not valid JSON (${(err as Error).message})`);
  }
}

function check<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ResultsError(`${where}: ${problems.join('; ')}`);
}

function readJsonl<T extends z.ZodType>(path: string, schema: T): z.output<T>[] {
  if (!existsSync(path)) return [];
  const rows: z.output<T>[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    // A run killed mid-write can leave a partial last line: skip it rather than reject the run.
    if (i === lines.length - 1 && !line.trimEnd().endsWith('}')) return;
    rows.push(check(schema, parseJson(path, line, i + 1), `${path}:${i + 1}`));
  });
  return rows;
}

/**
 * The grid's shared offline pre-training (`_pretrained/<entry>/`) has no config.json but a marker,
 * offline.json, whose `key` holds the settings it was built with; a done pre-training has the marker.
 */
const offlineMarkerSchema = z
  .object({
    key: z
      .object({
        env: z.string().min(1),
        dataset: datasetSchema.nullable(),
        seed: count,
        augFraction: z.number().min(0).max(1),
        offlineSteps: count,
        wmEpochs: count.nullable().optional(),
        evalEvery: count.optional(),
        evalEpisodes: count.optional(),
      })
      .passthrough(),
  })
  .passthrough();

function readOfflineEntry(root: string, dir: string): RunRecord {
  const markerPath = join(dir, 'offline.json');
  const heldOutPath = join(dir, 'critic-held-out.json');
  const { key } = check(
    offlineMarkerSchema,
    parseJson(markerPath, readFileSync(markerPath, 'utf8')),
    markerPath,
  );
  const config = check(
    runConfigSchema,
    {
      ...key,
      variant: key.augFraction > 0 ? 'td3bc-aug' : 'td3bc',
      pretrain: 'both',
      onlineSteps: 0,
    },
    markerPath,
  );
  return {
    dir: relative(root, dir) || '.',
    config,
    tags: [],
    metrics: readJsonl(join(dir, 'metrics.jsonl'), metricsRowSchema),
    critic: readJsonl(join(dir, 'critic.jsonl'), criticRowSchema),
    done: null,
    offlineOnly: true,
    ...(existsSync(heldOutPath) ? { heldOutCritic: readJsonFile(heldOutCriticSchema, heldOutPath) } : {}),
  };
}

/** A JSON file checked against `schema`; errors name the file and the field. */
export function readJsonFile<T extends z.ZodType>(schema: T, path: string): z.output<T> {
  return check(schema, parseJson(path, readFileSync(path, 'utf8')), path);
}

/** Every directory under `root` holding one of `files`, in sorted order (checkpoints never looked into). */
export function findDirsHolding(root: string, files: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir).sort();
    if (files.some((f) => entries.includes(f))) found.push(dir);
    for (const name of entries) {
      // Checkpoint folders hold large binaries and segment pointers, never a run.
      if (name.startsWith('.') || name === 'checkpoints') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return found;
}

export function readRun(root: string, dir: string): RunRecord {
  if (!existsSync(join(dir, 'config.json'))) return readOfflineEntry(root, dir);
  const configPath = join(dir, 'config.json');
  const config = check(runConfigSchema, parseJson(configPath, readFileSync(configPath, 'utf8')), configPath);
  const donePath = join(dir, 'done.json');
  const done = existsSync(donePath)
    ? check(doneSchema, parseJson(donePath, readFileSync(donePath, 'utf8')), donePath)
    : null;
  const tags = [
    ...new Set([...(config.groups ?? []), ...(config.tags ?? []), ...(config.group ?? [])]),
  ].sort();
  return {
    dir: relative(root, dir) || '.',
    config,
    tags,
    metrics: readJsonl(join(dir, 'metrics.jsonl'), metricsRowSchema),
    critic: readJsonl(join(dir, 'critic.jsonl'), criticRowSchema),
    done,
    // A run without an online phase only adds an offline pre-training (critic analysis, offline curve).
    offlineOnly: config.onlineSteps === 0 && config.variant !== 'scratch',
  };
}

/** All runs under `root`, sorted by directory. */
export function readResults(root: string): RunRecord[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ResultsError(`results directory ${root} does not exist`);
  }
  return findDirsHolding(root, ['config.json', 'offline.json']).map((dir) => readRun(root, dir));
}
