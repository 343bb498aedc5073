// A TD3 / TD3+BC agent in one safetensors file: actor, critics, their targets, both Adam states, and in
// the metadata the agent's config, update count and state normaliser (without which a reloaded policy
// would act on unnormalised states and score like a random one).
import { loadCheckpoint, saveCheckpoint } from '../nn/index.ts';
import { ObsNormalizer } from './normalizer.ts';
import { Td3Agent, type Td3Config, td3ConfigSchema } from './td3.ts';

const CONFIG_KEY = 'o2o.td3.config';
const UPDATES_KEY = 'o2o.td3.updates';
const NORM_MEAN_KEY = 'o2o.td3.obs_mean';
const NORM_STD_KEY = 'o2o.td3.obs_std';
const NOISE_RNG_KEY = 'o2o.td3.noise_rng_state';

function parts(agent: Td3Agent) {
  return {
    modules: {
      actor: agent.actor,
      actor_target: agent.actorTarget,
      critic: agent.critics,
      q1_target: agent.q1Target,
      q2_target: agent.q2Target,
    },
    optimizers: { actor_opt: agent.actorOpt, critic_opt: agent.criticOpt },
  };
}

export function saveAgent(path: string, agent: Td3Agent, metadata: Record<string, string> = {}): void {
  saveCheckpoint(path, parts(agent), {
    ...metadata,
    [CONFIG_KEY]: JSON.stringify(agent.config),
    [UPDATES_KEY]: String(agent.updates),
    [NORM_MEAN_KEY]: JSON.stringify(Array.from(agent.normalizer.mean)),
    [NORM_STD_KEY]: JSON.stringify(Array.from(agent.normalizer.std)),
    [NOISE_RNG_KEY]: JSON.stringify(agent.noiseRng.getState()),
  });
}

export function loadAgent(path: string): { agent: Td3Agent; metadata: Record<string, string> } {
  // Read the metadata first (through a throwaway load of nothing) to build an agent of the right shape.
  const meta = loadCheckpoint(path, { modules: {} });
  const field = (key: string): unknown => {
    const raw = meta[key];
    if (raw === undefined)
      throw new Error(`${path}: metadata '${key}' is missing (not an o2o agent checkpoint?)`);
    try {
      return JSON.parse(raw);
    } catch {
      throw new Error(`${path}: metadata '${key}' is not valid JSON`);
    }
  };
  const config = td3ConfigSchema.safeParse(field(CONFIG_KEY));
  if (!config.success)
    throw new Error(`${path}: metadata '${CONFIG_KEY}' is invalid: ${config.error.message}`);
  const mean = field(NORM_MEAN_KEY);
  const std = field(NORM_STD_KEY);
  if (!Array.isArray(mean) || !Array.isArray(std))
    throw new Error(`${path}: normaliser statistics are not arrays`);
  const normalizer = new ObsNormalizer(
    Float32Array.from(mean as number[]),
    Float32Array.from(std as number[]),
  );
  const agent = new Td3Agent(config.data as Td3Config, normalizer);
  const metadata = loadCheckpoint(path, parts(agent));
  const updates = Number(metadata[UPDATES_KEY]);
  if (!Number.isInteger(updates) || updates < 0)
    throw new Error(`${path}: metadata '${UPDATES_KEY}' is invalid`);
  agent.updates = updates;
  agent.noiseRng.setState(field(NOISE_RNG_KEY) as number[]);
  return { agent, metadata };
}
