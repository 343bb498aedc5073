// The zero-dynamics control: "predicts" s′ = s. Its substitutes are about as far from the real next
// states as the VAE's samples are on this project's data (report: World model), but carry no knowledge of
// the dynamics at all; if augmenting with it helps as much, the VAE's dynamics are not what helps.
import { z } from 'zod';
import { type RowSplit, type TransitionData, validateTransitions, worldModelSplit } from './data.ts';
import { jsonModelMetadata, readJsonModel, writeJsonModel } from './json-model-file.ts';
import { checkPredictArgs } from './predict-args.ts';
import { TRAIN_DEFAULTS } from './train.ts';
import { type TrainedFor, trainedForOf } from './trained-for.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';

export const COPY_WM_FORMAT = 'copy-state/1';

const fileSchema = z.strictObject({
  format: z.literal(COPY_WM_FORMAT),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
  metadata: jsonModelMetadata,
});

export class CopyStateWorldModel implements WorldModel {
  readonly info: WorldModelInfo;

  constructor(obsDim: number, actDim: number, trainedFor?: TrainedFor) {
    this.info = { implementation: 'copy-state', obsDim, actDim };
    if (trainedFor !== undefined) this.info.trainedFor = trainedFor;
  }

  /** Nothing to learn; the split is the VAE's (same seed), for scoring it on the same held-out rows. */
  static fit(
    data: TransitionData,
    seed: number,
    heldOutFraction: number = TRAIN_DEFAULTS.heldOutFraction,
  ): { model: CopyStateWorldModel; split: RowSplit } {
    validateTransitions(data, 'CopyStateWorldModel.fit');
    return {
      model: new CopyStateWorldModel(data.obsDim, data.actDim),
      split: worldModelSplit(data, seed, heldOutFraction, 'CopyStateWorldModel.fit'),
    };
  }

  /** Nothing to reseed: the predictions have no noise. */
  reseedNoise(_seed: number): void {}

  async predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
  ): Promise<void> {
    checkPredictArgs(this.info, states, actions, count, out);
    out.set(states);
  }

  /** `metadata`: what it was fitted for (trainedForMetadata), as the VAE's file records it. */
  save(path: string, metadata: Record<string, string> = {}): void {
    const { obsDim, actDim } = this.info;
    writeJsonModel(path, { format: COPY_WM_FORMAT, obsDim, actDim }, metadata);
  }

  static load(path: string): CopyStateWorldModel {
    const f = readJsonModel(path, fileSchema, 'copy-state world model');
    return new CopyStateWorldModel(f.obsDim, f.actDim, trainedForOf(f.metadata ?? {}, path));
  }
}
