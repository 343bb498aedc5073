// The experiment spec's fields, defined once: the coordinator's strict schema (spec.ts) and the parts
// the learner and the world-model service read from spec_json (loose schemas) are built from these,
// so a default or a bound cannot differ between the spec the coordinator accepts and what a phase
// handler later takes from it.
import { z } from 'zod';
import { checkEnvOptions, ENV_IDS, isEnvId } from '../envs/registry.ts';

export const count = (min = 0) => z.number().int().min(min);

export const envField = z.string().refine(isEnvId, `expected one of ${ENV_IDS.join(', ')}`);

/** Options for makeEnv (e.g. Ant-v5's includeCfrcExtInObservation); absent: Gymnasium's defaults. */
export const envOptionsField = z.record(z.string(), z.unknown()).optional();

/** For a schema's superRefine: an issue at `envOptions` naming each option the env does not take. */
export function addEnvOptionsIssue(
  spec: { env: string; envOptions?: Record<string, unknown> | undefined },
  ctx: z.RefinementCtx,
): void {
  if (spec.envOptions === undefined || !isEnvId(spec.env)) return;
  try {
    checkEnvOptions(spec.env, spec.envOptions);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['envOptions'], message: (err as Error).message });
  }
}

export const seedField = count(0)
  .max(2 ** 31 - 2)
  .default(0);

/** scratch: online TD3 only; td3bc: offline pre-training first; td3bc-aug: with world-model next states. */
export const variantField = z.enum(['scratch', 'td3bc', 'td3bc-aug']).default('td3bc-aug');

/** Which pre-trained parts start online TD3. */
export const pretrainField = z.enum(['actor', 'critic', 'both']).default('both');

export const agentFields = {
  hidden: z.array(count(1)).min(1).default([256, 256]),
  /** LayerNorm in the critics' hidden layers (not the paper's: against offline Q divergence on small data). */
  criticLayerNorm: z.boolean().default(false),
};

/** The world model's minibatch; the coordinator's spec defaults it, a direct caller gets the trainer's. */
export const worldModelBatchSize = count(1).max(1 << 20);

export const worldModelFields = {
  epochs: count(1).max(100_000).default(300),
  batchSize: worldModelBatchSize.optional(),
  lr: z.number().positive().lt(1).optional(),
  latentDim: count(1).max(1024).optional(),
  hidden: z.array(count(1).max(8192)).min(1).max(16).optional(),
};

export const offlineFields = {
  steps: count(1).default(200_000),
  augFraction: z.number().min(0).max(1).default(0.5),
  batchSize: count(1).default(256),
  evalEvery: count(1).default(5_000),
  evalEpisodes: count(1).default(10),
};

/** The online phase as the learner runs it (the coordinator adds how simulators are driven). */
export const onlineFields = {
  steps: count(0).default(300_000),
  startSteps: count(0).default(25_000),
  warmupSteps: count(0).default(25_000),
  explorationNoise: z.number().min(0).default(0.1),
  batchSize: count(1).default(256),
  evalEvery: count(1).default(5_000),
  evalEpisodes: count(1).default(10),
  /** Actor mode: updates per received transition, and how often simulators get a fresh policy. */
  updateToData: z.number().positive().default(1),
  policySyncEvery: count(1).default(1_000),
};

/**
 * A phase request's spec_json read with that phase's schema: not JSON, or a value out of bounds, fails with
 * a message naming the field as `spec.<path>`.
 */
export function parseSpecJson<S extends z.ZodType>(schema: S, specJson: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(specJson);
  } catch (e) {
    throw new Error(`spec_json is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `spec.${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid experiment spec: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export const evaluationFields = { episodes: count(1).default(10), seed: count(0).optional() };
