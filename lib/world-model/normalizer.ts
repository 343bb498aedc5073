// Per-dimension state standardisation x̂ = (x - mean) / (std + eps) with statistics of the world model's
// training data. The statistics travel inside the model's checkpoint: a model without them predicts
// in the wrong units.

export const DEFAULT_NORM_EPS = 1e-5;

export class StateNormalizer {
  readonly mean: Float32Array;
  /** Population standard deviation (no eps added). */
  readonly std: Float32Array;
  readonly eps: number;
  private readonly scale: Float32Array;

  constructor(mean: Float32Array, std: Float32Array, eps = DEFAULT_NORM_EPS) {
    if (mean.length === 0 || mean.length !== std.length)
      throw new RangeError(
        `StateNormalizer: mean (${mean.length}) and std (${std.length}) must be non-empty, same length`,
      );
    if (!(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`StateNormalizer: invalid eps ${eps}`);
    for (let j = 0; j < mean.length; j++) {
      if (!Number.isFinite(mean[j]!)) throw new RangeError(`StateNormalizer: mean[${j}] is ${mean[j]}`);
      if (!(std[j]! >= 0) || !Number.isFinite(std[j]!))
        throw new RangeError(`StateNormalizer: std[${j}] is ${std[j]} (must be finite, >= 0)`);
      if (std[j]! + eps === 0) throw new RangeError(`StateNormalizer: std[${j}] + eps is 0`);
    }
    this.mean = mean;
    this.std = std;
    this.eps = eps;
    this.scale = Float32Array.from(std, (s) => s + eps);
  }

  get dim(): number {
    return this.mean.length;
  }

  /** Mean and population std (float64 accumulation) of the rows listed in `rows` (all rows if omitted). */
  static fit(
    data: Float32Array,
    dim: number,
    rows?: ArrayLike<number>,
    eps = DEFAULT_NORM_EPS,
  ): StateNormalizer {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`StateNormalizer.fit: invalid dim ${dim}`);
    if (data.length % dim !== 0)
      throw new RangeError(`StateNormalizer.fit: data length ${data.length} is not a multiple of dim ${dim}`);
    const count = rows === undefined ? data.length / dim : rows.length;
    if (count === 0) throw new RangeError('StateNormalizer.fit: no rows');
    const row = (i: number): number => (rows === undefined ? i : rows[i]!);
    const sum = new Float64Array(dim);
    for (let i = 0; i < count; i++) {
      const o = row(i) * dim;
      for (let j = 0; j < dim; j++) sum[j]! += data[o + j]!;
    }
    const mean = sum.map((s) => s / count);
    const sq = new Float64Array(dim);
    for (let i = 0; i < count; i++) {
      const o = row(i) * dim;
      for (let j = 0; j < dim; j++) sq[j]! += (data[o + j]! - mean[j]!) ** 2;
    }
    return new StateNormalizer(
      Float32Array.from(mean),
      Float32Array.from(sq, (s) => Math.sqrt(s / count)),
      eps,
    );
  }

  /** out[i] = (x[i] - mean) / (std + eps), row-major rows of `dim`. */
  normalize(x: Float32Array, out: Float32Array): Float32Array {
    this.check(x, out, 'normalize');
    const d = this.mean.length;
    for (let i = 0; i < x.length; i++) {
      const j = i % d;
      out[i] = (x[i]! - this.mean[j]!) / this.scale[j]!;
    }
    return out;
  }

  /** out[i] = x[i] · (std + eps) + mean. */
  denormalize(x: Float32Array, out: Float32Array): Float32Array {
    this.check(x, out, 'denormalize');
    const d = this.mean.length;
    for (let i = 0; i < x.length; i++) {
      const j = i % d;
      out[i] = x[i]! * this.scale[j]! + this.mean[j]!;
    }
    return out;
  }

  private check(x: Float32Array, out: Float32Array, where: string): void {
    if (x.length % this.mean.length !== 0 || out.length !== x.length)
      throw new RangeError(
        `StateNormalizer.${where}: input length ${x.length} / output ${out.length} must be equal multiples of ${this.mean.length}`,
      );
  }
}
