// The grid spec (experiments/*.yaml): budgets, seeds, named datasets and variants, and groups of
// env × dataset × variant in priority tiers. Validated with zod; every error names the file and the field.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ENV_IDS } from '../envs/registry.ts';

const count = z.number().int().nonnegative();
const positive = z.number().int().positive();
/** Labels become directory names. */
const label = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, . _ - (a directory name)');

export const budgetsSchema = z.strictObject({
  onlineSteps: count,
  offlineSteps: count,
  wmEpochs: positive,
  startSteps: count,
  warmupSteps: count,
  evalEvery: positive,
  evalEpisodes: positive,
  offlineCheckpointEvery: positive,
  onlineCheckpointEvery: positive,
  hidden: z.array(positive).min(1).optional(),
});
export type Budgets = z.infer<typeof budgetsSchema>;

const datasetSchema = z.strictObject({
  /** datasets/<env>/<kind>.hdf5 */
  kind: label,
  transitions: positive,
  by: z.enum(['transition', 'episode']).default('transition'),
});

const variantSchema = z
  .strictObject({
    variant: z.enum(['scratch', 'td3bc', 'td3bc-aug']),
    pretrain: z.enum(['both', 'actor', 'critic']).optional(),
    augFraction: z.number().min(0).max(1).optional(),
    /** The augmenting world model: the paper's VAE (default), or a control: `linear` least squares, `copy` s′ = s. */
    worldModel: z.enum(['vae', 'linear', 'copy']).optional(),
    /** LayerNorm in the critics' hidden layers (not the paper's: against offline Q divergence on small data). */
    criticLayerNorm: z.boolean().optional(),
    /**
     * Options of the environment (lib/envs names: Gymnasium's make() keyword arguments in camelCase),
     * checked per run against its env. A pre-trained variant learns from the dataset rewritten for them
     * (lib/envs/derive-transitions.ts), and its shared pre-trainings are entries of their own.
     */
    envOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.worldModel !== undefined && v.variant !== 'td3bc-aug')
      ctx.addIssue({ code: 'custom', path: ['worldModel'], message: 'only td3bc-aug uses a world model' });
    if (v.variant === 'scratch' && (v.pretrain !== undefined || v.augFraction !== undefined))
      ctx.addIssue({ code: 'custom', message: 'scratch takes neither pretrain nor augFraction' });
    if (v.variant !== 'scratch' && v.pretrain === undefined)
      ctx.addIssue({ code: 'custom', path: ['pretrain'], message: `required for ${v.variant}` });
    if (v.variant === 'td3bc-aug' && v.augFraction === undefined)
      ctx.addIssue({ code: 'custom', path: ['augFraction'], message: 'required for td3bc-aug' });
    if (v.variant === 'td3bc' && v.augFraction !== undefined && v.augFraction !== 0)
      ctx.addIssue({ code: 'custom', path: ['augFraction'], message: 'must be 0 (or absent) for td3bc' });
  });

const groupSchema = z.strictObject({
  /** The tag every run of the group carries in config.json (main, ablation, size-sweep, ...). */
  name: label,
  /** Priority: lower tiers run first; within a tier runs are interleaved by seed. */
  tier: count,
  envs: z
    .array(
      z.string().refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
    )
    .min(1),
  datasets: z.array(z.string()).min(1),
  variants: z.array(z.string()).min(1),
  seeds: z.array(count).min(1).optional(),
});

export const specSchema = z
  .strictObject({
    version: z.literal(1),
    resultsDir: z.string().min(1).default('results'),
    datasetsDir: z.string().min(1).default('datasets'),
    seeds: z.array(count).min(1),
    budgets: budgetsSchema,
    datasets: z.record(label, datasetSchema),
    variants: z.record(label, variantSchema),
    groups: z.array(groupSchema).min(1),
  })
  .superRefine((s, ctx) => {
    s.groups.forEach((g, i) => {
      g.datasets.forEach((d, j) => {
        if (!(d in s.datasets))
          ctx.addIssue({
            code: 'custom',
            path: ['groups', i, 'datasets', j],
            message: `unknown dataset '${d}' (defined: ${Object.keys(s.datasets).join(', ')})`,
          });
      });
      g.variants.forEach((v, j) => {
        if (!(v in s.variants))
          ctx.addIssue({
            code: 'custom',
            path: ['groups', i, 'variants', j],
            message: `unknown variant '${v}' (defined: ${Object.keys(s.variants).join(', ')})`,
          });
      });
    });
  });
export type GridSpec = z.output<typeof specSchema>;

export class SpecError extends Error {}

export function parseSpec(value: unknown, file: string): GridSpec {
  const parsed = specSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`);
    throw new SpecError(`${file}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function loadSpec(file: string): GridSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError(`${file}: cannot read the spec (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new SpecError(`${file}: not valid YAML (${(e as Error).message})`);
  }
  return parseSpec(value, file);
}
