// Stage 2: offline TD3+BC (with world-model augmentation when augFraction > 0) of (env, dataset, seed,
// augFraction, offlineSteps), built once and shared by the pretrain=both|actor|critic runs.
// It runs in segments of `offlineCheckpointEvery` updates (a multiple of evalEvery). Each segment draws its
// batches, augmentation choices and world-model noise from generators seeded by (seed, segment), and the
// agent (with its own noise generator) is checkpointed at every segment end, so a run resumed from any
// segment end repeats the uninterrupted run exactly.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OfflineDataset } from '../data/dataset.ts';
import { deriveSeed } from '../envs/rng.ts';
import type { Env } from '../envs/types.ts';
import { loadAgent, saveAgent } from '../rl/agent-checkpoint.ts';
import { NextStateAugmenter } from '../rl/augment.ts';
import {
  drawHeldOutCheck,
  HELD_OUT_HORIZON,
  HELD_OUT_SAMPLES,
  monteCarloTargets,
  offlineCriticDiagnostics,
} from '../rl/critic-diagnostics.ts';
import { ObsNormalizer } from '../rl/normalizer.ts';
import { pretrainOffline } from '../rl/offline.ts';
import { ReplayBuffer } from '../rl/replay-buffer.ts';
import { Td3Agent } from '../rl/td3.ts';
import type { ReseedableWorldModel } from '../world-model/types.ts';
import type { BuildPlatform } from './build-platform.ts';
import { type CacheMarker, ensureCacheEntry } from './cache-entry.ts';
import { type StageContext, sameKey, yieldToEventLoop } from './context.ts';
import { currentPlatform } from './current-platform.ts';
import type { SubsetOrigin } from './dataset-source.ts';
import { EvalRecorder, upTo } from './eval-recorder.ts';
import { readJsonIfExists, writeJsonAtomic } from './fs-atomic.ts';
import type { OfflinePaths } from './paths.ts';
import { evaluationEvent } from './pipeline-spans.ts';
import { checkRebuiltRows, describeRebuildCheck, withPreviousPlatform } from './rebuild-check.ts';
import { usesWorldModel } from './run-config.ts';
import { CriticLog, type CriticRow, MetricsLog, type MetricsRow } from './run-log.ts';

export const OFFLINE_BATCH_SIZE = 256;
export const BC_ALPHA = 2.5;

export function offlineKey(c: StageContext['config']) {
  return {
    env: c.env,
    dataset: c.dataset,
    seed: c.seed,
    augFraction: c.augFraction,
    // Only when set: keys written before the option existed stay valid for the VAE.
    ...(c.worldModel === undefined ? {} : { worldModel: c.worldModel }),
    ...(c.criticLayerNorm === undefined ? {} : { criticLayerNorm: c.criticLayerNorm }),
    ...(c.envOptions === undefined ? {} : { envOptions: c.envOptions }),
    offlineSteps: c.offlineSteps,
    wmEpochs: usesWorldModel(c) ? c.wmEpochs : null,
    evalEvery: c.evalEvery,
    evalEpisodes: c.evalEpisodes,
    hidden: c.hidden,
    segment: offlineSegment(c),
  };
}

/** Updates per segment: the checkpoint interval rounded up to a multiple of the evaluation interval. */
export function offlineSegment(c: StageContext['config']): number {
  return Math.max(1, Math.ceil(c.offlineCheckpointEvery / c.evalEvery)) * c.evalEvery;
}

/** The rows of the build being replaced, kept beside the checkpoints until the rebuild is compared. */
interface PreviousBuild {
  finishedAt: string;
  platform?: BuildPlatform;
  metrics: MetricsRow[];
  critic: CriticRow[];
}

interface SegmentPointer {
  key: unknown;
  update: number;
  file: string;
  seconds: number;
}

export async function ensureOfflineAgent(
  ctx: StageContext,
  dataset: OfflineDataset,
  evalEnv: Env,
  model: ReseedableWorldModel | undefined,
  paths: OfflinePaths,
  /** A subset's source: the critic is then also checked against returns on rows it does not train on. */
  origin?: SubsetOrigin,
): Promise<{ agent: Td3Agent; seconds: number } | 'interrupted'> {
  const key = offlineKey(ctx.config);
  const marker = await ensureCacheEntry(
    {
      tag: '[offline]',
      marker: paths.marker,
      artifact: paths.agent,
      lock: paths.lock,
      key,
      builtWith: 'this pre-training was done with',
      rebuilding: 'pre-training again',
      holderIs: `pre-training into ${dirname(paths.marker)}`,
      build: (previous) => pretrain(ctx, dataset, evalEnv, model, paths, key, previous, origin),
    },
    ctx,
  );
  if (marker === 'interrupted') return marker;
  return { agent: loadAgent(paths.agent).agent, seconds: marker.seconds };
}

async function pretrain(
  ctx: StageContext,
  dataset: OfflineDataset,
  evalEnv: Env,
  model: ReseedableWorldModel | undefined,
  paths: OfflinePaths,
  key: unknown,
  /** The marker of an earlier build whose agent is not here (a fresh clone): the rebuild compares with it. */
  replaced: CacheMarker | undefined,
  origin: SubsetOrigin | undefined,
): Promise<CacheMarker | 'interrupted'> {
  const c = ctx.config;
  // Never an augmented pre-training without its model (a silent TD3+BC under the augmented entry's name).
  if (usesWorldModel(c) && model === undefined) {
    throw new Error(`${paths.marker}: pre-training with augmentation needs its world model; none was loaded`);
  }
  const obsDim = evalEnv.observationSpace.shape[0];
  const actDim = evalEnv.actionSpace.shape[0];
  const maxAction = evalEnv.actionSpace.high[0]!;
  const metrics = new MetricsLog(paths.metrics);
  const critic = new CriticLog(paths.critic);
  const pointerPath = join(paths.checkpoints, 'latest.json');
  const pointer = readJsonIfExists(pointerPath) as SegmentPointer | undefined;
  const resuming = pointer !== undefined && sameKey(pointer.key, key);
  const previous = keepPreviousBuild(paths, replaced, resuming, metrics, critic);
  let agent: Td3Agent;
  let done = 0;
  let seconds = 0;
  if (resuming) {
    agent = loadAgent(join(paths.checkpoints, pointer.file)).agent;
    done = pointer.update;
    seconds = pointer.seconds;
    metrics.reset(upTo(metrics.rows(), done));
    critic.reset(upTo(critic.rows(), done));
    ctx.log(`[offline] resuming at update ${done}/${c.offlineSteps}`);
  } else {
    const normalizer = ObsNormalizer.fit(dataset.observations, obsDim, 1e-3);
    agent = new Td3Agent(
      {
        obsDim,
        actDim,
        maxAction,
        bcAlpha: BC_ALPHA,
        seed: c.seed,
        hidden: c.hidden,
        criticLayerNorm: c.criticLayerNorm === true,
      },
      normalizer,
    );
    metrics.reset([]);
    critic.reset([]);
  }
  // Critic diagnostics at every evaluation: Q1 against Monte-Carlo returns on the dataset's terminal-ending
  // rows, for a subset also on its whole source (training rows vs the rest, with the settings of
  // `o2o experiment critic-check`, so the last row matches its file), and with a world model the paper's
  // target shift.
  const mc = monteCarloTargets(dataset, agent.config.gamma);
  // The check's rows do not depend on the agent: drawn once, the critic evaluated on them at each evaluation.
  const heldOutCheck =
    origin === undefined
      ? undefined
      : drawHeldOutCheck(origin.source, origin.rows, {
          gamma: agent.config.gamma,
          samples: HELD_OUT_SAMPLES,
          seed: c.seed,
          horizon: HELD_OUT_HORIZON,
        });
  const recorder = new EvalRecorder(c.env);
  recorder.restart(done);
  const segment = offlineSegment(c);
  const progress = ctx.progress('offline', c.offlineSteps, done);
  while (done < c.offlineSteps) {
    if (ctx.shouldStop()) {
      progress.done();
      return 'interrupted';
    }
    const started = performance.now();
    const segmentSeed = deriveSeed(c.seed, 1000 + done / segment);
    const data = ReplayBuffer.fromColumns(dataset, segmentSeed);
    let augmenter: NextStateAugmenter | undefined;
    if (model !== undefined && c.augFraction > 0) {
      model.reseedNoise(segmentSeed);
      augmenter = new NextStateAugmenter(model, c.augFraction, segmentSeed);
    }
    const base = done;
    const updates = Math.min(segment, c.offlineSteps - done);
    await pretrainOffline(
      agent,
      data,
      evalEnv,
      {
        updates,
        batchSize: OFFLINE_BATCH_SIZE,
        evalEvery: c.evalEvery,
        evalEpisodes: c.evalEpisodes,
        seed: c.seed,
      },
      augmenter,
      {
        onEvaluation: async (u, r, last) => {
          const row = recorder.row('offline', base + u, r, last);
          metrics.append(row);
          evaluationEvent(row);
          progress.clear();
          ctx.log(EvalRecorder.describe(row));
          const diagnostics = await offlineCriticDiagnostics(agent, dataset, {
            mc,
            seed: c.seed,
            model: augmenter?.model,
            heldOutCheck,
          });
          critic.append({ phase: 'offline', update: base + u, ...diagnostics });
        },
        onUpdate: (u) => progress.update(base + u, recorder.lastEval),
      },
    );
    done += updates;
    seconds += (performance.now() - started) / 1000;
    saveSegment(paths, agent, { key, update: done, file: `update-${done}.safetensors`, seconds });
    await yieldToEventLoop();
  }
  progress.done();
  mkdirSync(dirname(paths.agent), { recursive: true });
  // saveAgent writes to a temporary file and renames it: never half-written.
  saveAgent(paths.agent, agent, { phase: 'offline', variant: c.variant });
  const marker: CacheMarker = {
    key,
    finishedAt: new Date().toISOString(),
    seconds,
    platform: currentPlatform(),
  };
  if (previous !== undefined) {
    const check = checkRebuiltRows(previous.finishedAt, [
      { name: 'metrics', before: previous.metrics, after: metrics.rows() },
      { name: 'critic', before: previous.critic, after: critic.rows() },
    ]);
    marker.rebuild = withPreviousPlatform(check, previous.platform);
    ctx.log(describeRebuildCheck('offline', marker.rebuild, marker.platform));
  }
  writeJsonAtomic(paths.marker, marker);
  rmSync(paths.checkpoints, { recursive: true, force: true });
  return marker;
}

/**
 * When a finished build's marker is here without its agent, its rows are about to be replaced: keep them
 * in the checkpoint directory to compare with the rebuild's. Kept once, when the rebuild starts (or
 * restarts before its first checkpoint); a resumed rebuild reads them back, and one resumed without them
 * has already overwritten part of the rows, so it is not compared.
 */
function keepPreviousBuild(
  paths: OfflinePaths,
  marker: CacheMarker | undefined,
  resuming: boolean,
  metrics: MetricsLog,
  critic: CriticLog,
): PreviousBuild | undefined {
  if (marker === undefined) return undefined;
  const file = join(paths.checkpoints, 'previous-build.json');
  const kept = readJsonIfExists(file) as PreviousBuild | undefined;
  if (kept?.finishedAt === marker.finishedAt) return kept;
  if (resuming) return undefined;
  const previous: PreviousBuild = {
    finishedAt: marker.finishedAt,
    ...(marker.platform === undefined ? {} : { platform: marker.platform }),
    metrics: metrics.rows(),
    critic: critic.rows(),
  };
  mkdirSync(paths.checkpoints, { recursive: true });
  writeJsonAtomic(file, previous);
  return previous;
}

/** The agent after `pointer.update` updates, then the pointer to it, then older segments removed. */
function saveSegment(paths: OfflinePaths, agent: Td3Agent, pointer: SegmentPointer): void {
  mkdirSync(paths.checkpoints, { recursive: true });
  const file = join(paths.checkpoints, pointer.file);
  saveAgent(file, agent, { phase: 'offline', update: String(pointer.update) });
  const previous = readJsonIfExists(join(paths.checkpoints, 'latest.json')) as SegmentPointer | undefined;
  writeJsonAtomic(join(paths.checkpoints, 'latest.json'), pointer);
  if (previous !== undefined && previous.file !== pointer.file) {
    rmSync(join(paths.checkpoints, previous.file), { force: true });
  }
}
