// What a grid run records about the code that produced it: the commit, "-dirty" when lib/ or cli/ have
// uncommitted changes, and the generator version. config.json keeps the commit the run started with and
// every commit that later resumed it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from './fs-atomic.ts';
import type { GridRun } from './grid.ts';
import { type RunConfig, usesWorldModel } from './run-config.ts';

export const GENERATOR_VERSION = 'o2o-experiment 1';

export function gitCommit(cwd = process.cwd()): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'cli'], {
      cwd,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

/** Settings a run of this variant never reads (a spec may change them under it). */
function irrelevantSettings(c: RunConfig): Set<string> {
  const unused: string[] = [];
  if (c.variant === 'scratch') unused.push('offlineSteps', 'warmupSteps', 'offlineCheckpointEvery');
  else unused.push('startSteps');
  if (!usesWorldModel(c)) unused.push('wmEpochs');
  return new Set(unused);
}

/** The run-config fields whose stored value (config.json) differs from `run.config`, e.g. after a spec's
 * budgets changed under an unfinished run; empty when there is no config.json yet. */
export function changedSettings(run: GridRun): string[] {
  const path = join(run.paths.runDir, 'config.json');
  const stored = readJsonIfExists(path) as Record<string, unknown> | undefined;
  if (stored === undefined) return [];
  const ignored = irrelevantSettings(run.config);
  return Object.entries(run.config)
    .filter(([field]) => !ignored.has(field))
    .filter(([field, value]) => JSON.stringify(stored[field]) !== JSON.stringify(value))
    .map(([field, value]) => `${field}: ${JSON.stringify(stored[field])} -> ${JSON.stringify(value)}`);
}

/** Writes (or updates) the run's config.json: the run config, labels, groups and provenance. */
export function writeRunConfigFile(run: GridRun, commit: string, specFile: string): void {
  const path = join(run.paths.runDir, 'config.json');
  const previous = existsSync(path)
    ? (readJsonIfExists(path) as { commit?: string; commits?: string[] } | undefined)
    : undefined;
  const commits = previous?.commits ?? [];
  if (!commits.includes(commit)) commits.push(commit);
  writeJsonAtomic(path, {
    ...run.config,
    groups: run.groups,
    labels: { env: run.env, dataset: run.datasetLabel, variant: run.variantLabel },
    commit: previous?.commit ?? commit,
    commits,
    generator: GENERATOR_VERSION,
    spec: specFile,
  });
}
