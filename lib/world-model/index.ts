// lib/world-model public API: see README.md in this folder.
export {
  type CompareOptions,
  choleskySolve,
  compareOneStep,
  formatComparison,
  LinearDynamics,
  type OneStepError,
} from './baselines.ts';
export { COPY_WM_FORMAT, CopyStateWorldModel } from './copy-state-world-model.ts';
export {
  gatherRows,
  type RowSplit,
  splitRows,
  type TransitionData,
  usableRows,
  validateTransitions,
} from './data.ts';
export { LINEAR_WM_FORMAT, LinearWorldModel } from './linear-world-model.ts';
export { NativeVaeWorldModel, WM_CONFIG_KEY, WM_FORMAT, WM_FORMAT_KEY } from './native-vae-world-model.ts';
export { DEFAULT_NORM_EPS, StateNormalizer } from './normalizer.ts';
export {
  type EpochProgress,
  heldOutMse,
  TRAIN_DEFAULTS,
  trainWorldModel,
  WorldModelTrainer,
  type WorldModelTrainOptions,
  type WorldModelTrainResult,
} from './train.ts';
export type { WorldModel, WorldModelInfo } from './types.ts';
export {
  resolveVaeConfig,
  type TransitionMode,
  VAE_DEFAULTS,
  Vae,
  type VaeBatch,
  type VaeConfig,
  type VaeConfigInput,
  type VaeLossTerms,
  type VaeNoise,
} from './vae.ts';
