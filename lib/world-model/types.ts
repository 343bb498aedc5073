// The world model as the learner sees it: batched single-step next-state prediction. The learner's
// augmentation goes through this interface only, so that an in-process model, a tfjs or ONNX model, or
// the world-model gRPC service can stand behind it.

import type { TrainedFor } from './trained-for.ts';

export interface WorldModelInfo {
  /** Which implementation answers (e.g. 'vae-native', 'grpc'). */
  implementation: string;
  obsDim: number;
  actDim: number;
  /** The env (and options) the model was trained for, when its file records them. */
  trainedFor?: TrainedFor;
}

export interface WorldModel {
  readonly info: WorldModelInfo;
  /**
   * Predicts next states for `count` (state, action) pairs, row-major: states is count·obsDim raw
   * (unnormalised) states, actions count·actDim; writes count·obsDim raw next states into `out`.
   * Stochastic unless `deterministic` is set (the latent's mean instead of a sample).
   */
  predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
    options?: { deterministic?: boolean },
  ): Promise<void>;
}

/**
 * A world model the offline stage can augment with reproducibly: its stochastic predictions restart from
 * a given seed at every pre-training segment, so a resumed pre-training continues exactly.
 */
export interface ReseedableWorldModel extends WorldModel {
  reseedNoise(seed: number): void;
}

/** True for a model whose noise can be reseeded (in-process ones, and the service through RemoteWorldModel). */
export function isReseedable(model: WorldModel): model is ReseedableWorldModel {
  return typeof (model as Partial<ReseedableWorldModel>).reseedNoise === 'function';
}
