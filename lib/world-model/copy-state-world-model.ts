// The zero-dynamics control: "predicts" s′ = s. Its substitutes are about as far from the real next
// states as the VAE's samples are on this project's data (report: World model), but carry no knowledge of
// the dynamics at all; if augmenting with it helps as much, the VAE's dynamics are not what helps.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { type RowSplit, splitRows, type TransitionData, usableRows, validateTransitions } from './data.ts';
import { checkPredictArgs } from './predict-args.ts';
import { TRAIN_DEFAULTS } from './train.ts';
import type { WorldModel, WorldModelInfo } from './types.ts';

export const COPY_WM_FORMAT = 'copy-state/1';

const fileSchema = z.strictObject({
  format: z.literal(COPY_WM_FORMAT),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
});

export class CopyStateWorldModel implements WorldModel {
  readonly info: WorldModelInfo;

  constructor(obsDim: number, actDim: number) {
    this.info = { implementation: 'copy-state', obsDim, actDim };
  }

  /** Nothing to learn; the split is the VAE's (same seed), for scoring it on the same held-out rows. */
  static fit(
    data: TransitionData,
    seed: number,
    heldOutFraction: number = TRAIN_DEFAULTS.heldOutFraction,
  ): { model: CopyStateWorldModel; split: RowSplit } {
    validateTransitions(data, 'CopyStateWorldModel.fit');
    const rows = usableRows(data);
    if (rows.length < 2)
      throw new RangeError(`CopyStateWorldModel.fit: only ${rows.length} usable transitions`);
    return {
      model: new CopyStateWorldModel(data.obsDim, data.actDim),
      split: splitRows(rows, heldOutFraction, seed + 2),
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

  save(path: string): void {
    const { obsDim, actDim } = this.info;
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ format: COPY_WM_FORMAT, obsDim, actDim })}\n`);
    renameSync(tmp, path);
  }

  static load(path: string): CopyStateWorldModel {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: not a copy-state world model (${(err as Error).message})`);
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(
        `${path}: not a copy-state world model: ${issue.path.join('.') || '(file)'}: ${issue.message}`,
      );
    }
    return new CopyStateWorldModel(parsed.data.obsDim, parsed.data.actDim);
  }
}
