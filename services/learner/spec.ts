// The part of the experiment spec (PhaseRequest.spec_json) the learner reads, with `o2o train`'s
// defaults. Loose objects: the coordinator's full spec carries more sections, which are ignored here.
import { z } from 'zod';
import { ENV_IDS } from '../../lib/envs/registry.ts';

const count = (min: number) => z.number().int().min(min);

export const learnerSpecSchema = z.looseObject({
  env: z.string().refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
  seed: count(0).default(0),
  variant: z.enum(['scratch', 'td3bc', 'td3bc-aug']).default('td3bc-aug'),
  /** Which pre-trained parts start online TD3. */
  pretrain: z.enum(['actor', 'critic', 'both']).default('both'),
  agent: z
    .looseObject({ hidden: z.array(count(1)).min(1).default([256, 256]) })
    .default({ hidden: [256, 256] }),
  offline: z
    .looseObject({
      steps: count(1).default(200_000),
      batchSize: count(1).default(256),
      augFraction: z.number().min(0).max(1).default(0.5),
      evalEvery: count(1).default(5_000),
      evalEpisodes: count(1).default(10),
    })
    .prefault({}),
  online: z
    .looseObject({
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
    })
    .prefault({}),
  evaluation: z.looseObject({ episodes: count(1).default(10), seed: count(0).optional() }).prefault({}),
});

export type LearnerSpec = z.output<typeof learnerSpecSchema>;

/** Parses spec_json; the error names the field that was wrong. */
export function parseLearnerSpec(specJson: string): LearnerSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(specJson);
  } catch (e) {
    throw new Error(`spec_json is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = learnerSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `spec.${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid experiment spec: ${problems.join('; ')}`);
  }
  return parsed.data;
}
