// Trains a TD3 behaviour policy from scratch and keeps what D4RL-style datasets are cut from: policy
// snapshots with their evaluation returns, and every environment transition the run saw, in order.
// (D4RL trained SAC; we train the project's own TD3 with Fujimoto et al.'s published defaults.)
//
// The loop, top to bottom:
//   - steps 1..startSteps act uniformly at random, later steps with π(s) + N(0, noise·maxAction);
//   - every step past startSteps makes one TD3 update on a batch sampled from the replay buffer;
//   - every `snapshotEvery` steps (and at the last step) a checkpoint: the interval's transitions go to
//     one new file, the policy is evaluated deterministically, the agent is saved as the snapshot, a
//     line goes to training.jsonl, and checkpoint.json is replaced atomically (last, so it only ever
//     names complete files).
// Resuming: running again with the same directory continues from checkpoint.json. Whatever was done
// after it (a SIGKILL, a session end) is discarded and redone; the replay buffer is rebuilt from the
// recorded transitions (they are the same rows) and its sampling generator restored; the episode that
// was in progress at the checkpoint cannot be continued (the simulator state is not saved), so its last
// recorded row is marked END.cut and the run resets into a fresh episode with the next episode seed.
// SIGINT/SIGTERM are treated the same way: the work since the last checkpoint is lost, at most one
// snapshot interval.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeEnv } from '../envs/registry.ts';
import { deriveSeed, Rng } from '../envs/rng.ts';
import type { Env } from '../envs/types.ts';
import { loadAgent, saveAgent } from '../rl/agent-checkpoint.ts';
import { evaluatePolicy } from '../rl/evaluate.ts';
import { ReplayBuffer } from '../rl/replay-buffer.ts';
import { Td3Agent } from '../rl/td3.ts';
import {
  BehaviourRunError,
  type Checkpoint,
  END,
  encodeRows,
  paths,
  type RunFile,
  readCheckpoint,
  readChunk,
  readRunFile,
  readTrainingLog,
  runFileSchema,
  strayFiles,
  type TrainingLine,
  type TransitionRows,
  writeAtomic,
} from './behaviour-store.ts';

export interface BehaviourOptions {
  envId: string;
  seed: number;
  /** Environment steps in total (a resumed or extended run continues up to this). */
  totalSteps: number;
  snapshotEvery?: number;
  /** TD3's 25,000 uniformly random first steps. */
  startSteps?: number;
  /** Gaussian exploration noise std as a fraction of maxAction (TD3: 0.1). */
  explorationNoise?: number;
  batchSize?: number;
  replayCapacity?: number;
  evalEpisodes?: number;
  hidden?: number[];
  onProgress?(p: BehaviourProgress): void;
  onSnapshot?(line: TrainingLine): void;
  /** After each checkpoint, the live training state it saved (tests compare it with a restore). */
  onCheckpoint?(live: LiveTrainingState): void;
  /** Checked after every step: true stops without a checkpoint (as a kill would). */
  shouldStop?(): boolean;
}

export interface LiveTrainingState {
  step: number;
  agent: Td3Agent;
  replay: ReplayBuffer;
  explorationRng: [number, number, number, number];
}

export interface BehaviourProgress {
  step: number;
  totalSteps: number;
  episodes: number;
  lastEpisodeReturn: number | undefined;
  resumedFrom: number | undefined;
}

export interface BehaviourResult {
  step: number;
  resumedFrom: number | undefined;
  stopped: boolean;
  log: TrainingLine[];
}

/** Seeds of the run's independent random streams, all derived from --seed. */
const STREAM = { agent: 0, replay: 1, exploration: 2, evaluation: 3, episodes: 4 } as const;

function settingsOf(o: BehaviourOptions, env: Env): RunFile {
  return runFileSchema.parse({
    version: 1,
    envId: o.envId,
    seed: o.seed,
    obsDim: env.observationSpace.shape[0],
    actDim: env.actionSpace.shape[0],
    snapshotEvery: o.snapshotEvery ?? 10_000,
    startSteps: o.startSteps ?? 25_000,
    explorationNoise: o.explorationNoise ?? 0.1,
    batchSize: o.batchSize ?? 256,
    replayCapacity: o.replayCapacity ?? 1_000_000,
    evalEpisodes: o.evalEpisodes ?? 10,
    hidden: o.hidden ?? [256, 256],
  });
}

/** The run's settings: those it was started with; a resume must ask for the same ones. */
function settleRunFile(dir: string, wanted: RunFile): RunFile {
  const file = paths(dir).run;
  if (!existsSync(file)) {
    writeAtomic(file, `${JSON.stringify(wanted, null, 2)}\n`);
    return wanted;
  }
  const stored = readRunFile(dir);
  for (const key of Object.keys(wanted) as (keyof RunFile)[]) {
    if (JSON.stringify(stored[key]) !== JSON.stringify(wanted[key])) {
      throw new BehaviourRunError(
        `${file}: this run was started with ${key} = ${JSON.stringify(stored[key])}, now asked for ` +
          `${JSON.stringify(wanted[key])} (use another --out, or the original settings to resume)`,
      );
    }
  }
  return stored;
}

function maxActionOf(env: Env): number {
  const high = env.actionSpace.high;
  const low = env.actionSpace.low;
  for (let i = 0; i < high.length; i++) {
    if (high[i] !== high[0] || low[i] !== -high[0]!) {
      throw new BehaviourRunError(
        `${env.id}: TD3 needs a symmetric action box with one bound, got [${low}]..[${high}]`,
      );
    }
  }
  return high[0]!;
}

/** The replay buffer as it was at the checkpoint: its last `capacity` rows, ring order, sampler state. */
function rebuildReplay(dir: string, run: RunFile, cp: Checkpoint): ReplayBuffer {
  const { obsDim, actDim, replayCapacity: capacity } = run;
  const count = Math.min(cp.step, capacity);
  const first = cp.step - count;
  const state = {
    obsDim,
    actDim,
    capacity,
    next: cp.step % capacity,
    count,
    rng: cp.replayRng as [number, number, number, number],
    obs: new Float32Array(count * obsDim),
    actions: new Float32Array(count * actDim),
    rewards: new Float32Array(count),
    nextObs: new Float32Array(count * obsDim),
    terminated: new Float32Array(count),
  };
  for (const chunk of cp.chunks) {
    if (chunk.start + chunk.rows <= first) continue;
    const rows = readChunk(join(dir, chunk.file), obsDim, actDim, chunk.rows);
    for (let r = 0; r < rows.rows; r++) {
      const j = chunk.start + r;
      if (j < first) continue;
      const slot = j % capacity;
      state.obs.set(rows.obs.subarray(r * obsDim, (r + 1) * obsDim), slot * obsDim);
      state.nextObs.set(rows.nextObs.subarray(r * obsDim, (r + 1) * obsDim), slot * obsDim);
      state.actions.set(rows.actions.subarray(r * actDim, (r + 1) * actDim), slot * actDim);
      state.rewards[slot] = rows.rewards[r]!;
      state.terminated[slot] = rows.ends[r] === END.terminated ? 1 : 0;
    }
  }
  return ReplayBuffer.fromState(state);
}

/** The agent (with optimiser, normaliser and smoothing-noise state) and replay buffer at `cp`. */
export function restoreTraining(
  dir: string,
  run: RunFile,
  cp: Checkpoint,
): { agent: Td3Agent; replay: ReplayBuffer } {
  return { agent: loadAgent(join(dir, cp.snapshot)).agent, replay: rebuildReplay(dir, run, cp) };
}

/** Marks the last recorded row of an interrupted episode as cut (idempotent). */
function markCut(dir: string, run: RunFile, cp: Checkpoint): void {
  const last = cp.chunks.at(-1);
  if (!cp.episodeOpen || last === undefined) return;
  const rows = readChunk(join(dir, last.file), run.obsDim, run.actDim, last.rows);
  rows.ends[rows.rows - 1] = END.cut;
  writeAtomic(join(dir, last.file), encodeRows(rows));
}

/** Growing storage for the current interval's transitions. */
class IntervalRows {
  private obs: number[] = [];
  private actions: number[] = [];
  private rewards: number[] = [];
  private nextObs: number[] = [];
  private ends: number[] = [];

  add(
    obs: ArrayLike<number>,
    action: ArrayLike<number>,
    reward: number,
    next: ArrayLike<number>,
    end: number,
  ) {
    for (let i = 0; i < obs.length; i++) this.obs.push(obs[i]!);
    for (let i = 0; i < action.length; i++) this.actions.push(action[i]!);
    for (let i = 0; i < next.length; i++) this.nextObs.push(next[i]!);
    this.rewards.push(reward);
    this.ends.push(end);
  }

  get rows(): number {
    return this.ends.length;
  }

  take(): TransitionRows {
    const out = {
      rows: this.ends.length,
      obs: Float32Array.from(this.obs),
      actions: Float32Array.from(this.actions),
      rewards: Float32Array.from(this.rewards),
      nextObs: Float32Array.from(this.nextObs),
      ends: Uint8Array.from(this.ends),
    };
    this.obs = [];
    this.actions = [];
    this.rewards = [];
    this.nextObs = [];
    this.ends = [];
    return out;
  }
}

export async function trainBehaviour(dir: string, options: BehaviourOptions): Promise<BehaviourResult> {
  if (!Number.isInteger(options.totalSteps) || options.totalSteps < 1) {
    throw new RangeError(`totalSteps must be a positive integer, got ${options.totalSteps}`);
  }
  const p = paths(dir);
  mkdirSync(p.snapshots, { recursive: true });
  mkdirSync(p.transitions, { recursive: true });
  const env = makeEnv(options.envId);
  const evalEnv = makeEnv(options.envId);
  try {
    const run = settleRunFile(dir, settingsOf(options, env));
    const maxAction = maxActionOf(env);
    const started = performance.now();

    // --- Restore the last checkpoint, dropping whatever a crash left after it. ---
    let cp = readCheckpoint(dir);
    const log = readTrainingLog(p.training).filter((l) => cp !== undefined && l.step <= cp.step);
    writeAtomic(p.training, log.map((l) => `${JSON.stringify(l)}\n`).join(''));
    for (const stray of strayFiles(dir, cp, [...log.map((l) => l.snapshot)])) rmSync(stray, { force: true });
    if (cp !== undefined && cp.step > options.totalSteps) {
      throw new BehaviourRunError(
        `${p.checkpoint}: the run is already at step ${cp.step} > --steps ${options.totalSteps}`,
      );
    }
    const resumedFrom = cp?.step;
    if (cp !== undefined && cp.step === options.totalSteps) {
      return { step: cp.step, resumedFrom, stopped: false, log }; // already done: touch nothing
    }

    let agent: Td3Agent;
    let replay: ReplayBuffer;
    const explorationRng = new Rng(deriveSeed(run.seed, STREAM.exploration));
    if (cp === undefined) {
      agent = new Td3Agent({
        obsDim: run.obsDim,
        actDim: run.actDim,
        maxAction,
        hidden: run.hidden,
        seed: deriveSeed(run.seed, STREAM.agent),
      });
      replay = new ReplayBuffer({
        obsDim: run.obsDim,
        actDim: run.actDim,
        capacity: run.replayCapacity,
        seed: deriveSeed(run.seed, STREAM.replay),
      });
    } else {
      ({ agent, replay } = restoreTraining(dir, run, cp));
      explorationRng.setState(cp.explorationRng);
      markCut(dir, run, cp);
    }

    let step = cp?.step ?? 0;
    /** Episodes ended (terminated, truncated or cut); the next one is reset with this index. */
    let episodes = (cp?.episodes ?? 0) + (cp?.episodeOpen ? 1 : 0);
    const chunks = cp ? [...cp.chunks] : [];
    const interval = new IntervalRows();
    let lastEpisodeReturn: number | undefined;

    const checkpoint = (episodeOpen: boolean) => {
      if (interval.rows > 0) {
        const start = step - interval.rows;
        const file = p.chunk(start);
        writeAtomic(join(dir, file), encodeRows(interval.take()));
        chunks.push({ file, start, rows: step - start });
      }
      const evaluation = evaluatePolicy(
        evalEnv,
        (o) => agent.act(o),
        run.evalEpisodes,
        deriveSeed(run.seed, STREAM.evaluation),
      );
      const snapshot = p.snapshot(step);
      const tmp = join(dir, `${snapshot}.tmp-${process.pid}.safetensors`);
      saveAgent(tmp, agent, { 'o2o.behaviour.step': String(step), 'o2o.behaviour.env': run.envId });
      renameSync(tmp, join(dir, snapshot));
      const line: TrainingLine = {
        step,
        snapshot,
        evalReturn: evaluation.meanReturn,
        evalStd: evaluation.stdReturn,
        evalReturns: evaluation.returns,
        episodes,
        updates: agent.updates,
        elapsedSeconds: (performance.now() - started) / 1000,
      };
      log.push(line);
      writeAtomic(p.training, log.map((l) => `${JSON.stringify(l)}\n`).join(''));
      const next: Checkpoint = {
        step,
        episodes,
        episodeOpen,
        snapshot,
        explorationRng: explorationRng.getState(),
        replayRng: replay.samplerState(),
        chunks: [...chunks],
      };
      writeAtomic(p.checkpoint, `${JSON.stringify(next)}\n`);
      cp = next;
      options.onSnapshot?.(line);
      options.onCheckpoint?.({ step, agent, replay, explorationRng: explorationRng.getState() });
    };

    if (cp === undefined) checkpoint(false); // step 0: the untrained policy's snapshot and return

    // Episode k is reset with its own derived seed, so a run resumed at an episode boundary goes on
    // exactly as the uninterrupted one would; after a cut the next index starts a fresh episode.
    const resetEpisode = () =>
      env.reset({ seed: deriveSeed(deriveSeed(run.seed, STREAM.episodes), episodes) });
    let obs = resetEpisode().obs;
    let episodeReturn = 0;
    const action = new Float32Array(run.actDim);
    const noiseStd = run.explorationNoise * maxAction;
    while (step < options.totalSteps) {
      step++;
      if (step <= run.startSteps) {
        for (let i = 0; i < run.actDim; i++) action[i] = explorationRng.uniform(-maxAction, maxAction);
      } else {
        agent.act(obs, action);
        for (let i = 0; i < run.actDim; i++) {
          const noisy = action[i]! + noiseStd * explorationRng.normal();
          action[i] = Math.min(maxAction, Math.max(-maxAction, noisy));
        }
      }
      const t = env.step(action);
      const end = t.terminated ? END.terminated : t.truncated ? END.truncated : END.none;
      interval.add(obs, action, t.reward, t.obs, end);
      replay.add(obs, action, t.reward, t.obs, t.terminated);
      episodeReturn += t.reward;
      if (end !== END.none) {
        episodes++;
        lastEpisodeReturn = episodeReturn;
        episodeReturn = 0;
        obs = resetEpisode().obs;
      } else {
        obs = t.obs;
      }
      if (step > run.startSteps) agent.update(replay.sample(run.batchSize));
      if (step % run.snapshotEvery === 0 || step === options.totalSteps) {
        checkpoint(end === END.none);
      }
      options.onProgress?.({
        step,
        totalSteps: options.totalSteps,
        episodes,
        lastEpisodeReturn,
        resumedFrom,
      });
      // The loop is synchronous: let the event loop run now and then so signal handlers can fire.
      if (step % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (step < options.totalSteps && options.shouldStop?.()) {
        return { step: cp?.step ?? 0, resumedFrom, stopped: true, log };
      }
    }
    return { step, resumedFrom, stopped: false, log };
  } finally {
    env.close();
    evalEnv.close();
  }
}
