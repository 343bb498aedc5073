// The experiment spec the coordinator runs and every phase handler reads (PhaseRequest.spec_json): one
// variant of the paper on one environment, from the dataset to the final evaluation. Loaded from YAML or
// JSON; errors name the file and the field path. Every path in it is relative to the run directory.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  addEnvOptionsIssue,
  agentFields,
  count,
  envField,
  envOptionsField,
  evaluationFields,
  offlineFields,
  onlineFields,
  pretrainField,
  seedField,
  variantField,
  worldModelBatchSize,
  worldModelFields,
} from './spec-fields.ts';

/** A path inside the run directory: relative, no `..` segment, no NUL. */
export const runRelativePath = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !p.startsWith('~'), 'must be relative to the run directory')
  .refine((p) => !p.split(/[\\/]+/).includes('..'), 'must not contain ".." (paths stay in the run directory)')
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

const datasetSchema = z.union([
  z.strictObject({
    generate: z.strictObject({
      kind: z.literal('random'),
      transitions: count(1),
    }),
  }),
  z.strictObject({
    file: runRelativePath,
    subset: z
      .strictObject({
        transitions: count(1),
        by: z.enum(['transition', 'episode']).default('episode'),
        seed: count(0).default(0),
      })
      .optional(),
  }),
]);

// The learner (services/learner/spec.ts) and the world-model service (services/world-model/phase-handler.ts)
// each read their part of spec_json with loose schemas built from the same fields (spec-fields.ts); this
// strict schema is the superset, so a typo or a value out of bounds is caught here before a phase starts.
export const specSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64 characters'),
    seed: seedField,
    env: envField,
    /**
     * The env's options, e.g. Ant without contact forces. A generated dataset is recorded on them; a dataset
     * file must have been recorded on them or on the defaults (then it is rewritten, where that is exact).
     */
    envOptions: envOptionsField,
    variant: variantField,
    pretrain: pretrainField,
    dataset: datasetSchema,
    agent: z.strictObject(agentFields).prefault({}),
    worldModel: z
      .strictObject({
        ...worldModelFields,
        implementation: z.string().min(1).default('native'),
        batchSize: worldModelBatchSize.default(256),
      })
      .prefault({}),
    offline: z.strictObject(offlineFields).prefault({}),
    online: z
      .strictObject({
        ...onlineFields,
        mode: z.enum(['lockstep', 'actor']).default('lockstep'),
        simulators: count(1).default(2),
      })
      .prefault({}),
    evaluation: z.strictObject(evaluationFields).prefault({}),
    /** How long the coordinator waits for each phase's result (seconds). */
    timeouts: z
      .strictObject({
        worldModel: z.number().positive().default(3600),
        offline: z
          .number()
          .positive()
          .default(6 * 3600),
        online: z
          .number()
          .positive()
          .default(24 * 3600),
        evaluation: z.number().positive().default(3600),
      })
      .prefault({}),
  })
  .superRefine((spec, ctx) => addEnvOptionsIssue(spec, ctx));

export type ExperimentSpec = z.infer<typeof specSchema>;
export type SpecInput = z.input<typeof specSchema>;

export class SpecError extends Error {}

/** True when the variant trains a world model and pre-trains offline (everything but scratch). */
export function usesOffline(spec: ExperimentSpec): boolean {
  return spec.variant !== 'scratch';
}
export function usesWorldModel(spec: ExperimentSpec): boolean {
  return spec.variant === 'td3bc-aug';
}

function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length === 0 ? '(spec)' : issue.path.map(String).join('.');
    return `  ${path}: ${issue.message}`;
  });
  return `${source}: invalid experiment spec\n${lines.join('\n')}`;
}

/** Validates an already-parsed spec object; `source` names where it came from in errors. */
export function parseSpec(value: unknown, source = '(spec)'): ExperimentSpec {
  const result = specSchema.safeParse(value);
  if (!result.success) throw new SpecError(formatIssues(result.error, source));
  return result.data;
}

/** Parses YAML (or JSON, which is YAML) text. */
export function parseSpecText(text: string, source = '(spec)'): ExperimentSpec {
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new SpecError(`${source}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  return parseSpec(value, source);
}

export function loadSpecFile(path: string): ExperimentSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SpecError(`${path}: cannot read the experiment spec: ${(err as Error).message}`);
  }
  return parseSpecText(text, path);
}

/** The spec as carried in PhaseRequest.spec_json (validated, defaults filled in). */
export function specToJson(spec: ExperimentSpec): string {
  return JSON.stringify(spec);
}

/** For handlers: the spec from a PhaseRequest's spec_json. */
export function specFromJson(json: string): ExperimentSpec {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new SpecError(`spec_json: not JSON: ${(err as Error).message}`);
  }
  return parseSpec(value, 'spec_json');
}
