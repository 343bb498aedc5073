// A spec expanded into runs, in priority order: by tier, then seed (so a partial grid is balanced: seed 0
// of every run of a tier before seed 1 of any), then the order the spec lists groups, envs, datasets and
// variants. A run listed by several groups (the size sweep's 10k is the main comparison's) is one run
// carrying every group's tag, at its highest priority.
import { join } from 'node:path';
import { checkServesEnvOptions, readManifest } from './dataset-source.ts';
import { gridPaths, type PipelinePaths } from './paths.ts';
import { parseRunConfig, type RunConfig } from './run-config.ts';
import type { GridSpec } from './spec.ts';

export interface GridRun {
  /** `<env>/<dataset-label>/<variant-label>/seed-<s>`, also its directory under resultsDir. */
  id: string;
  env: string;
  datasetLabel: string;
  variantLabel: string;
  seed: number;
  groups: string[];
  tier: number;
  config: RunConfig;
  /** The dataset file the run needs (null for scratch). */
  datasetFile: string | null;
  paths: PipelinePaths;
}

/** Scratch runs have no dataset: they live under this dataset label. */
export const NO_DATASET = 'none';

export function expandGrid(spec: GridSpec): GridRun[] {
  const byId = new Map<string, GridRun & { key: number[] }>();
  spec.groups.forEach((group, gi) => {
    for (const seed of group.seeds ?? spec.seeds) {
      group.envs.forEach((env, ei) => {
        group.datasets.forEach((datasetLabel, di) => {
          group.variants.forEach((variantLabel, vi) => {
            const v = spec.variants[variantLabel]!;
            const d = spec.datasets[datasetLabel]!;
            const scratch = v.variant === 'scratch';
            const dsLabel = scratch ? NO_DATASET : datasetLabel;
            const id = `${env}/${dsLabel}/${variantLabel}/seed-${seed}`;
            const key = [group.tier, seed, gi, ei, di, vi];
            const existing = byId.get(id);
            if (existing !== undefined) {
              if (!existing.groups.includes(group.name)) existing.groups.push(group.name);
              if (compareKeys(key, existing.key) < 0) {
                existing.key = key;
                existing.tier = group.tier;
              }
              return;
            }
            const datasetFile = scratch ? null : join(spec.datasetsDir, env, `${d.kind}.hdf5`);
            // Read once per run: its sha256 goes into the config, its metadata says what the rows serve.
            const manifest = datasetFile === null ? undefined : readManifest(datasetFile);
            const b = spec.budgets;
            const config = parseRunConfig(
              {
                env,
                dataset: scratch
                  ? null
                  : {
                      file: datasetFile,
                      kind: d.kind,
                      transitions: d.transitions,
                      by: d.by,
                      subsetSeed: seed,
                      sha256: manifest?.sha256 ?? null,
                    },
                variant: v.variant,
                pretrain: scratch ? null : v.pretrain,
                augFraction: v.variant === 'td3bc-aug' ? v.augFraction : 0,
                ...(v.worldModel === undefined || v.worldModel === 'vae' ? {} : { worldModel: v.worldModel }),
                ...(v.criticLayerNorm === true ? { criticLayerNorm: true } : {}),
                ...(v.envOptions === undefined ? {} : { envOptions: v.envOptions }),
                offlineSteps: scratch ? 0 : b.offlineSteps,
                onlineSteps: b.onlineSteps,
                startSteps: b.startSteps,
                warmupSteps: b.warmupSteps,
                wmEpochs: b.wmEpochs,
                evalEvery: b.evalEvery,
                evalEpisodes: b.evalEpisodes,
                seed,
                hidden: b.hidden,
                offlineCheckpointEvery: b.offlineCheckpointEvery,
                onlineCheckpointEvery: b.onlineCheckpointEvery,
              },
              `run ${id}`,
            );
            // Refused here, before any run starts, when the manifest says the rows cannot serve the options.
            if (datasetFile !== null && manifest?.metadata !== undefined) {
              try {
                checkServesEnvOptions(manifest.metadata.envOptions, env, v.envOptions, datasetFile);
              } catch (err) {
                throw new Error(`run ${id}: ${(err as Error).message}`);
              }
            }
            const runDir = join(spec.resultsDir, id);
            const datasetDir = join(spec.resultsDir, env, dsLabel);
            byId.set(id, {
              id,
              env,
              datasetLabel: dsLabel,
              variantLabel,
              seed,
              groups: [group.name],
              tier: group.tier,
              config,
              datasetFile,
              paths: gridPaths(runDir, datasetDir, config),
              key,
            });
          });
        });
      });
    }
  });
  return [...byId.values()].sort((a, b) => compareKeys(a.key, b.key)).map(({ key: _key, ...run }) => run);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The fields a filter may name. */
export const FILTER_FIELDS = ['env', 'dataset', 'variant', 'group', 'seed'] as const;

/** A filter's field (undefined: a bare word, matching any field) and the values it accepts. */
function parseFilter(f: string, flag: string): { field: string | undefined; values: string[] } {
  const eq = f.indexOf('=');
  const field = eq < 0 ? undefined : f.slice(0, eq);
  if (field !== undefined && !(FILTER_FIELDS as readonly string[]).includes(field)) {
    throw new Error(`${flag} ${f}: unknown field '${field}' (${FILTER_FIELDS.join(', ')})`);
  }
  const values = (eq < 0 ? f : f.slice(eq + 1)).split(',').filter((v) => v !== '');
  if (values.length === 0) throw new Error(`${flag} ${f}: no value to match`);
  return { field, values };
}

/** Throws, naming the flag and the filter, at the first filter that names no field or no value. */
export function checkFilters(filters: string[], flag: string): void {
  for (const f of filters) parseFilter(f, flag);
}

/** `--only` (and `--first`) filters: `env=Hopper-v5`, `dataset=medium-10k`, `variant=scratch`, `group=main`,
 * `seed=2`, or a bare word matching any of them; several filters must all match, comma-separated values any
 * of theirs. */
export function matchesFilters(run: GridRun, filters: string[], flag = '--only'): boolean {
  return filters.every((f) => {
    const { field, values } = parseFilter(f, flag);
    const candidates = filterCandidates(run, field);
    return values.some((v) => candidates.includes(v));
  });
}

/** The values of `run` a filter on `field` is matched against (undefined: every field's). */
function filterCandidates(run: GridRun, field: string | undefined): string[] {
  const fields: Record<(typeof FILTER_FIELDS)[number], string[]> = {
    env: [run.env],
    dataset: [run.datasetLabel],
    variant: [run.variantLabel],
    group: run.groups,
    seed: [String(run.seed)],
  };
  return field === undefined ? Object.values(fields).flat() : fields[field as keyof typeof fields];
}

/**
 * One line per filter value that no run of `runs` has (a typo, most likely: `env=Ant` for `env=Ant-v5`),
 * naming the values the field does take. A combination of filters that selects nothing is not flagged.
 */
export function unmatchedFilterValues(runs: GridRun[], filters: string[], flag: string): string[] {
  const problems: string[] = [];
  for (const f of filters) {
    const { field, values } = parseFilter(f, flag);
    const known = [...new Set(runs.flatMap((r) => filterCandidates(r, field)))].sort();
    for (const v of values.filter((value) => !known.includes(value))) {
      problems.push(
        field === undefined
          ? `${flag} ${f}: no run of the spec has '${v}' as its ${FILTER_FIELDS.slice(0, -1).join(', ')} or ${FILTER_FIELDS.at(-1)}`
          : `${flag} ${f}: no run of the spec has ${field} '${v}' (${field}: ${known.join(', ')})`,
      );
    }
  }
  return problems;
}
