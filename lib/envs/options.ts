// Validation of environment constructor options with zod: unknown keys are rejected and every problem
// is reported with the option's name. Option names are Gymnasium's keyword arguments in camelCase
// (e.g. ctrl_cost_weight -> ctrlCostWeight); defaults are Gymnasium v5's.
import { z } from 'zod';

/** A finite number or ±Infinity (Gymnasium's healthy_z_range for Hopper is (0.7, inf)). */
const bound = z.union([z.number(), z.literal(Number.POSITIVE_INFINITY), z.literal(Number.NEGATIVE_INFINITY)]);

/** A closed pair [min, max] with min <= max. */
export function range(defaults: readonly [number, number]) {
  return z
    .tuple([bound, bound])
    .refine(([lo, hi]) => lo <= hi, { message: 'expected [min, max] with min <= max' })
    .default([defaults[0], defaults[1]]);
}

export function weight(defaultValue: number) {
  return z.number().default(defaultValue);
}

export function nonNegative(defaultValue: number) {
  return z.number().nonnegative().default(defaultValue);
}

/** Options every MuJoCo env accepts: Gymnasium's frame_skip and make()'s max_episode_steps. */
export function commonOptions(frameSkip: number) {
  return {
    frameSkip: z.number().int().positive().default(frameSkip),
    maxEpisodeSteps: z.number().int().positive().default(1000),
  };
}

/** Parses `options` (undefined means all defaults) or throws an Error naming each bad option. */
export function parseOptions<S extends z.ZodType>(schema: S, options: unknown, envId: string): z.output<S> {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown option(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    const where = issue.path.length > 0 ? `option '${issue.path.join('.')}'` : 'options';
    return `${where}: ${issue.message}`;
  });
  throw new Error(`invalid options for ${envId}: ${problems.join('; ')}`);
}
