// One run of the paper's pipeline, fully specified: what `o2o train` builds from its flags and what the
// grid builds from its spec, and what a grid child process reads from its run directory's config.json.
import { z } from 'zod';
import { checkEnvOptions, ENV_IDS, isEnvId } from '../envs/registry.ts';

const count = z.number().int().nonnegative();
const positive = z.number().int().positive();

export const datasetSourceSchema = z.strictObject({
  /** The dataset file (Minari directory or D4RL .hdf5) the run draws from. */
  file: z.string().min(1),
  /** The dataset kind (medium, medium-replay, ...) when known. */
  kind: z.string().nullable(),
  /** Subset size; null uses the whole file. */
  transitions: positive.nullable(),
  by: z.enum(['transition', 'episode']).nullable(),
  subsetSeed: count.nullable(),
  /** The file's sha256 from its manifest (datasets/<env>/<kind>.json), when there is one. */
  sha256: z.string().nullable(),
});
export type DatasetSource = z.infer<typeof datasetSourceSchema>;

export const runConfigSchema = z
  .strictObject({
    env: z
      .string()
      .refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
    dataset: datasetSourceSchema.nullable(),
    variant: z.enum(['scratch', 'td3bc', 'td3bc-aug']),
    /** Which pre-trained parts start online TD3 (null for scratch). */
    pretrain: z.enum(['both', 'actor', 'critic']).nullable(),
    /** Share of next states the world model replaces offline (0 without augmentation). */
    augFraction: z.number().min(0).max(1),
    /**
     * Which world model augments (td3bc-aug only): the paper's VAE when absent, or a control: `linear`,
     * least squares on [s, a, 1], or `copy`, s′ = s. Absent rather than 'vae' so that configs and cache keys
     * written before the option existed stay the same.
     */
    worldModel: z.enum(['linear', 'copy']).optional(),
    /**
     * LayerNorm in the critics' hidden layers (not the paper's; true only when asked for, absent otherwise, so
     * configs and cache keys written before the option existed stay the same).
     */
    criticLayerNorm: z.literal(true).optional(),
    /**
     * Options of the environment, Gymnasium's make() keyword arguments in camelCase (lib/envs), e.g.
     * { includeCfrcExtInObservation: false } on Ant-v5. Absent for the v5 defaults, so that configs written
     * before the option existed stay the same.
     */
    envOptions: z.record(z.string(), z.unknown()).optional(),
    offlineSteps: count,
    onlineSteps: count,
    startSteps: count,
    warmupSteps: count,
    wmEpochs: positive,
    evalEvery: positive,
    evalEpisodes: positive,
    seed: count,
    /** Hidden layer widths of actor and critics (the paper's 256, 256). */
    hidden: z.array(positive).min(1).default([256, 256]),
    /** Offline checkpoint interval in updates (rounded up to a multiple of evalEvery). */
    offlineCheckpointEvery: positive.default(5_000),
    /** Online checkpoints at the first episode end after every this many steps. */
    onlineCheckpointEvery: positive.default(10_000),
  })
  .superRefine((c, ctx) => {
    if (c.variant === 'scratch') {
      if (c.dataset !== null)
        ctx.addIssue({ code: 'custom', path: ['dataset'], message: 'scratch takes no dataset' });
      if (c.pretrain !== null)
        ctx.addIssue({ code: 'custom', path: ['pretrain'], message: 'must be null for scratch' });
    } else {
      if (c.dataset === null)
        ctx.addIssue({ code: 'custom', path: ['dataset'], message: `required for ${c.variant}` });
      if (c.pretrain === null)
        ctx.addIssue({ code: 'custom', path: ['pretrain'], message: `required for ${c.variant}` });
    }
    if (c.variant !== 'td3bc-aug' && c.augFraction !== 0)
      ctx.addIssue({ code: 'custom', path: ['augFraction'], message: `must be 0 for ${c.variant}` });
    if (c.envOptions !== undefined && isEnvId(c.env)) {
      try {
        // Whether the run's dataset can serve them is the dataset's to say (checkServesEnvOptions).
        checkEnvOptions(c.env, c.envOptions);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['envOptions'], message: (err as Error).message });
      }
    }
    if (c.variant !== 'td3bc-aug' && c.worldModel !== undefined)
      ctx.addIssue({ code: 'custom', path: ['worldModel'], message: `only td3bc-aug uses a world model` });
  });
export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Parses a run config; errors name the field and where the config came from. */
export function parseRunConfig(value: unknown, where: string): RunConfig {
  const parsed = runConfigSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`${where}: invalid run config: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Whether the run has an offline stage, and with a world model. */
export function usesWorldModel(c: RunConfig): boolean {
  return c.variant === 'td3bc-aug' && c.augFraction > 0;
}
