// The part of the experiment spec (PhaseRequest.spec_json) the learner reads, with `o2o train`'s
// defaults. Loose objects: the coordinator's full spec carries more sections, which are ignored here.
import { z } from 'zod';
import {
  addEnvOptionsIssue,
  agentFields,
  envField,
  envOptionsField,
  evaluationFields,
  offlineFields,
  onlineFields,
  parseSpecJson,
  pretrainField,
  seedField,
  variantField,
} from '../../lib/services/spec-fields.ts';

export const learnerSpecSchema = z
  .looseObject({
    env: envField,
    envOptions: envOptionsField,
    seed: seedField,
    variant: variantField,
    pretrain: pretrainField,
    agent: z.looseObject(agentFields).prefault({}),
    offline: z.looseObject(offlineFields).prefault({}),
    online: z.looseObject(onlineFields).prefault({}),
    evaluation: z.looseObject(evaluationFields).prefault({}),
  })
  .superRefine((spec, ctx) => addEnvOptionsIssue(spec, ctx));

export type LearnerSpec = z.output<typeof learnerSpecSchema>;

/** Parses spec_json; the error names the field that was wrong. */
export function parseLearnerSpec(specJson: string): LearnerSpec {
  return parseSpecJson(learnerSpecSchema, specJson);
}
