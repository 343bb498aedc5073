// Rolls a policy out in an environment and records the transitions as an offline dataset (lib/data's
// in-memory form, with computed metadata and checksum): the way the project makes D4RL-style data.
// Episodes run to termination or the time limit; the last one is cut when the count is reached.
import { type DatasetColumns, describeColumns, type OfflineDataset } from '../data/dataset.ts';
import { deriveSeed, Rng } from '../envs/rng.ts';
import type { Env } from '../envs/types.ts';

/** Maps an observation to an action; may use `rng` for exploration. */
export type BehaviourPolicy = (obs: Float64Array, rng: Rng) => ArrayLike<number>;

export function uniformRandomPolicy(env: Env): BehaviourPolicy {
  const { low, high } = env.actionSpace;
  return (_obs, rng) => Array.from(low, (lo, i) => rng.uniform(lo, high[i]!));
}

export interface CollectOptions {
  /** Called every 10,000 transitions (long rollouts report progress). */
  progress?: (done: number, total: number) => void;
  /** The options `env` was built with, recorded in the metadata (omit for the env's defaults). */
  envOptions?: Record<string, unknown>;
}

export function collectDataset(
  env: Env,
  policy: BehaviourPolicy,
  transitions: number,
  seed: number,
  description: string,
  options: CollectOptions = {},
): OfflineDataset {
  if (!Number.isInteger(transitions) || transitions < 1) {
    throw new RangeError(`collectDataset: transitions must be a positive integer, got ${transitions}`);
  }
  const obsDim = env.observationSpace.shape[0];
  const actDim = env.actionSpace.shape[0];
  const columns: DatasetColumns = {
    obsDim,
    actDim,
    observations: new Float32Array(transitions * obsDim),
    actions: new Float32Array(transitions * actDim),
    rewards: new Float32Array(transitions),
    nextObservations: new Float32Array(transitions * obsDim),
    terminals: new Uint8Array(transitions),
    timeouts: new Uint8Array(transitions),
    episodeEnds: new Uint32Array(0),
    infos: {},
  };
  const ends: number[] = [];
  const rng = new Rng(deriveSeed(seed, 1));
  let episode = 0;
  let obs = env.reset({ seed: deriveSeed(seed, episode) }).obs;
  for (let row = 0; row < transitions; row++) {
    const action = policy(obs, rng);
    const t = env.step(action);
    columns.observations.set(obs, row * obsDim);
    columns.actions.set(action, row * actDim);
    columns.rewards[row] = t.reward;
    columns.nextObservations.set(t.obs, row * obsDim);
    columns.terminals[row] = t.terminated ? 1 : 0;
    columns.timeouts[row] = t.truncated && !t.terminated ? 1 : 0;
    if (t.terminated || t.truncated) {
      ends.push(row + 1);
      obs = env.reset({ seed: deriveSeed(seed, ++episode) }).obs;
    } else {
      obs = t.obs;
    }
    if ((row + 1) % 10_000 === 0) options.progress?.(row + 1, transitions);
  }
  if (ends.at(-1) !== transitions) ends.push(transitions);
  columns.episodeEnds = Uint32Array.from(ends);
  return {
    ...columns,
    metadata: describeColumns(columns, {
      envId: env.id,
      ...(options.envOptions === undefined ? {} : { envOptions: options.envOptions }),
      policy: { description, return: null },
      seed,
    }),
  };
}
