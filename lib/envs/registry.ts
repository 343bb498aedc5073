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

const constructors: { [K in EnvId]: (options?: EnvOptionsById[K]) => MujocoEnv } = {
  'Hopper-v5': (o) => new HopperEnv(o),
  'Walker2d-v5': (o) => new Walker2dEnv(o),
  'HalfCheetah-v5': (o) => new HalfCheetahEnv(o),
  'Ant-v5': (o) => new AntEnv(o),
  'InvertedPendulum-v5': (o) => new InvertedPendulumEnv(o),
  'InvertedDoublePendulum-v5': (o) => new InvertedDoublePendulumEnv(o),
};

export const ENV_IDS = Object.keys(constructors) as EnvId[];

const optionSchemas: { [K in EnvId]: z.ZodType } = {
  'Hopper-v5': hopperOptionsSchema,
  'Walker2d-v5': walker2dOptionsSchema,
  'HalfCheetah-v5': halfCheetahOptionsSchema,
  'Ant-v5': antOptionsSchema,
  'InvertedPendulum-v5': invertedPendulumOptionsSchema,
  'InvertedDoublePendulum-v5': invertedDoublePendulumOptionsSchema,
};

/**
 * Checks options for `id` as makeEnv would, without building the env (no MuJoCo model is loaded): throws an
 * Error naming each bad option.
 */
export function checkEnvOptions(id: EnvId, options: Record<string, unknown>): void {
  parseOptions(optionSchemas[id], options, id);
}

export function isEnvId(id: unknown): id is EnvId {
  return typeof id === 'string' && Object.hasOwn(constructors, id);
}

/** Builds an environment; an unknown id or invalid options throw an Error saying what was wrong. */
export function makeEnv<K extends EnvId>(id: K, options?: EnvOptionsById[K]): MujocoEnv;
export function makeEnv(id: string, options?: Record<string, unknown>): MujocoEnv;
export function makeEnv(id: string, options?: Record<string, unknown>): MujocoEnv {
  if (!isEnvId(id))
    throw new Error(`unknown environment id '${String(id)}'; known ids: ${ENV_IDS.join(', ')}`);
  return (constructors[id] as (o?: Record<string, unknown>) => MujocoEnv)(options);
}
