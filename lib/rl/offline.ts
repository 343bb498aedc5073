// Offline pre-training with TD3+BC on a fixed dataset, optionally with the paper's world-model
// augmentation: every update samples a batch, lets the augmenter replace a fraction of its next
// states, then makes one TD3+BC update. Evaluation in the real environment every `evalEvery` updates.
import { deriveSeed } from '../envs/rng.ts';
import type { Env } from '../envs/types.ts';
import type { NextStateAugmenter } from './augment.ts';
import { type EvaluationResult, evaluatePolicy } from './evaluate.ts';
import type { ReplayBuffer } from './replay-buffer.ts';
import type { Td3Agent, Td3UpdateMetrics } from './td3.ts';

export interface OfflineConfig {
  updates: number;
  batchSize: number;
  evalEvery: number;
  evalEpisodes: number;
  seed: number;
}

export interface OfflineHooks {
  /** May be async (e.g. diagnostics that query the world model); training waits for it. */
  onEvaluation?(
    update: number,
    result: EvaluationResult,
    last: Td3UpdateMetrics | undefined,
  ): void | Promise<void>;
  /** After every update (keep it cheap): e.g. progress output or critic diagnostics. */
  onUpdate?(update: number, metrics: Td3UpdateMetrics): void;
}

export interface OfflineResult {
  evaluations: { update: number; result: EvaluationResult }[];
}

export async function pretrainOffline(
  agent: Td3Agent,
  data: ReplayBuffer,
  evalEnv: Env | undefined,
  config: OfflineConfig,
  augmenter?: NextStateAugmenter,
  hooks: OfflineHooks = {},
): Promise<OfflineResult> {
  if (agent.config.bcAlpha === undefined) {
    throw new Error('pretrainOffline: the agent has no bcAlpha; offline pre-training is TD3+BC');
  }
  if (data.obsDim !== agent.config.obsDim || data.actDim !== agent.config.actDim) {
    throw new Error(
      `pretrainOffline: dataset dims ${data.obsDim}/${data.actDim} differ from the agent's ` +
        `${agent.config.obsDim}/${agent.config.actDim}`,
    );
  }
  const policy = (o: Float64Array) => agent.act(o);
  const evaluations: OfflineResult['evaluations'] = [];
  let last: Td3UpdateMetrics | undefined;
  for (let u = 1; u <= config.updates; u++) {
    const batch = data.sample(config.batchSize);
    if (augmenter !== undefined) await augmenter.apply(batch);
    last = agent.update(batch);
    hooks.onUpdate?.(u, last);
    if (evalEnv !== undefined && u % config.evalEvery === 0) {
      const result = evaluatePolicy(evalEnv, policy, config.evalEpisodes, deriveSeed(config.seed, 3));
      evaluations.push({ update: u, result });
      await hooks.onEvaluation?.(u, result, last);
    }
  }
  return { evaluations };
}
