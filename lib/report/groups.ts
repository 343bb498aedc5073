// Groups runs by configuration (env × dataset × variant × pretrain × augFraction) and names the groups.
// Seeds of one configuration form a group; everything in the report is a statistic over a group's seeds.
import { basename } from 'node:path';
import { normalizedScore, scoreFamily } from '../data/normalized-score.ts';
import { describeEnvOptions, taskEnv } from '../envs/env-options-text.ts';
import type { RunConfig, RunRecord } from './results.ts';

export type Variant = RunConfig['variant'];
export type Pretrain = 'both' | 'actor' | 'critic';

/** The paper's augmentation fraction: the main method; other fractions belong to the ratio sweep. */
export const MAIN_AUG_FRACTION = 0.5;

/** The augmenting world model: the paper's VAE, or a control (least squares; copying the state). */
export type WorldModelKind = 'vae' | 'linear' | 'copy';

/** The paper's VAE first, then the controls: the order of rows and series. */
export const WORLD_MODEL_KINDS: readonly WorldModelKind[] = ['vae', 'linear', 'copy'];

/** What a control's labels call it; the VAE, the paper's method, goes unnamed. */
const CONTROL_NAMES: Record<WorldModelKind, string | undefined> = {
  vae: undefined,
  linear: 'linear model',
  copy: 'copy-state model',
};

/** An augmented pre-training's setting, "p=0.5" or "p=0.5, linear model"; "none" without augmentation. */
export function augmentationSetting(s: {
  augmented: boolean;
  augFraction: number;
  worldModel: WorldModelKind;
}): string {
  if (!s.augmented) return 'none';
  const name = CONTROL_NAMES[s.worldModel];
  return name === undefined ? `p=${s.augFraction}` : `p=${s.augFraction}, ${name}`;
}

/**
 * Scratch, TD3+BC and TD3+BC+aug at the paper's fraction with the paper's VAE, all pre-training both
 * parts: the main variants.
 */
export function isMainVariant(k: {
  variant: string;
  pretrain: string | null;
  augFraction: number;
  worldModel?: WorldModelKind;
  criticLayerNorm?: boolean;
}): boolean {
  if (k.criticLayerNorm === true) return false;
  if (k.variant === 'scratch') return true;
  if (k.worldModel !== undefined && k.worldModel !== 'vae') return false;
  return k.pretrain === 'both' && (k.variant === 'td3bc' || k.augFraction === MAIN_AUG_FRACTION);
}

/**
 * TD3 from scratch with the paper's networks: the baseline every threshold and ratio of its task env
 * (the env with its options, taskEnv) is measured against.
 */
export function isPaperScratch(k: { variant: string; criticLayerNorm?: boolean }): boolean {
  return k.variant === 'scratch' && k.criticLayerNorm !== true;
}

// A task env: the env id with its options when they are not Gymnasium's defaults,
// "Ant-v5 (contactCostWeight=0, includeCfrcExtInObservation=false)": another task, with its own scratch
// baseline, thresholds and claims.
export { describeEnvOptions, taskEnv };

/** A task: a task env and a dataset label; the env alone for TD3 from scratch, which uses no dataset. */
export interface TaskRef {
  env: string;
  dataset?: string;
}

/** "Hopper-v5 medium-10k" (just the env without a dataset): a task's identity in sets and lookups. */
export function taskKey(t: TaskRef): string {
  return t.dataset === undefined ? t.env : `${t.env} ${t.dataset}`;
}

/** The env id of a task env. */
export function baseEnv(env: string): string {
  const at = env.indexOf(' (');
  return at < 0 ? env : env.slice(0, at);
}

export interface GroupKey {
  /** The task env (taskEnv): the env id, with its options if any. */
  env: string;
  /** Dataset label, e.g. "medium-10k"; "none" for TD3 from scratch. */
  dataset: string;
  variant: Variant;
  /** Null for scratch. */
  pretrain: Pretrain | null;
  /** Share of next states replaced by the world model (0 without augmentation). */
  augFraction: number;
  /** Which world model augments ('vae' also for the variants without one). */
  worldModel: WorldModelKind;
  /**
   * LayerNorm in the critics (not the paper's). Such groups appear in the per-group tables and curves under
   * their own label, and are left out of the claims, sweeps and critic analyses, which are about the paper's
   * networks.
   */
  criticLayerNorm: boolean;
  /** The env's options (describeEnvOptions; '' for Gymnasium's defaults), also part of `env`. */
  envOptions: string;
}

export interface Group {
  id: string;
  key: GroupKey;
  label: string;
  /** Every run of the configuration, finished or not, sorted by seed. */
  runs: RunRecord[];
  finished: RunRecord[];
  unfinished: RunRecord[];
  tags: string[];
}

/** "medium-10k" for {kind: medium, transitions: 10000}; "none" without a dataset. */
export function datasetLabel(dataset: RunConfig['dataset']): string {
  if (!dataset) return 'none';
  const file = dataset.file ?? dataset.source ?? 'dataset';
  const kind = dataset.kind ?? basename(file).replace(/\.(hdf5|h5)$/, '');
  const n = dataset.transitions;
  if (n === null || n === undefined) return `${kind}-full`;
  const size = n >= 1000 && n % 100 === 0 ? `${n / 1000}k` : String(n);
  return `${kind}-${size}`;
}

export function keyOf(config: RunConfig): GroupKey {
  const scratch = config.variant === 'scratch';
  const envOptions = describeEnvOptions(config.envOptions);
  return {
    env: taskEnv(config.env, envOptions),
    dataset: scratch ? 'none' : datasetLabel(config.dataset),
    variant: config.variant,
    pretrain: scratch ? null : (config.pretrain ?? 'both'),
    augFraction: config.variant === 'td3bc-aug' ? (config.augFraction ?? 0.5) : 0,
    worldModel: config.variant === 'td3bc-aug' ? (config.worldModel ?? 'vae') : 'vae',
    criticLayerNorm: config.criticLayerNorm === true,
    envOptions,
  };
}

export function groupId(k: GroupKey): string {
  // The VAE's ids as they were before the controls existed (they seed the bootstrap).
  const model = k.worldModel === 'vae' ? '' : `|${k.worldModel}`;
  const ln = k.criticLayerNorm ? '|ln' : '';
  const options = k.envOptions === '' ? '' : `|env:${k.envOptions}`;
  return `${baseEnv(k.env)}|${k.dataset}|${k.variant}|${k.pretrain ?? '-'}|${k.augFraction}${model}${ln}${options}`;
}

/** A human label: "TD3 (scratch)", "TD3+BC → TD3", "TD3+BC+aug p=0.5 → TD3 (actor only)". */
export function variantLabel(
  k: Pick<GroupKey, 'variant' | 'pretrain' | 'augFraction'> & {
    worldModel?: WorldModelKind;
    criticLayerNorm?: boolean;
  },
): string {
  // The env's options are not named here: they are part of the task env, which every table gives.
  const ln = k.criticLayerNorm === true ? ['LayerNorm critics'] : [];
  if (k.variant === 'scratch') return `TD3 (${['scratch', ...ln].join(', ')})`;
  const name = CONTROL_NAMES[k.worldModel ?? 'vae'];
  const model = name === undefined ? '' : ` (${name})`;
  const base = k.variant === 'td3bc' ? 'TD3+BC → TD3' : `TD3+BC+aug p=${k.augFraction}${model} → TD3`;
  const only = k.pretrain === 'both' || k.pretrain === null ? [] : [`${k.pretrain} only`];
  const notes = [...only, ...ln];
  return notes.length === 0 ? base : `${base} (${notes.join(', ')})`;
}

/** Stable order: scratch, then no augmentation, then by fraction; both, actor, critic; dataset; env. */
export function compareKeys(a: GroupKey, b: GroupKey): number {
  const variantRank = { scratch: 0, td3bc: 1, 'td3bc-aug': 2 } as const;
  const pretrainRank = (p: Pretrain | null) => (p === null ? 0 : { both: 0, actor: 1, critic: 2 }[p]);
  return (
    a.env.localeCompare(b.env) ||
    a.dataset.localeCompare(b.dataset, 'en', { numeric: true }) ||
    variantRank[a.variant] - variantRank[b.variant] ||
    a.augFraction - b.augFraction ||
    WORLD_MODEL_KINDS.indexOf(a.worldModel) - WORLD_MODEL_KINDS.indexOf(b.worldModel) ||
    pretrainRank(a.pretrain) - pretrainRank(b.pretrain) ||
    a.envOptions.localeCompare(b.envOptions)
  );
}

/** done.json exists and a final return is known (from it or from an online evaluation). */
export function isFinished(run: RunRecord): boolean {
  return (
    run.done !== null && (run.done.finalReturn !== null || run.metrics.some((m) => m.phase === 'online'))
  );
}

/** True when every group is tagged only as part of a sweep (a sweep's extra datasets, not a main one). */
export function isSweepOnly(groups: readonly { tags: readonly string[] }[]): boolean {
  return (
    groups.length > 0 && groups.every((g) => g.tags.length > 0 && g.tags.every((t) => t.endsWith('-sweep')))
  );
}

/** Groups of online runs (offline-only records are left to the critic analysis), in stable order. */
export function groupRuns(runs: readonly RunRecord[]): Group[] {
  const byId = new Map<string, Group>();
  for (const run of runs) {
    if (run.offlineOnly) continue;
    const key = keyOf(run.config);
    const id = groupId(key);
    let g = byId.get(id);
    if (!g) {
      g = { id, key, label: variantLabel(key), runs: [], finished: [], unfinished: [], tags: [] };
      byId.set(id, g);
    }
    g.runs.push(run);
  }
  for (const g of byId.values()) {
    g.runs.sort((a, b) => a.config.seed - b.config.seed || a.dir.localeCompare(b.dir));
    g.finished = g.runs.filter(isFinished);
    g.unfinished = g.runs.filter((r) => !isFinished(r));
    g.tags = [...new Set(g.runs.flatMap((r) => r.tags))].sort();
  }
  return [...byId.values()].sort((a, b) => compareKeys(a.key, b.key));
}

/** D4RL-normalised score of a return on `env`, or null for an env without reference returns. */
export function scoreOf(env: string, episodeReturn: number): number | null {
  const family = scoreFamily(env);
  return family === undefined ? null : normalizedScore(family, episodeReturn);
}

/**
 * A finished run's final return and normalised score: done.json's, else the last online evaluation's
 * (done.json has null there when the run wrote no online row).
 */
export function finalOf(run: RunRecord): { finalReturn: number; finalScore: number | null } {
  if (!run.done) throw new Error(`${run.dir}: not finished (no done.json)`);
  const last = run.metrics.filter((m) => m.phase === 'online').at(-1);
  const finalReturn = run.done.finalReturn ?? last?.returnMean;
  if (finalReturn === undefined)
    throw new Error(`${run.dir}: done.json has no final return and no online evaluation`);
  const score = run.done.finalReturn === null ? last?.normalizedScore : run.done.finalNormalizedScore;
  return { finalReturn, finalScore: score ?? scoreOf(run.config.env, finalReturn) };
}

/** Items by key, keys in the order they first appear. */
export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const list = groups.get(keyOf(item));
    if (list === undefined) groups.set(keyOf(item), [item]);
    else list.push(item);
  }
  return groups;
}
