// D4RL-style datasets cut from a behaviour-policy run (lib/data/behaviour.ts):
//   expert         rollouts of the snapshot with the best deterministic evaluation return (ties: the
//                  later one), acting with π(s) + N(0, noise·maxAction) — D4RL sampled its SAC policy;
//                  our TD3 policy is deterministic, so its own exploration noise (0.1) stands in; 0 is
//                  the deterministic policy;
//   medium         rollouts of the snapshot whose evaluation return is closest to one third of the
//                  expert's (ties: the earlier one), with the same noise;
//   medium-replay  every transition the run recorded up to the medium snapshot's step, in order (the
//                  run's own exploration, random start steps included), whatever --transitions says;
//   medium-expert  medium rollouts for the first half of the transitions, expert rollouts for the rest.
// A rollout with seed S is lib/rl's collectDataset (episode k reset with deriveSeed(S, k), action noise
// from deriveSeed(S, 1)), so a shorter rollout is a prefix of a longer one with the same seed.
import { join } from 'node:path';
import { makeEnv } from '../envs/registry.ts';
import { loadAgent } from '../rl/agent-checkpoint.ts';
import { type BehaviourPolicy, collectDataset } from '../rl/collect.ts';
import {
  type BehaviourKind,
  BehaviourRunError,
  END,
  paths,
  type RunFile,
  readCheckpoint,
  readChunk,
  readRunFile,
  readTrainingLog,
  type TrainingLine,
} from './behaviour-store.ts';
import {
  type BehaviourProvenance,
  type DatasetColumns,
  describeColumns,
  GENERATOR_VERSION,
  type OfflineDataset,
} from './dataset.ts';

export { BEHAVIOUR_KINDS, type BehaviourKind } from './behaviour-store.ts';

export interface SnapshotChoice {
  expert: TrainingLine;
  medium: TrainingLine;
  /** One third of the expert's evaluation return, what the medium snapshot is closest to. */
  mediumTarget: number;
}

/**
 * The expert (best return, later on ties) and medium (closest to a third of it, earlier on ties).
 * Medium is a trained snapshot: those taken before the first update (the random start steps) are the
 * initial network, which on Ant-v5 already earns ~1,000 by standing still for 1,000 healthy steps, about
 * a third of a trained Ant's return. They count only when no snapshot has updates yet.
 */
export function chooseSnapshots(log: readonly TrainingLine[]): SnapshotChoice {
  if (log.length === 0) throw new BehaviourRunError('the training log has no snapshots yet');
  let expert = log[0]!;
  for (const line of log) if (line.evalReturn >= expert.evalReturn) expert = line;
  const mediumTarget = expert.evalReturn / 3;
  const trained = log.filter((line) => line.updates > 0);
  const candidates = trained.length > 0 ? trained : log;
  let medium = candidates[0]!;
  for (const line of candidates) {
    if (Math.abs(line.evalReturn - mediumTarget) < Math.abs(medium.evalReturn - mediumTarget)) medium = line;
  }
  return { expert, medium, mediumTarget };
}

/** A finished run's settings and snapshot log; refuses a run that is still short of its checkpoint. */
export function openRun(dir: string): { run: RunFile; log: TrainingLine[]; step: number } {
  const run = readRunFile(dir);
  const cp = readCheckpoint(dir);
  if (cp === undefined)
    throw new BehaviourRunError(`${dir}: no checkpoint.json (behaviour training never checkpointed)`);
  // Lines past the checkpoint are a crash's leftovers; the next resume drops them, so do we.
  const log = readTrainingLog(paths(dir).training).filter((l) => l.step <= cp.step);
  return { run, log, step: cp.step };
}

function emptyColumns(rows: number, obsDim: number, actDim: number): DatasetColumns {
  return {
    obsDim,
    actDim,
    observations: new Float32Array(rows * obsDim),
    actions: new Float32Array(rows * actDim),
    rewards: new Float32Array(rows),
    nextObservations: new Float32Array(rows * obsDim),
    terminals: new Uint8Array(rows),
    timeouts: new Uint8Array(rows),
    episodeEnds: new Uint32Array(0),
    infos: {},
  };
}

export type ProgressFn = (done: number, total: number) => void;

/** `transitions` steps of a snapshot's policy plus Gaussian noise; the last episode is cut. */
export function rolloutSnapshot(
  dir: string,
  run: RunFile,
  snapshot: TrainingLine,
  transitions: number,
  seed: number,
  noise: number,
  progress?: ProgressFn,
): DatasetColumns {
  const { agent } = loadAgent(join(dir, snapshot.snapshot));
  const env = makeEnv(run.envId);
  try {
    const { actDim, maxAction } = agent.config;
    const action = new Float32Array(actDim);
    const policy: BehaviourPolicy = (obs, rng) => {
      agent.act(obs, action);
      if (noise > 0) {
        for (let i = 0; i < actDim; i++) {
          action[i] = Math.min(
            maxAction,
            Math.max(-maxAction, action[i]! + noise * maxAction * rng.normal()),
          );
        }
      }
      return action;
    };
    const { metadata: _described, ...columns } = collectDataset(env, policy, transitions, seed, '', {
      progress,
    });
    return columns;
  } finally {
    env.close();
  }
}

/** The recorded transitions of steps 1..step: episodes end at terminations, time limits and cuts. */
export function replayUpTo(dir: string, run: RunFile, step: number): DatasetColumns {
  const cp = readCheckpoint(dir);
  if (cp === undefined || cp.step < step) {
    throw new BehaviourRunError(
      `${dir}: transitions up to step ${step} asked for, the run has ${cp?.step ?? 0}`,
    );
  }
  const { obsDim, actDim } = run;
  const columns = emptyColumns(step, obsDim, actDim);
  const ends: number[] = [];
  for (const chunk of cp.chunks) {
    if (chunk.start >= step) break;
    const rows = readChunk(join(dir, chunk.file), obsDim, actDim, chunk.rows);
    const take = Math.min(rows.rows, step - chunk.start);
    const at = chunk.start;
    columns.observations.set(rows.obs.subarray(0, take * obsDim), at * obsDim);
    columns.nextObservations.set(rows.nextObs.subarray(0, take * obsDim), at * obsDim);
    columns.actions.set(rows.actions.subarray(0, take * actDim), at * actDim);
    columns.rewards.set(rows.rewards.subarray(0, take), at);
    for (let r = 0; r < take; r++) {
      const end = rows.ends[r]!;
      if (end === END.terminated) columns.terminals[at + r] = 1;
      if (end === END.truncated) columns.timeouts[at + r] = 1;
      if (end !== END.none) ends.push(at + r + 1);
    }
  }
  if (step > 0 && ends.at(-1) !== step) ends.push(step);
  columns.episodeEnds = Uint32Array.from(ends);
  return columns;
}

export function concatColumns(a: DatasetColumns, b: DatasetColumns): DatasetColumns {
  if (a.obsDim !== b.obsDim || a.actDim !== b.actDim)
    throw new BehaviourRunError('concatColumns: dimensions differ');
  const cat = <T extends Float32Array | Uint8Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const f32 = (n: number) => new Float32Array(n);
  const u8 = (n: number) => new Uint8Array(n);
  const offset = a.rewards.length;
  return {
    obsDim: a.obsDim,
    actDim: a.actDim,
    observations: cat(a.observations, b.observations, f32),
    actions: cat(a.actions, b.actions, f32),
    rewards: cat(a.rewards, b.rewards, f32),
    nextObservations: cat(a.nextObservations, b.nextObservations, f32),
    terminals: cat(a.terminals, b.terminals, u8),
    timeouts: cat(a.timeouts, b.timeouts, u8),
    episodeEnds: Uint32Array.from([...a.episodeEnds, ...Array.from(b.episodeEnds, (e) => e + offset)]),
    infos: {},
  };
}

export interface BehaviourDatasetOptions {
  kind: BehaviourKind;
  /** Rollout transitions (medium, expert, medium-expert); medium-replay takes the run's own. */
  transitions: number;
  seed: number;
  noise: number;
  progress?: ProgressFn;
}

export function behaviourDataset(dir: string, options: BehaviourDatasetOptions): OfflineDataset {
  const { kind, transitions, seed, noise } = options;
  if (!Number.isInteger(transitions) || transitions < 1) {
    throw new RangeError(`transitions must be a positive integer, got ${transitions}`);
  }
  if (!Number.isFinite(noise) || noise < 0) throw new RangeError(`noise must be ≥ 0, got ${noise}`);
  const { run, log } = openRun(dir);
  const { expert, medium } = chooseSnapshots(log);
  const parts: BehaviourProvenance['parts'] = [];
  let columns: DatasetColumns;
  let policy: { description: string; return: number | null };
  const who = `TD3 behaviour run ${run.envId} seed ${run.seed}`;
  const noisy = noise > 0 ? ` + N(0, ${noise}·maxAction) noise` : ' (deterministic)';
  if (kind === 'medium-replay') {
    if (medium.step === 0) {
      throw new BehaviourRunError(
        `${dir}: the medium snapshot is the untrained one (step 0), so there is no replay before it`,
      );
    }
    columns = replayUpTo(dir, run, medium.step);
    parts.push({ source: 'replay', snapshotStep: medium.step, rows: medium.step });
    policy = { description: `${who}: replay of steps 1..${medium.step} (medium snapshot)`, return: null };
  } else if (kind === 'medium' || kind === 'expert') {
    const snap = kind === 'medium' ? medium : expert;
    columns = rolloutSnapshot(dir, run, snap, transitions, seed, noise, options.progress);
    parts.push({ source: kind, snapshotStep: snap.step, rows: transitions });
    policy = { description: `${who}: ${kind} snapshot step ${snap.step}${noisy}`, return: snap.evalReturn };
  } else {
    const half = Math.ceil(transitions / 2);
    const first = rolloutSnapshot(dir, run, medium, half, seed, noise, options.progress);
    const second =
      transitions - half > 0
        ? rolloutSnapshot(dir, run, expert, transitions - half, seed, noise, options.progress)
        : emptyColumns(0, run.obsDim, run.actDim);
    columns = concatColumns(first, second);
    parts.push({ source: 'medium', snapshotStep: medium.step, rows: half });
    parts.push({ source: 'expert', snapshotStep: expert.step, rows: transitions - half });
    policy = {
      description: `${who}: medium snapshot step ${medium.step} then expert snapshot step ${expert.step}${noisy}`,
      return: null,
    };
  }
  const behaviour: BehaviourProvenance = {
    kind,
    run: dir,
    runEnvId: run.envId,
    runSeed: run.seed,
    expert: { step: expert.step, evalReturn: expert.evalReturn },
    medium: { step: medium.step, evalReturn: medium.evalReturn },
    explorationNoise: kind === 'medium-replay' ? null : noise,
    parts,
  };
  const metadata = describeColumns(columns, {
    envId: run.envId,
    policy,
    seed: kind === 'medium-replay' ? run.seed : seed,
    generatorVersion: `${GENERATOR_VERSION} behaviour 1`,
    behaviour,
  });
  return { ...columns, metadata };
}
