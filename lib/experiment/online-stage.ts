// Stage 3: online TD3 (from scratch, or fine-tuning the pre-trained parts), checkpointed with the agent,
// optimisers, replay, generators, counters and evaluation history at the first episode end after every
// `onlineCheckpointEvery` steps (lib/rl/online-checkpoint.ts), so a resumed run repeats an uninterrupted
// one exactly and a kill loses at most one interval.
import type { OfflineDataset } from '../data/dataset.ts';
import type { Env, StepResult } from '../envs/types.ts';
import {
  type CriticVsReturns,
  criticVsReturns,
  type MonteCarloTargets,
  monteCarloTargets,
  onPolicyCriticVsReturns,
} from '../rl/critic-diagnostics.ts';
import { type OnlineEnv, trainOnline } from '../rl/online.ts';
import { loadOnlineCheckpoint, saveOnlineCheckpoint } from '../rl/online-checkpoint.ts';
import type { Td3Agent, Td3UpdateMetrics } from '../rl/td3.ts';
import type { StageContext } from './context.ts';
import { EvalRecorder, upTo } from './eval-recorder.ts';
import { evaluationEvent } from './pipeline-spans.ts';
import type { CriticLog, MetricsLog, MetricsRow } from './run-log.ts';

export const ONLINE_BATCH_SIZE = 256;
export const EXPLORATION_NOISE = 0.1;

/** The local env, but every `every`-th step resolves on a later turn of the event loop (signals). */
export function yieldingEnv(env: Env, every = 256): OnlineEnv {
  let steps = 0;
  return {
    id: env.id,
    observationSpace: env.observationSpace,
    actionSpace: env.actionSpace,
    reset: (options) => env.reset(options),
    step: (action): StepResult | Promise<StepResult> => {
      const result = env.step(action);
      if (++steps % every !== 0) return result;
      return new Promise((resolve) => setImmediate(() => resolve(result)));
    },
  };
}

export interface OnlineStageInput {
  env: Env;
  evalEnv: Env;
  /** The agent to start from when there is no checkpoint (built lazily: pre-training may be skipped). */
  start(): Td3Agent;
  /** The offline rows that open the run's metrics and critic logs. */
  offlineMetrics: MetricsRow[];
  offlineCritic: unknown[];
  dataset: OfflineDataset | undefined;
  checkpoints: string;
  metrics: MetricsLog;
  critic: CriticLog;
}

export interface OnlineStageResult {
  agent: Td3Agent;
  lastRow: MetricsRow | undefined;
  seconds: number;
}

export async function runOnline(
  ctx: StageContext,
  input: OnlineStageInput,
): Promise<OnlineStageResult | 'interrupted'> {
  const c = ctx.config;
  const { metrics, critic } = input;
  const resumed = loadOnlineCheckpoint(input.checkpoints);
  let agent: Td3Agent;
  let last: Td3UpdateMetrics | undefined;
  let seconds = 0;
  if (resumed !== undefined) {
    agent = resumed.agent;
    const meta = resumed.meta;
    last = meta['lastUpdate'] === undefined ? undefined : JSON.parse(meta['lastUpdate']);
    seconds = Number(meta['seconds'] ?? 0);
    const step = resumed.state.step;
    metrics.reset(metrics.rows().filter((r) => r.phase === 'offline' || r.step <= step));
    critic.reset(critic.rows().filter((r) => r.phase === 'offline' || upTo([r], step).length > 0));
    ctx.log(`[online] resuming at step ${step}/${c.onlineSteps} from ${resumed.path}`);
  } else {
    agent = input.start();
    metrics.reset(input.offlineMetrics);
    critic.reset(input.offlineCritic);
  }
  // The dataset's Monte-Carlo returns, to follow the critic on the dataset during fine-tuning too.
  let targets: { dataset: OfflineDataset; mc: MonteCarloTargets } | undefined;
  if (input.dataset !== undefined) {
    const mc = monteCarloTargets(input.dataset, agent.config.gamma);
    if (mc.complete.includes(1)) targets = { dataset: input.dataset, mc };
  }
  const recorder = new EvalRecorder(c.env);
  recorder.restart(resumed?.state.step ?? 0);
  let clock = performance.now();
  const progress = ctx.progress('online', c.onlineSteps, resumed?.state.step ?? 0);
  let lastRow: MetricsRow | undefined = metrics.rows().at(-1);
  const scratch = c.variant === 'scratch';
  const result = await trainOnline(
    yieldingEnv(input.env),
    input.evalEnv,
    agent,
    {
      totalSteps: c.onlineSteps,
      startSteps: scratch ? c.startSteps : 0,
      warmupSteps: scratch ? 0 : c.warmupSteps,
      explorationNoise: EXPLORATION_NOISE,
      batchSize: ONLINE_BATCH_SIZE,
      replayCapacity: Math.max(1, c.onlineSteps),
      evalEvery: c.evalEvery,
      evalEpisodes: c.evalEpisodes,
      seed: c.seed,
      recordEvaluations: true,
      checkpointEvery: c.onlineCheckpointEvery,
      checkpointAtEpisodeEnd: true,
    },
    {
      onEpisode: (p) => {
        last = p.update;
      },
      onEvaluation: (s, r) => {
        const row = recorder.row('online', s, r, last);
        metrics.append(row);
        evaluationEvent(row);
        lastRow = row;
        progress.clear();
        ctx.log(EvalRecorder.describe(row));
        // The critic on the policy's own evaluation episodes and (when there is one) on the dataset.
        const onPolicy = onPolicyCriticVsReturns(agent, r.trajectories ?? [], agent.config.gamma);
        let onDataset: CriticVsReturns | null = null;
        if (targets !== undefined)
          onDataset = criticVsReturns(agent, targets.dataset, targets.mc, 1024, c.seed);
        critic.append({ phase: 'online', step: s, onPolicy, vsReturns: onDataset });
      },
      onStep: (s) => progress.update(s, recorder.lastEval),
      interrupt: ctx.shouldStop,
      onCheckpoint: (state) => {
        const now = performance.now();
        seconds += (now - clock) / 1000;
        clock = now;
        const meta: Record<string, string> = { seconds: String(seconds), step: String(state.step) };
        if (last !== undefined) meta['lastUpdate'] = JSON.stringify(last);
        saveOnlineCheckpoint(input.checkpoints, agent, state, meta);
      },
    },
    resumed?.state,
  );
  progress.done();
  seconds += (performance.now() - clock) / 1000;
  if (result.interrupted) return 'interrupted';
  return { agent, lastRow, seconds };
}
