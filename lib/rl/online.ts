// Online TD3 in an environment, one update per environment step (Fujimoto et al.'s schedule):
//   - from scratch: the first `startSteps` steps act uniformly at random;
//   - fine-tuning a pre-trained agent: the first `warmupSteps` steps act with the policy plus Gaussian
//     noise and make no updates (the paper's 25k), filling the fresh replay buffer;
//   - afterwards: act with π(s) + N(0, explorationNoise·maxAction), clipped, then update once.
// Bootstrapping stops at `terminated` only; a time-limit truncation is stored as non-terminal.
import { deriveSeed, Rng } from '../envs/rng.ts';
import type { Env, ResetOptions, ResetResult, StepResult } from '../envs/types.ts';
import { type EvaluationResult, evaluatePolicy } from './evaluate.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type { Td3Agent, Td3UpdateMetrics } from './td3.ts';

/**
 * What training needs from the environment it acts in: an in-process `Env`, or a remote one whose
 * reset and step are asynchronous (a simulator service in lockstep mode). Evaluation always runs on a
 * local `Env`.
 */
export interface OnlineEnv {
  readonly id: string;
  readonly observationSpace: Env['observationSpace'];
  readonly actionSpace: Env['actionSpace'];
  reset(options?: ResetOptions): ResetResult | Promise<ResetResult>;
  step(action: ArrayLike<number>): StepResult | Promise<StepResult>;
}

export interface OnlineConfig {
  totalSteps: number;
  /** Uniformly random actions for this many first steps (TD3 from scratch: 25,000). */
  startSteps: number;
  /** Policy-plus-noise steps without updates before learning starts (fine-tuning: 25,000). */
  warmupSteps: number;
  explorationNoise: number;
  batchSize: number;
  replayCapacity: number;
  evalEvery: number;
  evalEpisodes: number;
  seed: number;
  /** Keep the evaluation episodes in each EvaluationResult (for on-policy critic diagnostics). */
  recordEvaluations?: boolean;
  /** Call `hooks.onCheckpoint` every this many steps (absent or 0: never, except on interruption). */
  checkpointEvery?: number;
  /**
   * Checkpoint (and honour `hooks.interrupt`) only at the first episode end after every `checkpointEvery`
   * steps, and start every episode from a seed derived from its first step (the reset seed a resumed run
   * uses), so resuming from any checkpoint repeats the uninterrupted run exactly (no episode is in flight
   * at a checkpoint).
   */
  checkpointAtEpisodeEnd?: boolean;
}

/** Everything trainOnline needs, besides the agent itself, to continue a run where it stopped. */
export interface OnlineCheckpointState {
  /** Steps done so far. */
  step: number;
  episodes: number;
  lastEpisodeReturn: number | undefined;
  replay: ReplayBuffer;
  /** State of the exploration-noise / random-action generator. */
  explorationRng: [number, number, number, number];
  evaluations: OnlineResult['evaluations'];
}

export interface OnlineProgress {
  step: number;
  episodes: number;
  lastEpisodeReturn: number | undefined;
  update: Td3UpdateMetrics | undefined;
}

export interface OnlineHooks {
  /** After every evaluation (at step 0 too, before any learning). */
  onEvaluation?(step: number, result: EvaluationResult): void;
  /** After each finished episode. */
  onEpisode?(progress: OnlineProgress): void;
  /** After every environment step (keep it cheap): progress output. */
  onStep?(step: number): void;
  /** Checked after every evaluation: true ends training early (e.g. a solved task). */
  stopAfter?(step: number, result: EvaluationResult): boolean;
  /**
   * Every `config.checkpointEvery` steps and when interrupted: the state to save (with the agent) so
   * that a later call with `resume` continues from here. Training waits for it.
   */
  onCheckpoint?(state: OnlineCheckpointState): void | Promise<void>;
  /** Checked after every step: true checkpoints (through onCheckpoint) and returns with `interrupted`. */
  interrupt?(): boolean;
}

export interface OnlineResult {
  evaluations: { step: number; result: EvaluationResult }[];
  episodes: number;
  /** True when `hooks.interrupt` stopped training before `totalSteps`. */
  interrupted?: boolean;
}

export async function trainOnline(
  env: OnlineEnv,
  evalEnv: Env,
  agent: Td3Agent,
  config: OnlineConfig,
  hooks: OnlineHooks = {},
  resume?: OnlineCheckpointState,
): Promise<OnlineResult> {
  const { obsDim, actDim, maxAction } = agent.config;
  if (env.observationSpace.shape[0] !== obsDim || env.actionSpace.shape[0] !== actDim) {
    throw new Error(
      `trainOnline: ${env.id} has obs/action dims ${env.observationSpace.shape[0]}/${env.actionSpace.shape[0]}, ` +
        `the agent ${obsDim}/${actDim}`,
    );
  }
  const replay =
    resume?.replay ??
    new ReplayBuffer({
      obsDim,
      actDim,
      capacity: config.replayCapacity,
      seed: deriveSeed(config.seed, 1),
    });
  if (replay.obsDim !== obsDim || replay.actDim !== actDim) {
    throw new Error(`trainOnline: the resumed replay buffer has dims ${replay.obsDim}/${replay.actDim}`);
  }
  const rng = new Rng(deriveSeed(config.seed, 2));
  if (resume !== undefined) rng.setState(resume.explorationRng);
  const policy = (o: Float64Array) => agent.act(o);
  const evaluations: OnlineResult['evaluations'] = resume ? [...resume.evaluations] : [];
  /** Evaluates and says whether to stop. */
  const evaluate = (step: number): boolean => {
    const result = evaluatePolicy(evalEnv, policy, config.evalEpisodes, deriveSeed(config.seed, 3), {
      record: config.recordEvaluations ?? false,
    });
    // Trajectories are for the hook only: the run's history keeps the summary.
    const { trajectories: _kept, ...summary } = result;
    evaluations.push({ step, result: summary });
    hooks.onEvaluation?.(step, result);
    return hooks.stopAfter?.(step, result) ?? false;
  };

  const action = new Float32Array(actDim);
  const noiseStd = config.explorationNoise * maxAction;
  // A resumed run starts a fresh episode (the environment's mid-episode state is not checkpointed),
  // from a seed of its own so that it does not replay the run's first episode.
  const resetSeed = resume ? deriveSeed(deriveSeed(config.seed, 4), resume.step) : deriveSeed(config.seed, 0);
  let obs = (await env.reset({ seed: resetSeed })).obs;
  let episodeReturn = 0;
  let episodes = resume?.episodes ?? 0;
  let lastEpisodeReturn: number | undefined = resume?.lastEpisodeReturn;
  let lastUpdate: Td3UpdateMetrics | undefined;
  const checkpoint = async (step: number) =>
    hooks.onCheckpoint?.({
      step,
      episodes,
      lastEpisodeReturn,
      replay,
      explorationRng: rng.getState(),
      evaluations: [...evaluations],
    });
  if (resume === undefined) evaluate(0);
  const atEpisodeEnd = config.checkpointAtEpisodeEnd === true;
  let checkpointDue = false;
  for (let step = (resume?.step ?? 0) + 1; step <= config.totalSteps; step++) {
    if (step <= config.startSteps) {
      for (let i = 0; i < actDim; i++) action[i] = rng.uniform(-maxAction, maxAction);
    } else {
      agent.act(obs, action);
      for (let i = 0; i < actDim; i++) {
        action[i] = Math.min(maxAction, Math.max(-maxAction, action[i]! + noiseStd * rng.normal()));
      }
    }
    const t = await env.step(action);
    replay.add(obs, action, t.reward, t.obs, t.terminated);
    episodeReturn += t.reward;
    obs = t.obs;
    const episodeEnded = t.terminated || t.truncated;
    if (episodeEnded) {
      episodes++;
      lastEpisodeReturn = episodeReturn;
      hooks.onEpisode?.({ step, episodes, lastEpisodeReturn, update: lastUpdate });
      episodeReturn = 0;
      if (!atEpisodeEnd) obs = (await env.reset()).obs;
    }
    if (step > config.startSteps + config.warmupSteps) {
      lastUpdate = agent.update(replay.sample(config.batchSize));
    }
    hooks.onStep?.(step);
    if (step % config.evalEvery === 0 && evaluate(step)) break;
    if (atEpisodeEnd) {
      if (config.checkpointEvery && step % config.checkpointEvery === 0) checkpointDue = true;
      if (!episodeEnded) continue;
      // Between episodes: checkpoint if due or asked to stop. Every episode starts from the seed a run
      // resumed from this step would use, so any episode end can be a resume point.
      const stop = step < config.totalSteps && hooks.interrupt?.() === true;
      if (checkpointDue || stop) {
        checkpointDue = false;
        await checkpoint(step);
        if (stop) return { evaluations, episodes, interrupted: true };
      }
      obs = (await env.reset({ seed: deriveSeed(deriveSeed(config.seed, 4), step) })).obs;
      continue;
    }
    if (config.checkpointEvery && step % config.checkpointEvery === 0) await checkpoint(step);
    if (step < config.totalSteps && hooks.interrupt?.()) {
      if (!(config.checkpointEvery && step % config.checkpointEvery === 0)) await checkpoint(step);
      return { evaluations, episodes, interrupted: true };
    }
  }
  return { evaluations, episodes };
}
