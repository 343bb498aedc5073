// Transitions recorded on an env's default options, rewritten as the env with other options would have
// recorded them: only where that is exact, i.e. for options that change what the observation shows or how
// the reward weighs something the observation shows. The dynamics, terminations and actions are the same.
//
// Ant-v5: `includeCfrcExtInObservation: false` drops the 78 clipped contact forces that end each
// observation; `contactCostWeight: w` reweighs the contact cost, w · Σ (clipped contact forces after the
// step)², which the next observation holds (all bodies but the world, whose external force stays zero: the
// tests check both against the env). This is how the paper's Ant (D4RL's, through mujoco-py, where the
// contact forces read zero) can be studied on our Ant-v5 datasets.
import { antOptionsSchema } from './ant.ts';
import { parseOptions } from './options.ts';
import { leadingColumns, trailingSumOfSquares } from './row-columns.ts';

export interface TransitionColumns {
  obsDim: number;
  observations: Float32Array;
  nextObservations: Float32Array;
  rewards: Float32Array;
}

/** Ant-v5's default observation: qpos[2:] (13), qvel (14), then the contact forces (13 bodies × 6). */
const ANT_KINEMATIC_DIMS = 27;
const ANT_CONTACT_DIMS = 78;
const ANT_DERIVABLE = new Set(['includeCfrcExtInObservation', 'contactCostWeight']);

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Ant-v5's defaults and `options` parsed; throws naming an option that cannot be derived. */
function antTarget(options: Record<string, unknown>, where: string) {
  const defaults = antOptionsSchema.parse({});
  const target = parseOptions(antOptionsSchema, options, 'Ant-v5');
  for (const key of Object.keys(defaults) as (keyof typeof defaults)[]) {
    if (!ANT_DERIVABLE.has(key) && !sameValue(defaults[key], target[key]))
      throw new Error(
        `${where}: option '${key}' of Ant-v5 cannot be derived from transitions recorded on the default options ` +
          `(derivable: ${[...ANT_DERIVABLE].join(', ')})`,
      );
  }
  return { defaults, target };
}

function rewriteAnt(
  options: Record<string, unknown>,
  source: TransitionColumns,
  where: string,
): TransitionColumns {
  const { defaults, target } = antTarget(options, where);
  const sourceDim = ANT_KINEMATIC_DIMS + ANT_CONTACT_DIMS;
  if (source.obsDim !== sourceDim)
    throw new Error(
      `${where}: observations have ${source.obsDim} values; deriving Ant-v5 options needs rows recorded on ` +
        `its default options (${sourceDim} values, contact forces last)`,
    );
  const obsDim = target.includeCfrcExtInObservation ? sourceDim : ANT_KINEMATIC_DIMS;
  const rows = source.rewards.length;
  const weightChange = defaults.contactCostWeight - target.contactCostWeight;
  const rewards = source.rewards.slice();
  if (weightChange !== 0) {
    for (let r = 0; r < rows; r++) {
      const contact = trailingSumOfSquares(source.nextObservations, sourceDim, r, ANT_KINEMATIC_DIMS);
      rewards[r] = source.rewards[r]! + weightChange * contact;
    }
  }
  return {
    obsDim,
    observations: leadingColumns(source.observations, sourceDim, obsDim),
    nextObservations: leadingColumns(source.nextObservations, sourceDim, obsDim),
    rewards,
  };
}

interface Rewriter {
  /** Throws naming an option that cannot be derived. */
  check(options: Record<string, unknown>, where: string): void;
  rewrite(options: Record<string, unknown>, source: TransitionColumns, where: string): TransitionColumns;
}

const rewriters: Record<string, Rewriter> = {
  'Ant-v5': { check: antTarget, rewrite: rewriteAnt },
};

function rewriterOf(envId: string, where: string): Rewriter {
  const rewriter = Object.hasOwn(rewriters, envId) ? rewriters[envId] : undefined;
  if (rewriter === undefined)
    throw new Error(
      `${where}: transitions recorded on ${envId}'s default options cannot be rewritten for other options ` +
        `(only ${Object.keys(rewriters).join(', ')} can be)`,
    );
  return rewriter;
}

/** Throws, naming `where`, the env and the option, unless rewriteTransitions can derive `options`. */
export function checkRewritable(envId: string, options: Record<string, unknown>, where: string): void {
  rewriterOf(envId, where).check(options, where);
}

/**
 * `source` (recorded on `envId`'s default options) as `envId` with `options` would have recorded it.
 * Throws, naming `where`, the env and the option, when that cannot be derived exactly.
 */
export function rewriteTransitions(
  envId: string,
  options: Record<string, unknown>,
  source: TransitionColumns,
  where: string,
): TransitionColumns {
  return rewriterOf(envId, where).rewrite(options, source, where);
}
