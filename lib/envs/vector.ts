// N environments of one id stepped with one call on packed arrays.
//
// Layout: sub-env i's action is actions[i·actDim .. (i+1)·actDim), its observation
// observations[i·obsDim .. (i+1)·obsDim). The result arrays are owned by the VectorEnv and reused by
// every call: copy what you keep.
//
// Automatic reset (Gymnasium's "same-step" mode): when sub-env i terminates or is truncated, it is
// reset within the same step() call, `observations` holds the first observation of its new episode and
// `finalObservations` holds the last observation of the finished one (what a replay buffer needs as
// next_state). `finalObservations` rows of sub-envs that did not finish are NaN, so misuse shows.
//
// Seeding: reset({ seed }) resets sub-env i with deriveSeed(seed, i); the auto-resets continue each
// sub-env's own stream. A VectorEnv reset without ever being given a seed behaves as if seeded with 0.

import type { MujocoEnv } from './mujoco-env.ts';
import { type EnvId, type EnvOptionsById, makeEnv } from './registry.ts';
import { assertSeed, deriveSeed } from './rng.ts';
import type { BoxSpace, ResetOptions } from './types.ts';

export interface VectorStepResult {
  observations: Float64Array;
  rewards: Float64Array;
  /** 1 where the sub-env's episode terminated on this step. */
  terminated: Uint8Array;
  /** 1 where the sub-env's episode hit the time limit on this step. */
  truncated: Uint8Array;
  /** Last observation of each finished episode; NaN rows for sub-envs still running. */
  finalObservations: Float64Array;
}

export interface VectorEnvOptions<K extends EnvId = EnvId> {
  numEnvs: number;
  envOptions?: EnvOptionsById[K];
}

export class VectorEnv {
  readonly id: string;
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly singleObservationSpace: BoxSpace;
  readonly singleActionSpace: BoxSpace;
  private readonly envs: MujocoEnv[];
  private readonly result: VectorStepResult;
  private seeded = false;
  private started = false;
  private closed = false;

  constructor(id: string, options: VectorEnvOptions) {
    const n = options.numEnvs;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`VectorEnv: numEnvs must be a positive integer, got ${n}`);
    this.envs = [];
    try {
      for (let i = 0; i < n; i++) this.envs.push(makeEnv(id, options.envOptions as Record<string, unknown>));
    } catch (err) {
      for (const env of this.envs) env.close();
      throw err;
    }
    const first = this.envs[0]!;
    this.id = first.id;
    this.numEnvs = n;
    this.obsDim = first.obsDim;
    this.actDim = first.actDim;
    this.singleObservationSpace = first.observationSpace;
    this.singleActionSpace = first.actionSpace;
    this.result = {
      observations: new Float64Array(n * this.obsDim),
      rewards: new Float64Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      finalObservations: new Float64Array(n * this.obsDim).fill(Number.NaN),
    };
  }

  /** Resets every sub-env; returns the packed observations (the same array `step` reuses). */
  reset(options?: ResetOptions): Float64Array {
    this.assertOpen();
    let seed = options?.seed;
    if (seed !== undefined) assertSeed(seed, 'VectorEnv.reset');
    else if (!this.seeded) seed = 0;
    if (seed !== undefined) this.seeded = true;
    const r = this.result;
    for (let i = 0; i < this.numEnvs; i++) {
      this.envs[i]!.resetInto(
        r.observations,
        i * this.obsDim,
        seed === undefined ? undefined : deriveSeed(seed, i),
      );
    }
    r.rewards.fill(0);
    r.terminated.fill(0);
    r.truncated.fill(0);
    r.finalObservations.fill(Number.NaN);
    this.started = true;
    return r.observations;
  }

  /**
   * Steps every sub-env with its slice of `actions` (length numEnvs·actDim). The whole batch is
   * validated before any sub-env moves, so a rejected call leaves every sub-env unchanged.
   */
  step(actions: Float32Array | Float64Array): VectorStepResult {
    this.assertOpen();
    if (!this.started) throw new Error(`VectorEnv(${this.id}): step() before reset(); call reset() first`);
    this.validateActions(actions);
    const r = this.result;
    const obsDim = this.obsDim;
    for (let i = 0; i < this.numEnvs; i++) {
      const env = this.envs[i]!;
      const at = i * obsDim;
      r.rewards[i] = env.advance(actions, i * this.actDim);
      const terminated = env.lastStepTerminated;
      const truncated = env.lastStepTruncated;
      r.terminated[i] = terminated ? 1 : 0;
      r.truncated[i] = truncated ? 1 : 0;
      if (terminated || truncated) {
        env.observe(r.finalObservations, at);
        env.resetInto(r.observations, at);
      } else {
        r.finalObservations.fill(Number.NaN, at, at + obsDim);
        env.observe(r.observations, at);
      }
    }
    return r;
  }

  /** Sub-env i, for inspection (e.g. its `episodeSteps`); stepping it directly breaks the packing. */
  env(i: number): MujocoEnv {
    const env = this.envs[i];
    if (env === undefined) throw new RangeError(`VectorEnv: no sub-env ${i} (numEnvs = ${this.numEnvs})`);
    return env;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const env of this.envs) env.close();
  }

  private validateActions(actions: Float32Array | Float64Array): void {
    if (!(actions instanceof Float64Array || actions instanceof Float32Array)) {
      throw new TypeError(`VectorEnv(${this.id}): actions must be a Float32Array or Float64Array`);
    }
    const expected = this.numEnvs * this.actDim;
    if (actions.length !== expected) {
      throw new RangeError(
        `VectorEnv(${this.id}): actions must have length numEnvs·actDim = ${this.numEnvs}·${this.actDim} = ${expected}, ` +
          `got ${actions.length}`,
      );
    }
    for (let k = 0; k < expected; k++) {
      const a = actions[k]!;
      if (!Number.isFinite(a)) {
        const i = Math.floor(k / this.actDim);
        throw new RangeError(
          `VectorEnv(${this.id}): actions[${k}] (sub-env ${i}, action index ${k - i * this.actDim}) is ${a}; ` +
            'actions must be finite numbers',
        );
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`VectorEnv(${this.id}): the vector env is closed`);
  }
}
