// PHASE_EVALUATION: the final agent's deterministic return over N episodes in-process, with its
// D4RL-normalised score where the task has reference returns.
import { normalizedScore, scoreFamily } from '../../lib/data/normalized-score.ts';
import { describeEnv } from '../../lib/envs/env-options-text.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed } from '../../lib/envs/rng.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { type EvaluationResult, evaluatePolicy } from '../../lib/rl/evaluate.ts';
import type { Td3Agent } from '../../lib/rl/td3.ts';
import type { PhaseHandler } from './deps.ts';
import { runPaths } from './paths.ts';
import { parseLearnerSpec } from './spec.ts';

export interface Evaluation extends EvaluationResult {
  normalizedScore: number | undefined;
}

/** Deterministic evaluation of `agent` on `envId` with `envOptions`; episodes from seeds derived from `seed`. */
export function evaluateAgent(
  agent: Td3Agent,
  envId: string,
  episodes: number,
  seed: number,
  envOptions?: Record<string, unknown>,
): Evaluation {
  const env = makeEnv(envId, envOptions);
  try {
    if (
      env.observationSpace.shape[0] !== agent.config.obsDim ||
      env.actionSpace.shape[0] !== agent.config.actDim
    ) {
      throw new Error(
        `the agent's dims ${agent.config.obsDim}/${agent.config.actDim} do not match ${describeEnv(envId, envOptions)}`,
      );
    }
    const result = evaluatePolicy(env, (o) => agent.act(o), episodes, seed);
    const family = scoreFamily(envId);
    return {
      ...result,
      normalizedScore: family === undefined ? undefined : normalizedScore(family, result.meanReturn),
    };
  } finally {
    env.close();
  }
}

export const runEvaluationPhase: PhaseHandler = async (request, deps) => {
  const spec = parseLearnerSpec(request.specJson);
  const run = runPaths(deps.runRoot, request.runDir);
  const input = request.inputs.agent;
  if (!input) throw new Error('inputs.agent: missing (the online phase output)');
  const { agent } = loadAgent(run.file(input, 'inputs.agent'));
  const episodes = spec.evaluation.episodes;
  // Seed index 6: episodes other than the ones training evaluated on (index 3).
  const seed = spec.evaluation.seed ?? deriveSeed(spec.seed, 6);
  Object.assign(deps.status, {
    runId: request.runId,
    phase: 'evaluation',
    step: 0,
    total: episodes,
    agent,
    envId: spec.env,
    envOptions: spec.envOptions,
  });
  const r = evaluateAgent(agent, spec.env, episodes, seed, spec.envOptions);
  deps.status.step = episodes;
  deps.status.lastEvaluation = r.meanReturn;
  const metrics: Record<string, number> = {
    episodes,
    return_mean: r.meanReturn,
    return_std: r.stdReturn,
    length_mean: r.meanLength,
  };
  if (r.normalizedScore !== undefined) metrics.normalized_score = r.normalizedScore;
  return { outputs: {}, metrics };
};
