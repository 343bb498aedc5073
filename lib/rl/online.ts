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
}

export interface OnlineResult {
  evaluations: { step: number; result: EvaluationResult }[];
  episodes: number;
}

export async function trainOnline(
  env: OnlineEnv,
  evalEnv: Env,
  agent: Td3Agent,
  config: OnlineConfig,
  hooks: OnlineHooks = {},
): Promise<OnlineResult> {
  const { obsDim, actDim, maxAction } = agent.config;
  if (env.observationSpace.shape[0] !== obsDim || env.actionSpace.shape[0] !== actDim) {
    throw new Error(
      `trainOnline: ${env.id} has obs/action dims ${env.observationSpace.shape[0]}/${env.actionSpace.shape[0]}, ` +
        `the agent ${obsDim}/${actDim}`,
    );
  }
  const replay = new ReplayBuffer({
    obsDim,
    actDim,
    capacity: config.replayCapacity,
    seed: deriveSeed(config.seed, 1),
  });
  const rng = new Rng(deriveSeed(config.seed, 2));
  const policy = (o: Float64Array) => agent.act(o);
  const evaluations: OnlineResult['evaluations'] = [];
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
  let obs = (await env.reset({ seed: deriveSeed(config.seed, 0) })).obs;
  let episodeReturn = 0;
  let episodes = 0;
  let lastEpisodeReturn: number | undefined;
  let lastUpdate: Td3UpdateMetrics | undefined;
  evaluate(0);
  for (let step = 1; step <= config.totalSteps; step++) {
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
    if (t.terminated || t.truncated) {
      episodes++;
      lastEpisodeReturn = episodeReturn;
      hooks.onEpisode?.({ step, episodes, lastEpisodeReturn, update: lastUpdate });
      episodeReturn = 0;
      obs = (await env.reset()).obs;
    }
    if (step > config.startSteps + config.warmupSteps) {
      lastUpdate = agent.update(replay.sample(config.batchSize));
    }
    hooks.onStep?.(step);
    if (step % config.evalEvery === 0 && evaluate(step)) break;
  }
  return { evaluations, episodes };
}
