// The paper's augmentation: in every offline batch, a fraction p of the rows, chosen at random, get
// their next state replaced by the world model's single-step prediction from (s, a). Rewards and
// termination flags stay the dataset's, and only the next states change, so only the critic's target
// sees the model; the actor's loss uses the real states. p = 0 is plain TD3+BC.
import { Rng } from '../envs/rng.ts';
import type { WorldModel } from '../world-model/types.ts';
import type { TransitionBatch } from './replay-buffer.ts';

export class NextStateAugmenter {
  readonly fraction: number;
  readonly model: WorldModel;
  private readonly rng: Rng;
  private order = new Int32Array(0);
  private states = new Float32Array(0);
  private actions = new Float32Array(0);
  private predicted = new Float32Array(0);

  constructor(model: WorldModel, fraction: number, seed: number) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`augmentation fraction must be in [0, 1], got ${fraction}`);
    }
    this.model = model;
    this.fraction = fraction;
    this.rng = new Rng(seed);
  }

  /** Replaces ⌊p·B⌋ next states of `batch` in place; returns the rows replaced (in batch order of choice). */
  async apply(batch: TransitionBatch): Promise<Int32Array> {
    const { obsDim, actDim } = this.model.info;
    const rows = Math.floor(this.fraction * batch.size);
    if (rows === 0) return new Int32Array(0);
    if (batch.obs.length !== batch.size * obsDim || batch.actions.length !== batch.size * actDim) {
      throw new RangeError(
        `augmentation: batch dims do not match the world model (obs ${obsDim}, action ${actDim})`,
      );
    }
    this.ensureCapacity(batch.size, obsDim, actDim);
    // Partial Fisher-Yates: the first `rows` entries of `order` are a uniform sample without replacement.
    const order = this.order;
    for (let i = 0; i < batch.size; i++) order[i] = i;
    for (let i = 0; i < rows; i++) {
      const j = i + Math.floor(this.rng.nextDouble() * (batch.size - i));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let k = 0; k < rows; k++) {
      const r = order[k]!;
      this.states.set(batch.obs.subarray(r * obsDim, (r + 1) * obsDim), k * obsDim);
      this.actions.set(batch.actions.subarray(r * actDim, (r + 1) * actDim), k * actDim);
    }
    const predicted = this.predicted.subarray(0, rows * obsDim);
    await this.model.predictNextStates(
      this.states.subarray(0, rows * obsDim),
      this.actions.subarray(0, rows * actDim),
      rows,
      predicted,
    );
    for (let k = 0; k < rows; k++) {
      const r = order[k]!;
      batch.nextObs.set(predicted.subarray(k * obsDim, (k + 1) * obsDim), r * obsDim);
    }
    return order.slice(0, rows);
  }

  private ensureCapacity(size: number, obsDim: number, actDim: number): void {
    if (this.order.length >= size) return;
    this.order = new Int32Array(size);
    this.states = new Float32Array(size * obsDim);
    this.actions = new Float32Array(size * actDim);
    this.predicted = new Float32Array(size * obsDim);
  }
}
