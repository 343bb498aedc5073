// Public surface of the environments package.
export { AntEnv, type AntOptions } from './ant.ts';
export { HalfCheetahEnv, type HalfCheetahOptions } from './half_cheetah.ts';
export { HopperEnv, type HopperOptions } from './hopper.ts';
export { InvertedDoublePendulumEnv, type InvertedDoublePendulumOptions } from './inverted_double_pendulum.ts';
export { InvertedPendulumEnv, type InvertedPendulumOptions } from './inverted_pendulum.ts';
export { MujocoEnv, validateAction } from './mujoco-env.ts';
export { ENV_IDS, type EnvId, type EnvOptionsById, isEnvId, makeEnv } from './registry.ts';
export { deriveSeed, Rng } from './rng.ts';
export type { BoxSpace, Env, EnvInfo, ResetOptions, ResetResult, StepResult } from './types.ts';
export { VectorEnv, type VectorEnvOptions, type VectorStepResult } from './vector.ts';
export { Walker2dEnv, type Walker2dOptions } from './walker2d.ts';
