// PHASE_OFFLINE: TD3+BC on the run's dataset, with the world model (through deps.openWorldModel: the
// world-model service or the file in-process) replacing a fraction of next states in every batch; the
// same steps, seeds and critic diagnostics as `o2o train`, plus, when the dataset phase drew them
// (inputs.critic_check, for a subset), the critic's held-out check at every evaluation. Writes
// offline.safetensors, offline-metrics.jsonl and offline-critic.jsonl into the run directory.
// It trains in segments of deps.offlineCheckpointEvery updates (rounded to whole evaluation intervals), each
// drawing its batches and augmentation choices from generators seeded by (seed, segment) and ending in a
// checkpoint (offline-checkpoint.ts), as `o2o experiment` does: a request for the same run id resumes from
// the last one, and (the world model's noise being reseeded per segment too, in-process or remote) ends
// exactly where an uninterrupted phase would. On shutdown the phase stops at once; the segment under way is redone.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadDataset } from '../../lib/data/load.ts';
import { checkRecordedOnRunOptions, describeEnv } from '../../lib/envs/env-options-text.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed } from '../../lib/envs/rng.ts';
import { readJsonl } from '../../lib/experiment/run-log.ts';
import { saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import { NextStateAugmenter } from '../../lib/rl/augment.ts';
import {
  criticOnHeldOutCheck,
  type HeldOutCheck,
  monteCarloTargets,
  offlineCriticDiagnostics,
} from '../../lib/rl/critic-diagnostics.ts';
import { readHeldOutCheck } from '../../lib/rl/held-out-check-file.ts';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import { pretrainOffline } from '../../lib/rl/offline.ts';
import { ReplayBuffer, type TransitionBatch } from '../../lib/rl/replay-buffer.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { checkTrainedFor } from '../../lib/world-model/trained-for.ts';
import { isReseedable } from '../../lib/world-model/types.ts';
import { type ClosableWorldModel, type PhaseHandler, PhaseInterrupted } from './deps.ts';
import { MetricsLog, type MetricsRow, RateMeter, truncateMetricsAfter } from './metrics-log.ts';
import { loadOfflineCheckpoint, OFFLINE_CHECKPOINTS, saveOfflineCheckpoint } from './offline-checkpoint.ts';
import { runPaths } from './paths.ts';
import { parseLearnerSpec } from './spec.ts';

/** The paper's augmenter, counting what it really replaced (reported, so an outage cannot hide a p = 0). */
class CountingAugmenter extends NextStateAugmenter {
  rows = 0;
  batches = 0;
  override async apply(batch: TransitionBatch): Promise<Int32Array> {
    const replaced = await super.apply(batch);
    this.rows += replaced.length;
    this.batches++;
    return replaced;
  }
}

export const OFFLINE_AGENT = 'offline.safetensors';
export const OFFLINE_METRICS = 'offline-metrics.jsonl';
export const OFFLINE_CRITIC = 'offline-critic.jsonl';

export const runOfflinePhase: PhaseHandler = async (request, deps) => {
  const spec = parseLearnerSpec(request.specJson);
  if (spec.variant === 'scratch') throw new Error('spec.variant: scratch has no offline phase');
  const run = runPaths(deps.runRoot, request.runDir);
  mkdirSync(run.dir, { recursive: true });
  const datasetInput = request.inputs.dataset;
  if (!datasetInput) throw new Error('inputs.dataset: missing (the dataset phase output)');
  const { dataset } = await loadDataset(run.file(datasetInput, 'inputs.dataset'), { envId: spec.env });
  checkRecordedOnRunOptions('inputs.dataset', spec.env, dataset.metadata.envOptions, spec.envOptions);
  const evalEnv = makeEnv(spec.env, spec.envOptions);
  let model: ClosableWorldModel | undefined;
  try {
    const obsDim = evalEnv.observationSpace.shape[0];
    const actDim = evalEnv.actionSpace.shape[0];
    const maxAction = evalEnv.actionSpace.high[0]!;
    if (dataset.obsDim !== obsDim || dataset.actDim !== actDim) {
      throw new Error(
        `inputs.dataset: obs/action dims ${dataset.obsDim}/${dataset.actDim}, ${describeEnv(spec.env, spec.envOptions)} has ${obsDim}/${actDim}`,
      );
    }
    const seed = spec.seed;
    const checkpoints = run.file(OFFLINE_CHECKPOINTS, 'checkpoints');
    const saved = loadOfflineCheckpoint(checkpoints);
    if (saved !== undefined && saved.pointer.runId !== request.runId) {
      throw new Error(
        `${checkpoints}: holds a checkpoint of run '${saved.pointer.runId}', not of '${request.runId}' (remove it to start over)`,
      );
    }
    if (saved !== undefined) {
      const c = saved.agent.config;
      const describe = (obs: number, act: number, hidden: number[], ln: boolean) =>
        `obs ${obs}, action ${act}, hidden [${hidden.join(', ')}]${ln ? ', critic LayerNorm' : ''}`;
      const want = describe(obsDim, actDim, spec.agent.hidden, spec.agent.criticLayerNorm);
      const got = describe(c.obsDim, c.actDim, c.hidden, c.criticLayerNorm);
      if (got !== want)
        throw new Error(`${checkpoints}: the checkpoint's agent has ${got}, the spec asks for ${want}`);
    }
    const agent =
      saved?.agent ??
      new Td3Agent(
        {
          obsDim,
          actDim,
          maxAction,
          hidden: spec.agent.hidden,
          criticLayerNorm: spec.agent.criticLayerNorm,
          bcAlpha: 2.5,
          seed,
        },
        ObsNormalizer.fit(dataset.observations, obsDim, 1e-3),
      );
    const total = spec.offline.steps;
    if (spec.variant === 'td3bc-aug' && spec.offline.augFraction > 0) {
      const wmInput = request.inputs.world_model;
      if (!wmInput) throw new Error('inputs.world_model: missing (required by variant td3bc-aug)');
      // A world-model outage being waited out shows in Status and, at once, in the phase progress.
      const onCondition = (message: string): void => {
        deps.status.condition = message;
        if (message === '') {
          deps.log('world model reachable again');
          return;
        }
        deps.log(message);
        deps.progress(request, { step: deps.status.step, total, metrics: {}, message });
      };
      model = await deps.openWorldModel(run.file(wmInput, 'inputs.world_model'), seed, onCondition);
      if (model.info.obsDim !== obsDim || model.info.actDim !== actDim) {
        throw new Error(`inputs.world_model: dims ${model.info.obsDim}/${model.info.actDim} do not match`);
      }
      checkTrainedFor(model.info.trainedFor, spec.env, spec.envOptions, 'inputs.world_model');
    }
    let heldOutCheck: HeldOutCheck | undefined;
    const checkInput = request.inputs.critic_check;
    if (checkInput) {
      const drawn = await readHeldOutCheck(run.file(checkInput, 'inputs.critic_check'));
      if (drawn.gamma !== agent.config.gamma) {
        throw new Error(
          `inputs.critic_check: returns discounted with gamma ${drawn.gamma}, the critic learns with ${agent.config.gamma}`,
        );
      }
      if (drawn.check.obsDim !== obsDim || drawn.check.actDim !== actDim) {
        throw new Error(
          `inputs.critic_check: obs/action dims ${drawn.check.obsDim}/${drawn.check.actDim}, ${spec.env} has ${obsDim}/${actDim}`,
        );
      }
      heldOutCheck = drawn.check;
    }
    const metricsPath = run.file(OFFLINE_METRICS, 'metrics');
    const criticLog = run.file(OFFLINE_CRITIC, 'critic log');
    let done = saved?.pointer.update ?? 0;
    if (saved !== undefined) {
      // Rows logged after the checkpoint (the segment cut off) are logged again.
      truncateMetricsAfter(metricsPath, done);
      truncateMetricsAfter(criticLog, done, 'update');
      deps.log(`offline: resuming run ${request.runId} at update ${done}/${spec.offline.steps}`);
    } else {
      writeFileSync(criticLog, '');
    }
    const metrics = new MetricsLog(metricsPath, spec.env, saved !== undefined);
    const mc = monteCarloTargets(dataset, agent.config.gamma);
    const rate = new RateMeter();
    Object.assign(deps.status, {
      runId: request.runId,
      phase: 'offline',
      condition: '',
      step: done,
      total,
      envId: spec.env,
      envOptions: spec.envOptions,
      agent,
    });
    const evalEvery = spec.offline.evalEvery;
    const segment = Math.max(1, Math.round(deps.offlineCheckpointEvery / evalEvery)) * evalEvery;
    const augmented = {
      rows: saved?.pointer.augmentedRows ?? 0,
      batches: saved?.pointer.augmentedBatches ?? 0,
    };
    let checkpointPath = '';
    let last: number | undefined;
    while (done < total) {
      const segmentSeed = deriveSeed(seed, 1000 + Math.floor(done / segment));
      const data = ReplayBuffer.fromColumns(dataset, segmentSeed);
      let augmenter: CountingAugmenter | undefined;
      if (model !== undefined) {
        if (isReseedable(model)) model.reseedNoise(segmentSeed);
        augmenter = new CountingAugmenter(model, spec.offline.augFraction, segmentSeed);
      }
      const base = done;
      const updates = Math.min(segment, total - done);
      await pretrainOffline(
        agent,
        data,
        evalEnv,
        {
          updates,
          batchSize: spec.offline.batchSize,
          evalEvery,
          evalEpisodes: spec.offline.evalEpisodes,
          seed,
        },
        augmenter,
        {
          onEvaluation: async (u, r, m) => {
            metrics.record('offline', base + u, r, m);
            last = r.meanReturn;
            deps.status.lastEvaluation = last;
            const diagnostics = await offlineCriticDiagnostics(agent, dataset, {
              mc,
              seed,
              model: augmenter?.model,
              heldOutCheck,
            });
            appendFileSync(
              criticLog,
              `${JSON.stringify({ phase: 'offline', update: base + u, ...diagnostics })}\n`,
            );
          },
          onUpdate: (u) => {
            // Stops at once: the segment under way is redone from the last checkpoint.
            if (deps.stopping()) throw new PhaseInterrupted(checkpointPath);
            const step = base + u;
            deps.status.step = step;
            if (step % 50 === 0 || step === total) {
              const ups = rate.sample(step);
              deps.status.updatesPerSecond = ups;
              deps.progress(request, {
                step,
                total,
                metrics: {
                  updates_per_second: ups,
                  ...(last === undefined ? {} : { last_return: last }),
                  ...(augmenter === undefined ? {} : { augmented_rows: augmented.rows + augmenter.rows }),
                },
                message: `offline ${step}/${total}`,
              });
            }
          },
        },
      );
      done += updates;
      augmented.rows += augmenter?.rows ?? 0;
      augmented.batches += augmenter?.batches ?? 0;
      checkpointPath = saveOfflineCheckpoint(checkpoints, agent, {
        runId: request.runId,
        update: done,
        augmentedRows: augmented.rows,
        augmentedBatches: augmented.batches,
      });
      deps.status.checkpointPath = checkpointPath;
    }
    const agentPath = run.file(OFFLINE_AGENT, 'agent');
    saveAgent(agentPath, agent, { phase: 'offline', variant: spec.variant, run_id: request.runId });
    // The checkpoints only serve an unfinished phase; a request repeated after this one starts over.
    rmSync(checkpoints, { recursive: true, force: true });
    const final = readJsonl<MetricsRow>(metricsPath).at(-1);
    const out: Record<string, number> = { updates: total, dataset_transitions: dataset.rewards.length };
    if (model !== undefined) {
      out.augmented_rows = augmented.rows;
      out.augmented_batches = augmented.batches;
    }
    // The final critic's |Q − G| on rows it trained on and on held-out rows: the overfitting gap.
    if (heldOutCheck !== undefined) {
      const { train, heldOut } = criticOnHeldOutCheck(agent, heldOutCheck);
      if (train.meanAbsError !== null) out.critic_train_abs_error = train.meanAbsError;
      if (heldOut.meanAbsError !== null) out.critic_held_out_abs_error = heldOut.meanAbsError;
    }
    if (final) {
      out.return_mean = final.returnMean;
      out.return_std = final.returnStd;
      if (final.normalizedScore !== null) out.normalized_score = final.normalizedScore;
    }
    return {
      outputs: { agent: OFFLINE_AGENT, metrics: OFFLINE_METRICS, critic: OFFLINE_CRITIC },
      metrics: out,
    };
  } finally {
    evalEnv.close();
    await model?.close?.();
  }
};
