// A small seeded PRNG for environment reset noise: xoshiro128** (Blackman & Vigna) whose 128-bit state
// is filled by splitmix64 from a 53-bit integer seed.
//
// Why this and not numpy's stream: Gymnasium draws reset noise from numpy's PCG64 via `np_random`,
// whose exact stream (and its float conversion) we do not reproduce. What we guarantee instead:
// - the same seed gives the same sequence, hence the same episode for the same actions;
// - the sequence is the same on every platform: the generator uses only 32-bit integer arithmetic
//   (Math.imul, shifts) and the seeding uses BigInt, so no floating-point rounding is involved until
//   the final exact conversion to a double; `normal()` uses Math.log and Math.sqrt, and V8 implements
//   Math.log in software (the fdlibm port), so it too is bit-identical across machines running Node.
// - `deriveSeed(seed, i)` gives the seeds of independent child streams (sub-environments of a vector env).

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const TWO_POW_53 = 2 ** 53;

/** One splitmix64 output for the state `x` (already advanced by the caller). */
function mix64(x: bigint): bigint {
  let z = x & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** Seeds must be non-negative safe integers, as Gymnasium's (non-negative int) seeds. */
export function assertSeed(seed: unknown, where: string): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`${where}: seed must be a non-negative integer below 2^53, got ${String(seed)}`);
  }
}

/**
 * The seed of child stream `index` of `seed`: splitmix64 applied to both, so neighbouring parents and
 * neighbouring children give unrelated streams. Returns a non-negative integer below 2^53 so that it
 * can be passed anywhere a seed is accepted (e.g. `env.reset({ seed })`).
 */
export function deriveSeed(seed: number, index: number): number {
  assertSeed(seed, 'deriveSeed');
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`deriveSeed: index must be a non-negative integer, got ${String(index)}`);
  }
  const parent = mix64(BigInt(seed) + GOLDEN_GAMMA);
  const child = mix64(parent + BigInt(index + 1) * GOLDEN_GAMMA);
  return Number(child >> 11n);
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    this.reseed(seed);
  }

  /** Restarts the stream from `seed`. */
  reseed(seed: number): void {
    assertSeed(seed, 'Rng');
    let state = BigInt(seed);
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      state = (state + GOLDEN_GAMMA) & MASK64;
      const z = mix64(state);
      words.push(Number(z & 0xffffffffn), Number(z >> 32n));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // splitmix64 never yields four zero words in a row from consecutive states, but be explicit:
    // the all-zero state is the one state xoshiro cannot leave.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The generator's position, for checkpoints: `setState(getState())` resumes the stream exactly. */
  getState(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < -(2 ** 31) || w >= 2 ** 32)) {
      throw new RangeError(`Rng.setState: expected four 32-bit words, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => w === 0)) throw new RangeError('Rng.setState: the all-zero state is invalid');
    [this.s0, this.s1, this.s2, this.s3] = [state[0]! | 0, state[1]! | 0, state[2]! | 0, state[3]! | 0];
  }

  /** The next 32-bit output as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double uniform on [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform on [low, high), as numpy's `uniform(low, high)`. */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.nextDouble();
  }

  /** A standard normal draw (Marsaglia's polar method; the second value of each pair is discarded). */
  normal(): number {
    for (;;) {
      const u = 2 * this.nextDouble() - 1;
      const v = 2 * this.nextDouble() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
