// PHASE_ONLINE in actor mode: the same starting agent and evaluation schedule as lockstep, with
// transitions streamed from every live simulator (actor-mode.ts). Not checkpointed: an interrupted
// actor-mode phase starts over when redelivered.
import { mkdirSync } from 'node:fs';
import { makeEnv } from '../../lib/envs/registry.ts';
import { saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import { trainActorMode } from './actor-mode.ts';
import { type PhaseHandler, PhaseInterrupted } from './deps.ts';
import { MetricsLog, RateMeter } from './metrics-log.ts';
import { FINAL_AGENT, ONLINE_METRICS, onlineConfig, startingAgent } from './online-phase.ts';
import { runPaths } from './paths.ts';
import { parseLearnerSpec } from './spec.ts';

export const runActorOnlinePhase: PhaseHandler = async (request, deps) => {
  const spec = parseLearnerSpec(request.specJson);
  if (deps.openSimulatorDirectory === undefined)
    throw new Error('actor mode needs simulator discovery (NATS)');
  const run = runPaths(deps.runRoot, request.runDir);
  mkdirSync(run.dir, { recursive: true });
  const evalEnv = makeEnv(spec.env, spec.envOptions);
  const directory = await deps.openSimulatorDirectory(spec.env, spec.envOptions);
  try {
    const dims = {
      obsDim: evalEnv.observationSpace.shape[0],
      actDim: evalEnv.actionSpace.shape[0],
      maxAction: evalEnv.actionSpace.high[0]!,
    };
    const agent = startingAgent(spec, request, run.file, dims);
    const base = onlineConfig(spec, 0);
    const metrics = new MetricsLog(run.file(ONLINE_METRICS, 'metrics'), spec.env);
    const total = base.totalSteps;
    Object.assign(deps.status, {
      runId: request.runId,
      phase: 'online',
      step: 0,
      total,
      envId: spec.env,
      envOptions: spec.envOptions,
      agent,
    });
    const rate = new RateMeter();
    let lastReport = 0;
    const result = await trainActorMode(
      directory,
      evalEnv,
      agent,
      { ...base, updateToData: spec.online.updateToData, policySyncEvery: spec.online.policySyncEvery },
      {
        log: deps.log,
        stopping: () => deps.stopping(),
        onEvaluation: (s, r) => {
          metrics.record('online', s, r);
          deps.status.lastEvaluation = r.meanReturn;
        },
        onProgress: (p) => {
          deps.status.step = p.step;
          if (p.step - lastReport < 50 && p.step < total) return;
          lastReport = p.step;
          const ups = rate.sample(p.updates);
          deps.status.updatesPerSecond = ups;
          const last = deps.status.lastEvaluation;
          deps.progress(request, {
            step: p.step,
            total,
            metrics: {
              updates_per_second: ups,
              simulators: p.simulators,
              ...(last === undefined ? {} : { last_return: last }),
            },
            message: `online (actor) ${p.step}/${total}, ${p.simulators} simulators`,
          });
        },
      },
    );
    if (result.interrupted) throw new PhaseInterrupted('');
    saveAgent(run.file(FINAL_AGENT, 'agent'), agent, {
      phase: 'online',
      variant: spec.variant,
      run_id: request.runId,
    });
    const final = result.evaluations.at(-1)?.result;
    const out: Record<string, number> = {
      steps: result.steps,
      updates: result.updates,
      episodes: result.episodes,
      simulators: result.tallies.length,
      seq_gaps: result.tallies.reduce((n, t) => n + t.gaps, 0),
      duplicate_batches: result.tallies.reduce((n, t) => n + t.duplicates, 0),
    };
    if (final) {
      out.return_mean = final.meanReturn;
      const score = metrics.score(final.meanReturn);
      if (score !== null) out.normalized_score = score;
    }
    return { outputs: { agent: FINAL_AGENT, metrics: ONLINE_METRICS }, metrics: out };
  } finally {
    directory.stop();
    evalEnv.close();
  }
};
