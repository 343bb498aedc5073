// A linear world model, s′ = W·[s, a, 1] by least squares (LinearDynamics), behind the same WorldModel
// interface as the VAE, so that the augmentation can use it instead: the control for whether the VAE's
// learned dynamics are what helps. On this project's data it predicts held-out next states far better than
// the VAE's samples do (lib/report: World model), and it has no latent to sample, so it is deterministic.
import { z } from 'zod';
import { LinearDynamics } from './baselines.ts';
import { type RowSplit, type TransitionData, validateTransitions, worldModelSplit } from './data.ts';
import { jsonModelMetadata, readJsonModel, writeJsonModel } from './json-model-file.ts';
import { checkPredictArgs } from './predict-args.ts';
import { TRAIN_DEFAULTS } from './train.ts';
import { type TrainedFor, trainedForOf } from './trained-for.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';

export const LINEAR_WM_FORMAT = 'linear-lsq/1';

const fileSchema = z.strictObject({
  format: z.literal(LINEAR_WM_FORMAT),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
  metadata: jsonModelMetadata,
  /** obsDim vectors of obsDim + actDim + 1 coefficients (states, actions, bias). */
  coefficients: z.array(z.array(z.number())),
});

export class LinearWorldModel implements WorldModel {
  readonly info: WorldModelInfo;

  constructor(
    readonly dynamics: LinearDynamics,
    trainedFor?: TrainedFor,
  ) {
    this.info = { implementation: 'linear-lsq', obsDim: dynamics.obsDim, actDim: dynamics.actDim };
    if (trainedFor !== undefined) this.info.trainedFor = trainedFor;
  }

  /**
   * Fits on the training part of the same seeded split of usable rows (no termination, no time-out) that
   * trainWorldModel holds out from, so both models are scored on the same held-out rows.
   */
  static fit(
    data: TransitionData,
    seed: number,
    heldOutFraction: number = TRAIN_DEFAULTS.heldOutFraction,
  ): { model: LinearWorldModel; split: RowSplit } {
    validateTransitions(data, 'LinearWorldModel.fit');
    const split = worldModelSplit(data, seed, heldOutFraction, 'LinearWorldModel.fit');
    return { model: new LinearWorldModel(LinearDynamics.fit(data, split.train)), split };
  }

  /** Nothing to reseed: the predictions have no noise (the VAE's counterpart restarts its sample stream). */
  reseedNoise(_seed: number): void {}

  async predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
  ): Promise<void> {
    checkPredictArgs(this.info, states, actions, count, out);
    this.dynamics.predict(states, actions, count, out);
  }

  /**
   * JSON (float64 coefficients round-trip exactly), written to a temporary file and renamed; `metadata`:
   * what it was fitted for (trainedForMetadata), as the VAE's file records it.
   */
  save(path: string, metadata: Record<string, string> = {}): void {
    const { obsDim, actDim, coefficients } = this.dynamics;
    const body = {
      format: LINEAR_WM_FORMAT,
      obsDim,
      actDim,
      coefficients: coefficients.map((w) => Array.from(w)),
    };
    writeJsonModel(path, body, metadata);
  }

  static load(path: string): LinearWorldModel {
    const f = readJsonModel(path, fileSchema, 'linear world model');
    const trainedFor = trainedForOf(f.metadata ?? {}, path);
    try {
      return new LinearWorldModel(
        LinearDynamics.fromCoefficients(f.obsDim, f.actDim, f.coefficients),
        trainedFor,
      );
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  }
}
