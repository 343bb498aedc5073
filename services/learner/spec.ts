// The part of the experiment spec (PhaseRequest.spec_json) the learner reads, with `o2o train`'s
// defaults. Loose objects: the coordinator's full spec carries more sections, which are ignored here.
import { z } from 'zod';
import {
  agentFields,
  envField,
  evaluationFields,
  offlineFields,
  onlineFields,
  pretrainField,
  seedField,
  variantField,
} from '../../lib/services/spec-fields.ts';

export const learnerSpecSchema = z.looseObject({
  env: envField,
  seed: seedField,
  variant: variantField,
  pretrain: pretrainField,
  agent: z.looseObject(agentFields).prefault({}),
  offline: z.looseObject(offlineFields).prefault({}),
  online: z.looseObject(onlineFields).prefault({}),
  evaluation: z.looseObject(evaluationFields).prefault({}),
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
