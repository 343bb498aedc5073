// PHASE_ONLINE, lockstep mode: TD3 fine-tuning (or TD3 from scratch) exactly as `o2o train` runs it, with
// the environment behind deps.openTrainEnv (a simulator service) and evaluation in-process. Checkpoints
// every deps.checkpointEvery steps into online-checkpoints/; a request for the same run id that finds one
// resumes from it. A simulator lost mid-phase hands the request back for redelivery (PhaseRetryLater),
// which resumes from the last checkpoint with a simulator found anew. Writes final.safetensors and
// online-metrics.jsonl.
import { existsSync, mkdirSync } from 'node:fs';
import type { PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import { makeEnv } from '../../lib/envs/registry.ts';
import { loadAgent, saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import { type OnlineCheckpointState, type OnlineConfig, trainOnline } from '../../lib/rl/online.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { PhaseRetryLater } from '../../lib/services/phase-worker.ts';
import { runActorOnlinePhase } from './actor-online-phase.ts';
import { loadOnlineCheckpoint, saveOnlineCheckpoint } from './checkpoint.ts';
import { type ClosableOnlineEnv, type PhaseDeps, type PhaseHandler, PhaseInterrupted } from './deps.ts';
import { MetricsLog, RateMeter, truncateMetricsAfter } from './metrics-log.ts';
import { runPaths } from './paths.ts';
import { type LearnerSpec, parseLearnerSpec } from './spec.ts';

/** The training environment (a simulator service) failed: the phase can resume with another one. */
class TrainEnvLost extends Error {
  override readonly name = 'TrainEnvLost';
}

/** `env` with its failures marked as TrainEnvLost, so they are told from the learner's own errors. */
function guarded(env: ClosableOnlineEnv): ClosableOnlineEnv {
  const lost = (err: unknown): never => {
    throw new TrainEnvLost(err instanceof Error ? err.message : String(err));
  };
  return {
    id: env.id,
    observationSpace: env.observationSpace,
    actionSpace: env.actionSpace,
    reset: async (options) => {
      try {
        return await env.reset(options);
      } catch (err) {
        return lost(err);
      }
    },
    step: async (action) => {
      try {
        return await env.step(action);
      } catch (err) {
        return lost(err);
      }
    },
    close: () => env.close?.(),
  };
}

export const FINAL_AGENT = 'final.safetensors';
export const ONLINE_METRICS = 'online-metrics.jsonl';
export const ONLINE_CHECKPOINTS = 'online-checkpoints';

/** The online configuration `o2o train` uses for this spec. */
export function onlineConfig(spec: LearnerSpec, checkpointEvery: number): OnlineConfig {
  const scratch = spec.variant === 'scratch';
  return {
    totalSteps: spec.online.steps,
    startSteps: scratch ? spec.online.startSteps : 0,
    warmupSteps: scratch ? 0 : spec.online.warmupSteps,
    explorationNoise: spec.online.explorationNoise,
    batchSize: spec.online.batchSize,
    replayCapacity: Math.max(1, spec.online.steps),
    evalEvery: spec.online.evalEvery,
    evalEpisodes: spec.online.evalEpisodes,
    seed: spec.seed,
    checkpointEvery,
  };
}

/** The agent online training starts from: fresh (scratch) or fine-tuned from the offline agent. */
export function startingAgent(
  spec: LearnerSpec,
  request: PhaseRequest,
  file: (p: string, what: string) => string,
  dims: { obsDim: number; actDim: number; maxAction: number },
): Td3Agent {
  if (spec.variant === 'scratch')
    return new Td3Agent({
      ...dims,
      hidden: spec.agent.hidden,
      criticLayerNorm: spec.agent.criticLayerNorm,
      seed: spec.seed,
    });
  const input = request.inputs.agent;
  if (!input) throw new Error('inputs.agent: missing (the offline phase output)');
  const { agent: offline } = loadAgent(file(input, 'inputs.agent'));
  if (offline.config.obsDim !== dims.obsDim || offline.config.actDim !== dims.actDim) {
    throw new Error(
      `inputs.agent: dims ${offline.config.obsDim}/${offline.config.actDim} do not match ${spec.env}`,
    );
  }
  return Td3Agent.fineTuneFrom(
    offline,
    { actor: spec.pretrain !== 'critic', critic: spec.pretrain !== 'actor' },
    spec.seed + 1,
  );
}

/** The checkpoint of this run to resume from, if any (one of another run id is an error, not a resume). */
export function resumable(dir: string, runId: string, deps: PhaseDeps) {
  const found = loadOnlineCheckpoint(dir);
  if (found === undefined) return undefined;
  if (found.meta.run_id !== runId) {
    throw new Error(`${found.path}: checkpoint of run '${found.meta.run_id}', not '${runId}'`);
  }
  deps.log(`resuming ${runId} online at step ${found.state.step} from ${found.path}`);
  return found;
}

export const runOnlinePhase: PhaseHandler = async (request, deps) => {
  if (deps.onlineMode === 'actor') return runActorOnlinePhase(request, deps);
  const spec = parseLearnerSpec(request.specJson);
  const run = runPaths(deps.runRoot, request.runDir);
  mkdirSync(run.dir, { recursive: true });
  const checkpointDir = run.file(ONLINE_CHECKPOINTS, 'checkpoints');
  const evalEnv = makeEnv(spec.env, spec.envOptions);
  let env: ClosableOnlineEnv | undefined;
  try {
    const dims = {
      obsDim: evalEnv.observationSpace.shape[0],
      actDim: evalEnv.actionSpace.shape[0],
      maxAction: evalEnv.actionSpace.high[0]!,
    };
    const resume = resumable(checkpointDir, request.runId, deps);
    const agent = resume?.agent ?? startingAgent(spec, request, run.file, dims);
    const config = onlineConfig(spec, deps.checkpointEvery);
    const metricsPath = run.file(ONLINE_METRICS, 'metrics');
    if (resume !== undefined) {
      const dropped = truncateMetricsAfter(metricsPath, resume.state.step);
      if (dropped > 0) deps.log(`${ONLINE_METRICS}: dropped ${dropped} row(s) logged after the checkpoint`);
    }
    const metrics = new MetricsLog(metricsPath, spec.env, resume !== undefined && existsSync(metricsPath));
    env = guarded(await deps.openTrainEnv(spec.env, spec.seed, spec.envOptions));
    const total = config.totalSteps;
    Object.assign(deps.status, {
      runId: request.runId,
      phase: 'online',
      step: resume?.state.step ?? 0,
      total,
      envId: spec.env,
      envOptions: spec.envOptions,
      agent,
      checkpointPath: resume?.path ?? '',
    });
    const rate = new RateMeter();
    rate.sample(resume?.state.step ?? 0);
    let lastUpdate: { criticLoss: number; q1Mean: number } | undefined;
    let lastCheckpoint = resume?.path ?? '';
    const checkpoint = (state: OnlineCheckpointState) => {
      lastCheckpoint = saveOnlineCheckpoint(checkpointDir, agent, state, {
        run_id: request.runId,
        phase: 'online',
        variant: spec.variant,
      });
      deps.status.checkpointPath = lastCheckpoint;
    };
    const result = await trainOnline(
      env,
      evalEnv,
      agent,
      config,
      {
        onEpisode: (p) => {
          lastUpdate = p.update;
        },
        onEvaluation: (s, r) => {
          // A resumed run re-evaluates nothing: the history comes from the checkpoint.
          metrics.record('online', s, r, lastUpdate);
          deps.status.lastEvaluation = r.meanReturn;
        },
        onStep: (s) => {
          deps.status.step = s;
          if (s % 50 === 0 || s === total) {
            const sps = rate.sample(s);
            deps.status.updatesPerSecond = sps;
            const last = deps.status.lastEvaluation;
            deps.progress(request, {
              step: s,
              total,
              metrics: { steps_per_second: sps, ...(last === undefined ? {} : { last_return: last }) },
              message: `online ${s}/${total}`,
            });
          }
        },
        onCheckpoint: checkpoint,
        interrupt: () => deps.stopping(),
      },
      resume?.state,
    ).catch((err: unknown) => {
      if (!(err instanceof TrainEnvLost)) throw err;
      // The simulator died mid-episode: hand the request back; its redelivery resumes from the last
      // checkpoint (its steps are redone, none counted twice) with a simulator found anew.
      const from = lastCheckpoint === '' ? 'the start' : `the checkpoint at ${lastCheckpoint}`;
      throw new PhaseRetryLater(
        `simulator lost at step ${deps.status.step} (${err.message}); resuming from ${from} with another simulator`,
        1_000,
      );
    });
    if (result.interrupted) throw new PhaseInterrupted(lastCheckpoint);
    const agentPath = run.file(FINAL_AGENT, 'agent');
    saveAgent(agentPath, agent, { phase: 'online', variant: spec.variant, run_id: request.runId });
    const final = result.evaluations.at(-1)?.result;
    const out: Record<string, number> = { steps: total, episodes: result.episodes };
    if (final) {
      out.return_mean = final.meanReturn;
      out.return_std = final.stdReturn;
      const score = metrics.score(final.meanReturn);
      if (score !== null) out.normalized_score = score;
    }
    return { outputs: { agent: FINAL_AGENT, metrics: ONLINE_METRICS }, metrics: out };
  } finally {
    evalEnv.close();
    await env?.close?.();
  }
};
