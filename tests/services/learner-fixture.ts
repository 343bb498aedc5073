// A tiny learner workload shared by the learner tests: a run root with a 400-transition random
// InvertedPendulum-v5 dataset, a small world model trained on it, specs with [32, 32] networks, and
// in-process PhaseDeps (the same handlers main.ts wires to services).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Phase, PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import { saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { type OnlineResult, trainOnline } from '../../lib/rl/online.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { trainWorldModel } from '../../lib/world-model/train.ts';
import { newStatus, type PhaseDeps } from '../../services/learner/deps.ts';
import { onlineConfig } from '../../services/learner/online-phase.ts';
import { parseLearnerSpec } from '../../services/learner/spec.ts';

export const ENV_ID = 'InvertedPendulum-v5';
export const RUN_DIR = 'run-1';

export interface Workload {
  root: string;
  runDir: string;
}

export async function makeWorkload(): Promise<Workload> {
  const root = mkdtempSync(join(tmpdir(), 'o2o-learner-'));
  const runDir = join(root, RUN_DIR);
  mkdirSync(runDir, { recursive: true });
  const env = makeEnv(ENV_ID);
  const dataset = collectDataset(env, uniformRandomPolicy(env), 400, 7, 'learner test');
  env.close();
  await saveDataset(dataset, 'd4rl', join(runDir, 'dataset.hdf5'));
  const wm = trainWorldModel(dataset, {
    seed: 7,
    epochs: 2,
    batchSize: 128,
    evalEvery: 1,
    model: { encoderHidden: [32], decoderHidden: [32], transitionHidden: [32] },
  });
  new NativeVaeWorldModel(wm.vae, wm.normalizer, 7).save(join(runDir, 'world-model.safetensors'));
  return { root, runDir };
}

export function tinySpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    env: ENV_ID,
    seed: 3,
    variant: 'td3bc-aug',
    pretrain: 'both',
    agent: { hidden: [32, 32] },
    offline: { steps: 40, batchSize: 32, augFraction: 0.5, evalEvery: 20, evalEpisodes: 2 },
    online: { steps: 240, warmupSteps: 60, batchSize: 32, evalEvery: 80, evalEpisodes: 2 },
    evaluation: { episodes: 3 },
    ...overrides,
  };
}

export function request(
  phase: Phase,
  spec: Record<string, unknown>,
  inputs: Record<string, string>,
  runId = 'r1',
) {
  return PhaseRequest.fromPartial({
    runId,
    phase,
    attempt: 1,
    runDir: RUN_DIR,
    specJson: JSON.stringify(spec),
    inputs,
  });
}

/** In-process deps: the world model from its file, the training env a local Env. */
export function inProcessDeps(root: string, overrides: Partial<PhaseDeps> = {}): PhaseDeps {
  return {
    runRoot: root,
    openWorldModel: async (path, seed) => {
      const m = NativeVaeWorldModel.load(path);
      m.reseedNoise(seed);
      return m;
    },
    openTrainEnv: async (envId, _seed, envOptions) => makeEnv(envId, envOptions),
    onlineMode: 'lockstep',
    checkpointEvery: 100_000,
    offlineCheckpointEvery: 5_000,
    progress: () => {},
    stopping: () => false,
    status: newStatus(),
    log: () => {},
    ...overrides,
  };
}

/**
 * What `o2o train` does after pre-training, in this process: fine-tune the run's offline agent (actor and
 * critic) with the spec's online settings. A served online phase must reproduce it exactly.
 */
export async function inProcessFineTune(
  runDir: string,
  spec: Record<string, unknown>,
  seed: number,
): Promise<{ online: Td3Agent; reference: OnlineResult }> {
  const { agent: offline } = loadAgent(join(runDir, 'offline.safetensors'));
  const online = Td3Agent.fineTuneFrom(offline, { actor: true, critic: true }, seed);
  const env = makeEnv(ENV_ID);
  const evalEnv = makeEnv(ENV_ID);
  try {
    const reference = await trainOnline(
      env,
      evalEnv,
      online,
      onlineConfig(parseLearnerSpec(JSON.stringify(spec)), 0),
    );
    return { online, reference };
  } finally {
    env.close();
    evalEnv.close();
  }
}
