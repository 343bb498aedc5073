// The paper's pipeline for one run, the single copy `o2o train` and the grid share:
//   (td3bc-aug) world model → (td3bc, td3bc-aug) offline TD3+BC → online TD3 → done.json.
// Every stage resumes: the world model and the offline agent are cached (and shared between runs
// through `paths`), offline pre-training checkpoints every segment, online training at episode ends.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OfflineDataset } from '../data/dataset.ts';
import { makeEnv } from '../envs/registry.ts';
import { saveAgent } from '../rl/agent-checkpoint.ts';
import { Td3Agent } from '../rl/td3.ts';
import type { ReseedableWorldModel } from '../world-model/types.ts';
import { isBuilt } from './cache-entry.ts';
import { type ProgressFactory, type StageContext, silentProgress } from './context.ts';
import { currentPlatform } from './current-platform.ts';
import { loadRunDataset } from './dataset-source.ts';
import { type DoneRecord, readDone } from './done-record.ts';
import { writeJsonAtomic } from './fs-atomic.ts';
import { ensureOfflineAgent } from './offline-stage.ts';
import { runOnline } from './online-stage.ts';
import type { PipelinePaths } from './paths.ts';
import { inSpan, runAttributes } from './pipeline-spans.ts';
import { type RunConfig, usesWorldModel } from './run-config.ts';
import { CriticLog, MetricsLog, type MetricsRow, readJsonl } from './run-log.ts';
import { ensureWorldModel, worldModelMarker } from './world-model-stage.ts';

export interface PipelineOptions {
  log?(line: string): void;
  progress?: ProgressFactory;
  shouldStop?(): boolean;
  /** Called as each stage starts (for status reporting). */
  onStage?(stage: 'dataset' | 'world model' | 'offline' | 'online'): void;
  /** What the run's span is called after `run ` (the grid's run id; default: env and variant). */
  name?: string;
}

export type PipelineResult = { status: 'done'; done: DoneRecord } | { status: 'interrupted' };

export async function runPipeline(
  config: RunConfig,
  paths: PipelinePaths,
  options: PipelineOptions = {},
): Promise<PipelineResult> {
  const finished = readDone(paths.done);
  if (finished !== undefined) return { status: 'done', done: finished };
  const name = options.name ?? `${config.env} ${config.variant}`;
  return inSpan(`run ${name}`, runAttributes(config), async (span) => {
    const result = await runStages(config, paths, options);
    if (result.status === 'done') {
      const { finalReturn, finalNormalizedScore } = result.done;
      if (finalReturn !== null) span.setAttribute('o2o.final_return', finalReturn);
      if (finalNormalizedScore !== null) span.setAttribute('o2o.final_score', finalNormalizedScore);
    } else {
      span.setAttribute('o2o.interrupted', true);
    }
    return result;
  });
}

async function runStages(
  config: RunConfig,
  paths: PipelinePaths,
  options: PipelineOptions,
): Promise<PipelineResult> {
  mkdirSync(paths.runDir, { recursive: true });
  const ctx: StageContext = {
    config,
    log: options.log ?? (() => {}),
    progress: options.progress ?? silentProgress,
    shouldStop: options.shouldStop ?? (() => false),
  };
  const env = makeEnv(config.env, config.envOptions);
  const evalEnv = makeEnv(config.env, config.envOptions);
  const obsDim = env.observationSpace.shape[0];
  const actDim = env.actionSpace.shape[0];
  const maxAction = env.actionSpace.high[0]!;
  try {
    let dataset: OfflineDataset | undefined;
    let start: () => Td3Agent;
    let offlineMetrics: MetricsRow[] = [];
    let offlineCritic: unknown[] = [];
    let worldModelSeconds: number | null = null;
    let offlineSeconds: number | null = null;
    let offlineAgent: Td3Agent | undefined;
    if (config.variant === 'scratch') {
      start = () =>
        new Td3Agent({
          obsDim,
          actDim,
          maxAction,
          seed: config.seed,
          hidden: config.hidden,
          criticLayerNorm: config.criticLayerNorm === true,
        });
    } else {
      options.onStage?.('dataset');
      const source = config.dataset!;
      const loaded = await inSpan('stage dataset', { 'o2o.dataset': source.file }, async (span) => {
        const read = await loadRunDataset(source, config.env, config.envOptions);
        if (read.dataset.obsDim !== obsDim || read.dataset.actDim !== actDim) {
          throw new Error(
            `dataset ${source.file} has obs/action dims ${read.dataset.obsDim}/${read.dataset.actDim}, ` +
              `${config.env} has ${obsDim}/${actDim}`,
          );
        }
        span.setAttribute('o2o.transitions', read.dataset.rewards.length);
        return read;
      });
      const data = loaded.dataset;
      dataset = data;
      ctx.log(`dataset ${source.file}: ${data.rewards.length} transitions`);
      let model: ReseedableWorldModel | undefined;
      if (usesWorldModel(config)) {
        if (isBuilt(paths.offline.marker, paths.offline.agent)) {
          // The world model only feeds the offline pre-training, which is here: neither built nor loaded.
          worldModelSeconds = worldModelMarker(config, paths.worldModel)?.seconds ?? null;
          ctx.log(`[world model] not needed: the offline pre-training ${paths.offline.agent} is here`);
        } else {
          options.onStage?.('world model');
          const built = await inSpan('stage world model', { 'o2o.epochs': config.wmEpochs }, () =>
            ensureWorldModel(ctx, data, paths.worldModel),
          );
          if (built === 'interrupted') return { status: 'interrupted' };
          worldModelSeconds = built.seconds;
          model = built.model;
        }
      }
      options.onStage?.('offline');
      const offline = await inSpan('stage offline', { 'o2o.updates': config.offlineSteps }, () =>
        ensureOfflineAgent(ctx, data, evalEnv, model, paths.offline, loaded.origin),
      );
      if (offline === 'interrupted') return { status: 'interrupted' };
      offlineSeconds = offline.seconds;
      offlineAgent = offline.agent;
      offlineMetrics = new MetricsLog(paths.offline.metrics).rows();
      offlineCritic = readJsonl(paths.offline.critic);
      const parts = { actor: config.pretrain !== 'critic', critic: config.pretrain !== 'actor' };
      start = () => Td3Agent.fineTuneFrom(offline.agent, parts, config.seed + 1);
    }
    const metrics = new MetricsLog(paths.metrics, paths.metricsCsv);
    const critic = new CriticLog(paths.critic);
    let online = { agent: offlineAgent, lastRow: offlineMetrics.at(-1), seconds: 0 };
    if (config.onlineSteps > 0) {
      options.onStage?.('online');
      const result = await inSpan('stage online', { 'o2o.steps': config.onlineSteps }, () =>
        runOnline(ctx, {
          env,
          evalEnv,
          start,
          offlineMetrics,
          offlineCritic,
          dataset,
          checkpoints: paths.onlineCheckpoints,
          metrics,
          critic,
        }),
      );
      if (result === 'interrupted') return { status: 'interrupted' };
      online = result;
      // Its folder exists only if an online checkpoint was taken (not in runs shorter than the interval).
      mkdirSync(dirname(paths.finalAgent), { recursive: true });
      saveAgent(paths.finalAgent, result.agent, { phase: 'online', variant: config.variant });
    } else {
      metrics.reset(offlineMetrics);
      critic.reset(offlineCritic);
    }
    const done: DoneRecord = {
      finishedAt: new Date().toISOString(),
      seconds: online.seconds,
      finalReturn: online.lastRow?.returnMean ?? null,
      finalNormalizedScore: online.lastRow?.normalizedScore ?? null,
      stageSeconds: { worldModel: worldModelSeconds, offline: offlineSeconds, online: online.seconds },
      platform: currentPlatform(),
    };
    writeJsonAtomic(paths.done, done);
    // The final agent is kept; the last online checkpoint (mostly replay) is not needed any more.
    rmSync(paths.onlineCheckpoints, { recursive: true, force: true });
    return { status: 'done', done };
  } finally {
    env.close();
    evalEnv.close();
  }
}

/** Whether the final agent of a finished run exists (o2o train says so). */
export function hasFinalAgent(paths: PipelinePaths): boolean {
  return existsSync(paths.finalAgent);
}
