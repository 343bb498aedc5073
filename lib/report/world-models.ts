// How good the world models behind the augmentation are: each world-model build writes its held-out
// one-step error next to two baselines (copy the state; linear least squares on [s, a, 1]) in
// world-model-report.txt (lib/world-model/baselines.ts). This reads those tables and summarises, per env ×
// dataset, each predictor's error relative to copying the state (1 = no better than s′ = s), IQM over seeds.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { hashSeed, type ReportSettings, roundInterval } from './analysis-common.ts';
import { datasetLabel, describeEnvOptions, taskEnv } from './groups.ts';
import { datasetSchema, findDirsHolding, ResultsError, readJsonFile, runConfigSchema } from './results.ts';
import { type Interval, iqmInterval } from './stats.ts';

const REPORT_FILE = 'world-model-report.txt';

/** What the table shows, for the page and the summary. */
export const WORLD_MODEL_NOTE =
  'Each world model is scored on the held-out part of its own small dataset, against copying the state and ' +
  'against a least-squares linear model fitted on the same training rows. The augmentation replaces next ' +
  'states with the sampled-latent predictions (the last column), so this is how far its substitutes are ' +
  'from the real next states.';

/** The predictors a held-out report lists, in its order; the model's own implementation name varies. */
export const WORLD_MODEL_PREDICTORS = [
  { id: 'copy', label: 'copy state (s′ = s)', matches: (n: string) => n === 'copy state (s′ = s)' },
  {
    id: 'linear',
    label: 'linear least squares [s, a, 1]',
    matches: (n: string) => n === 'linear least squares [s, a, 1]',
  },
  {
    id: 'deterministic',
    label: 'world model, mean prediction',
    matches: (n: string) => /^world model \S+, deterministic$/.test(n),
  },
  {
    id: 'stochastic',
    label: 'world model as it augments (VAE: sampled latent)',
    matches: (n: string) => /^world model \S+, stochastic$/.test(n),
  },
] as const;

export type PredictorId = (typeof WORLD_MODEL_PREDICTORS)[number]['id'];

export interface HeldOutRow {
  predictor: PredictorId;
  /** Mean squared error on states standardised with the training split's statistics. */
  mseStandardised: number;
  /** That error over the copy-state baseline's. */
  vsCopy: number;
}

export interface WorldModelReport {
  /** The entry's directory, relative to the results root. */
  entry: string;
  /** The model's implementation as its rows name it (vae-native, linear-lsq, ...). */
  implementation: string;
  env: string;
  dataset: string;
  seed: number;
  rows: HeldOutRow[];
}

const ROW = /^(.+?)\s{2,}(\S+)\s+(\S+)\s+(\S+)$/;
const MODEL_ROW = /^world model (\S+), /;

/** Parses one held-out report; a line that is not the expected table fails with its file and line. */
export function parseHeldOutReport(path: string, text: string): HeldOutRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const fail = (line: number, what: string): never => {
    throw new ResultsError(`${path}:${line}: ${what}`);
  };
  if (!/^predictor\s+MSE raw\s+MSE std\.\s+vs copy$/.test(lines[0] ?? '')) {
    fail(1, 'expected the header "predictor  MSE raw  MSE std.  vs copy"');
  }
  const rows: HeldOutRow[] = [];
  for (const [i, line] of lines.slice(1).entries()) {
    const at = i + 2;
    const m = ROW.exec(line.trim());
    if (m === null) fail(at, `expected a predictor name and three numbers, got "${line}"`);
    const [, name, , std, ratio] = m as unknown as [string, string, string, string, string];
    const predictor =
      WORLD_MODEL_PREDICTORS.find((p) => p.matches(name)) ?? fail(at, `unknown predictor "${name}"`);
    const mseStandardised = Number(std);
    const vsCopy = Number(ratio);
    if (!Number.isFinite(mseStandardised) || !Number.isFinite(vsCopy) || mseStandardised < 0 || vsCopy < 0) {
      fail(at, `errors must be non-negative numbers, got "${std}" and "${ratio}"`);
    }
    rows.push({ predictor: predictor.id, mseStandardised, vsCopy });
  }
  if (rows[0]?.predictor !== 'copy') fail(2, 'the first predictor must be the copy-state baseline');
  return rows;
}

const markerSchema = z
  .object({
    key: z
      .object({
        env: z.string().min(1),
        dataset: datasetSchema,
        seed: z.number().int().nonnegative(),
        envOptions: z.record(z.string(), z.unknown()).optional(),
      })
      .passthrough(),
  })
  .passthrough();

/** Every held-out report under `root`, with the env, dataset and seed of the build it belongs to. */
export function readWorldModelReports(root: string): WorldModelReport[] {
  return findDirsHolding(root, [REPORT_FILE]).map((dir) => {
    const marker = join(dir, 'world-model.json');
    const config = join(dir, 'config.json');
    let owner: {
      env: string;
      dataset?: z.output<typeof datasetSchema> | null;
      seed: number;
      envOptions?: Record<string, unknown> | undefined;
    };
    if (existsSync(marker)) owner = readJsonFile(markerSchema, marker).key;
    else if (existsSync(config)) owner = readJsonFile(runConfigSchema, config);
    else
      throw new ResultsError(`${join(dir, REPORT_FILE)}: neither world-model.json nor config.json beside it`);
    const path = join(dir, REPORT_FILE);
    const text = readFileSync(path, 'utf8');
    return {
      entry: relative(root, dir) || '.',
      implementation:
        text
          .split('\n')
          .map((l) => MODEL_ROW.exec(l)?.[1])
          .find((m) => m !== undefined) ?? 'none',
      env: taskEnv(owner.env, describeEnvOptions(owner.envOptions)),
      dataset: datasetLabel(owner.dataset),
      seed: owner.seed,
      rows: parseHeldOutReport(path, text),
    };
  });
}

export interface WorldModelQuality {
  env: string;
  dataset: string;
  implementation: string;
  seeds: number[];
  /** Per predictor, its error over copying the state: IQM over seeds with its bootstrap interval. */
  vsCopy: { predictor: PredictorId; label: string; iqm: Interval }[];
}

/** Per env × dataset × model (in the order first seen), each predictor's error relative to copying the state. */
export function summariseWorldModels(
  reports: readonly WorldModelReport[],
  s: ReportSettings,
): WorldModelQuality[] {
  const tasks = new Map<string, WorldModelReport[]>();
  for (const r of reports) {
    const key = `${r.env} ${r.dataset} ${r.implementation}`;
    tasks.set(key, [...(tasks.get(key) ?? []), r]);
  }
  return [...tasks.entries()].map(([task, list]) => {
    const sorted = [...list].sort((a, b) => a.seed - b.seed);
    return {
      env: sorted[0]!.env,
      dataset: sorted[0]!.dataset,
      implementation: sorted[0]!.implementation,
      seeds: sorted.map((r) => r.seed),
      vsCopy: WORLD_MODEL_PREDICTORS.filter((p) => p.id !== 'copy')
        .map((p) => ({
          p,
          values: sorted.flatMap((r) => r.rows.filter((x) => x.predictor === p.id).map((x) => x.vsCopy)),
        }))
        .filter(({ values }) => values.length > 0)
        .map(({ p, values }) => ({
          predictor: p.id,
          label: p.label,
          iqm: roundInterval(
            iqmInterval([values], { ...s, seed: s.seed + hashSeed(`${task}|wm|${p.id}`) }),
            3,
          ),
        })),
    };
  });
}

/**
 * One sentence on how the augmenting predictions compare with copying the state, per model: on how many
 * tasks their interval lies above 1 (further off than the state itself), below 1, or across it.
 */
export function describeWorldModels(rows: readonly WorldModelQuality[]): string {
  const parts: string[] = [];
  for (const implementation of [...new Set(rows.map((r) => r.implementation))]) {
    const of = rows.filter((r) => r.implementation === implementation);
    const intervals = of
      .map((r) => r.vsCopy.find((v) => v.predictor === 'stochastic')?.iqm)
      .filter((i) => i !== undefined);
    if (intervals.length === 0) continue;
    const worse = intervals.filter((i) => i.low > 1).length;
    const better = intervals.filter((i) => i.high < 1).length;
    const across = intervals.length - worse - better;
    parts.push(
      `${implementation}: as it augments, further from the real next state than the state itself on ${worse} of ` +
        `${intervals.length} tasks, closer on ${better}${across > 0 ? `, not separable from it on ${across}` : ''}`,
    );
  }
  return parts.length > 0 ? `${parts.join('; ')}.` : '';
}
