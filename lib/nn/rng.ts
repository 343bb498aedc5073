// The nn module's own seeded PRNG (sfc32 state, splitmix32 seeding), so weight initialisation does not
// depend on any other module's generator and stays reproducible across versions of those modules.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class NnRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`NnRng: seed must be a safe integer, got ${seed}`);
    // Fold both 32-bit halves of the seed in so seeds differing only above bit 32 still differ.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2f) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /**
   * The generator's position, for checkpoints: the four words, then the cached second normal of Box-Muller
   * (null if none), so that `setState(getState())` resumes even between a pair of normals.
   */
  getState(): [number, number, number, number, number | null] {
    return [this.a, this.b, this.c, this.d, this.spareNormal ?? null];
  }

  setState(state: readonly unknown[]): void {
    const words = state.slice(0, 4);
    const spare = state[4];
    const ok =
      state.length === 5 &&
      words.every((w) => Number.isInteger(w) && (w as number) >= -(2 ** 31) && (w as number) < 2 ** 32) &&
      (spare === null || (typeof spare === 'number' && Number.isFinite(spare)));
    if (!ok)
      throw new RangeError(
        `NnRng.setState: expected four 32-bit words and a number or null, got ${JSON.stringify(state)}`,
      );
    [this.a, this.b, this.c, this.d] = (words as number[]).map((w) => w | 0) as [
      number,
      number,
      number,
      number,
    ];
    this.spareNormal = spare === null ? undefined : (spare as number);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  range(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Standard normal (Box-Muller, second value cached). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fills `out` with U[low, high) samples. */
  fillUniform(out: Float32Array, low: number, high: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.range(low, high);
    return out;
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }
}
