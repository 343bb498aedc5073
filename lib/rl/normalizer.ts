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

  /** Writes the standardised rows of `obs` into `out` (same length, any number of rows). */
  normalizeInto(obs: ArrayLike<number>, out: Float32Array): void {
    const d = this.mean.length;
    for (let i = 0; i < obs.length; i++) {
      const j = i % d;
      out[i] = (obs[i]! - this.mean[j]!) / this.std[j]!;
    }
  }
}
