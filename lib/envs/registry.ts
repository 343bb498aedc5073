// Environment ids -> constructors, with Gymnasium's v5 ids. Options are validated by each env's zod
// schema (unknown keys rejected with the key named).
import type { z } from 'zod';
import { AntEnv, type AntOptions, antOptionsSchema } from './ant.ts';
import { HalfCheetahEnv, type HalfCheetahOptions, halfCheetahOptionsSchema } from './half_cheetah.ts';
import { HopperEnv, type HopperOptions, hopperOptionsSchema } from './hopper.ts';
import {
  InvertedDoublePendulumEnv,
  type InvertedDoublePendulumOptions,
  invertedDoublePendulumOptionsSchema,
} from './inverted_double_pendulum.ts';
import {
  InvertedPendulumEnv,
  type InvertedPendulumOptions,
  invertedPendulumOptionsSchema,
} from './inverted_pendulum.ts';
import type { MujocoEnv } from './mujoco-env.ts';
import { parseOptions } from './options.ts';
import { Walker2dEnv, type Walker2dOptions, walker2dOptionsSchema } from './walker2d.ts';

export interface EnvOptionsById {
  'Hopper-v5': HopperOptions;
  'Walker2d-v5': Walker2dOptions;
  'HalfCheetah-v5': HalfCheetahOptions;
  'Ant-v5': AntOptions;
  'InvertedPendulum-v5': InvertedPendulumOptions;
  'InvertedDoublePendulum-v5': InvertedDoublePendulumOptions;
}

export type EnvId = keyof EnvOptionsById;

/** Per id, its constructor and the schema its constructor checks its options with. */
const registry: { [K in EnvId]: { make: (options?: EnvOptionsById[K]) => MujocoEnv; options: z.ZodType } } = {
  'Hopper-v5': { make: (o) => new HopperEnv(o), options: hopperOptionsSchema },
  'Walker2d-v5': { make: (o) => new Walker2dEnv(o), options: walker2dOptionsSchema },
  'HalfCheetah-v5': { make: (o) => new HalfCheetahEnv(o), options: halfCheetahOptionsSchema },
  'Ant-v5': { make: (o) => new AntEnv(o), options: antOptionsSchema },
  'InvertedPendulum-v5': { make: (o) => new InvertedPendulumEnv(o), options: invertedPendulumOptionsSchema },
  'InvertedDoublePendulum-v5': {
    make: (o) => new InvertedDoublePendulumEnv(o),
    options: invertedDoublePendulumOptionsSchema,
  },
};

export const ENV_IDS = Object.keys(registry) as EnvId[];

/**
 * Checks options for `id` as makeEnv would, without building the env (no MuJoCo model is loaded): throws an
 * Error naming each bad option.
 */
export function checkEnvOptions(id: EnvId, options: Record<string, unknown>): void {
  parseOptions(registry[id].options, options, id);
}

export function isEnvId(id: unknown): id is EnvId {
  return typeof id === 'string' && Object.hasOwn(registry, id);
}

/** Builds an environment; an unknown id or invalid options throw an Error saying what was wrong. */
export function makeEnv<K extends EnvId>(id: K, options?: EnvOptionsById[K]): MujocoEnv;
export function makeEnv(id: string, options?: Record<string, unknown>): MujocoEnv;
export function makeEnv(id: string, options?: Record<string, unknown>): MujocoEnv {
  if (!isEnvId(id))
    throw new Error(`unknown environment id '${String(id)}'; known ids: ${ENV_IDS.join(', ')}`);
  return (registry[id].make as (o?: Record<string, unknown>) => MujocoEnv)(options);
}
