// The shared machinery of the MuJoCo environments, following Gymnasium's MujocoEnv (v5) plus the
// TimeLimit and order-enforcing wrappers that `gymnasium.make` adds:
// - step: write ctrl, advance `frameSkip` physics steps, then mj_rnePostConstraint (so that cfrc_ext
//   is valid, as Gymnasium does after stepping);
// - reset: mj_resetData, the env's reset noise on qpos/qvel, then mj_forward;
// - time limit: `truncated` once `maxEpisodeSteps` steps have been taken, reported together with
//   `terminated` when both happen on the same step (as TimeLimit does);
// - actions are validated here, at the boundary (see `validateAction`).
import type { ModelAsset } from './assets.ts';
import { readModelXml } from './assets.ts';
import { clip } from './clip.ts';
import { compileModel, type MjData, type MjModel, mujoco } from './mujoco.ts';
import { assertSeed, Rng } from './rng.ts';
import type { BoxSpace, Env, EnvInfo, ResetOptions, ResetResult, StepResult } from './types.ts';

export interface MujocoEnvConfig {
  id: string;
  asset: ModelAsset;
  /** MJCF text to use instead of the project's asset (e.g. a modified model); defaults to the asset. */
  modelXml?: string | undefined;
  frameSkip: number;
  maxEpisodeSteps: number;
  resetNoiseScale: number;
  /** qpos noise is always U(-scale, scale); qvel noise is uniform too, or scale·N(0, 1). */
  qvelNoise: 'uniform' | 'normal';
  observationSize(model: MjModel): number;
}

type Phase = 'needs-reset' | 'running' | 'ended' | 'closed';

export abstract class MujocoEnv implements Env {
  readonly id: string;
  readonly observationSpace: BoxSpace;
  readonly actionSpace: BoxSpace;
  readonly frameSkip: number;
  readonly maxEpisodeSteps: number;
  /** Seconds of simulated time per env step: timestep · frameSkip. */
  readonly dt: number;
  readonly model: MjModel;
  readonly data: MjData;
  readonly obsDim: number;
  readonly actDim: number;

  protected readonly initQpos: Float64Array;
  protected readonly initQvel: Float64Array;
  protected readonly rng = new Rng(0);

  // Views into wasm memory, cached because every MjData field access builds a new view. They become
  // detached (length 0) when the wasm memory grows (another model being compiled, say); see `views()`.
  protected qpos!: Float64Array;
  protected qvel!: Float64Array;
  protected ctrl!: Float64Array;
  protected xpos!: Float64Array;
  protected cfrcExt!: Float64Array;
  protected siteXpos!: Float64Array;
  protected qfrcConstraint!: Float64Array;

  /** Set by `afterPhysics`: whether the MDP ended on this step. */
  protected terminatedNow = false;

  private readonly resetNoiseScale: number;
  private readonly qvelNoise: 'uniform' | 'normal';
  private readonly ctrlLow: Float64Array;
  private readonly ctrlHigh: Float64Array;
  private phase: Phase = 'needs-reset';
  private elapsedSteps = 0;
  private lastTerminated = false;
  private lastTruncated = false;

  constructor(config: MujocoEnvConfig) {
    if (!Number.isInteger(config.frameSkip) || config.frameSkip < 1) {
      throw new Error(`${config.id}: frameSkip must be a positive integer, got ${config.frameSkip}`);
    }
    if (!Number.isInteger(config.maxEpisodeSteps) || config.maxEpisodeSteps < 1) {
      throw new Error(
        `${config.id}: maxEpisodeSteps must be a positive integer, got ${config.maxEpisodeSteps}`,
      );
    }
    this.id = config.id;
    this.frameSkip = config.frameSkip;
    this.maxEpisodeSteps = config.maxEpisodeSteps;
    this.resetNoiseScale = config.resetNoiseScale;
    this.qvelNoise = config.qvelNoise;
    this.model = compileModel(config.modelXml ?? readModelXml(config.asset), config.asset);
    this.data = new mujoco.MjData(this.model);
    this.dt = this.model.opt.timestep * this.frameSkip;
    this.refreshViews();
    this.initQpos = Float64Array.from(this.qpos);
    this.initQvel = Float64Array.from(this.qvel);

    this.actDim = this.model.nu;
    const range = this.model.actuator_ctrlrange as Float64Array;
    this.ctrlLow = new Float64Array(this.actDim);
    this.ctrlHigh = new Float64Array(this.actDim);
    for (let i = 0; i < this.actDim; i++) {
      this.ctrlLow[i] = range[2 * i]!;
      this.ctrlHigh[i] = range[2 * i + 1]!;
    }
    this.actionSpace = box(this.ctrlLow.slice(), this.ctrlHigh.slice());
    this.obsDim = config.observationSize(this.model);
    this.observationSpace = box(
      new Float64Array(this.obsDim).fill(Number.NEGATIVE_INFINITY),
      new Float64Array(this.obsDim).fill(Number.POSITIVE_INFINITY),
    );
  }

  reset(options?: ResetOptions): ResetResult {
    const obs = new Float64Array(this.obsDim);
    this.resetInto(obs, 0, options?.seed);
    return { obs, info: this.resetInfo() };
  }

  /**
   * Resets and writes the first observation at `obs[offset ..]`. Without a seed the PRNG continues its
   * stream; an env never given a seed starts from seed 0, so an
   * unseeded run is still reproducible.
   */
  resetInto(obs: Float64Array, offset: number, seed?: number): void {
    this.assertOpen();
    if (seed !== undefined) {
      assertSeed(seed, `${this.id}.reset`);
      this.rng.reseed(seed);
    }
    this.resetState();
    this.observe(obs, offset);
  }

  step(action: ArrayLike<number>): StepResult {
    this.assertSteppable();
    validateAction(action, this.actDim, this.id);
    const reward = this.advance(action, 0);
    const obs = new Float64Array(this.obsDim);
    this.observe(obs, 0);
    return {
      obs,
      reward,
      terminated: this.lastTerminated,
      truncated: this.lastTruncated,
      info: this.stepInfo(),
    };
  }

  /** Throws unless a step may be taken now (reset done, episode not over, env open). */
  assertSteppable(): void {
    if (this.phase === 'running') return;
    if (this.phase === 'closed') throw new Error(`${this.id}: step() on a closed environment`);
    if (this.phase === 'needs-reset')
      throw new Error(`${this.id}: step() before reset(); call reset() first`);
    const why = this.lastTerminated ? 'terminated' : 'was truncated at the time limit';
    throw new Error(
      `${this.id}: the episode ${why} after ${this.elapsedSteps} steps; call reset() before step()`,
    );
  }

  /**
   * One env step with an action already checked by `validateAction`, read from
   * `action[offset .. offset + actDim)`. Returns the reward; `terminated`/`truncated` are then available
   * from `lastFlags`. The vector env calls this directly to avoid per-step allocation.
   */
  advance(action: ArrayLike<number>, offset: number): number {
    if (this.phase !== 'running') this.assertSteppable();
    this.views();
    const ctrl = this.ctrl;
    // Physics sees the action clipped to ctrlrange, as MuJoCo's own clamping of ctrl does for these
    // models in Gymnasium; the control cost (in `afterPhysics`) uses the action as given, as v5 does.
    for (let i = 0; i < this.actDim; i++) {
      ctrl[i] = clip(action[offset + i]!, this.ctrlLow[i]!, this.ctrlHigh[i]!);
    }
    this.beforePhysics();
    const m = this.model;
    const d = this.data;
    for (let k = 0; k < this.frameSkip; k++) mujoco.mj_step(m, d);
    mujoco.mj_rnePostConstraint(m, d);
    this.views();
    this.terminatedNow = false;
    const reward = this.afterPhysics(action, offset);
    this.elapsedSteps++;
    this.lastTerminated = this.terminatedNow;
    this.lastTruncated = this.elapsedSteps >= this.maxEpisodeSteps;
    if (this.lastTerminated || this.lastTruncated) this.phase = 'ended';
    return reward;
  }

  get lastStepTerminated(): boolean {
    return this.lastTerminated;
  }

  get lastStepTruncated(): boolean {
    return this.lastTruncated;
  }

  /** Steps taken since the last reset. */
  get episodeSteps(): number {
    return this.elapsedSteps;
  }

  /** Writes the current observation at `out[offset .. offset + obsDim)`. */
  observe(out: Float64Array, offset: number): void {
    this.views();
    this.writeObservation(out, offset);
  }

  /**
   * Sets the joint positions and velocities, then mj_forward (Gymnasium's set_state). For constructing
   * states in tests and tools; the episode's step count is unchanged.
   */
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): void {
    this.assertOpen();
    if (qpos.length !== this.model.nq || qvel.length !== this.model.nv) {
      throw new Error(
        `${this.id}.setState: expected qpos of length ${this.model.nq} and qvel of length ${this.model.nv}, ` +
          `got ${qpos.length} and ${qvel.length}`,
      );
    }
    this.views();
    this.qpos.set(qpos);
    this.qvel.set(qvel);
    mujoco.mj_forward(this.model, this.data);
  }

  /** qpos followed by qvel (Gymnasium's state_vector()), as a copy. */
  stateVector(): Float64Array {
    this.views();
    const out = new Float64Array(this.qpos.length + this.qvel.length);
    out.set(this.qpos, 0);
    out.set(this.qvel, this.qpos.length);
    return out;
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.data.delete();
    this.model.delete();
  }

  /** Records what the reward needs from the state before the physics step (e.g. the torso's x). */
  protected abstract beforePhysics(): void;
  /** Computes the reward terms of the step just simulated; sets `terminatedNow`; returns the reward. */
  protected abstract afterPhysics(action: ArrayLike<number>, offset: number): number;
  protected abstract writeObservation(out: Float64Array, offset: number): void;
  protected abstract stepInfo(): EnvInfo;
  protected abstract resetInfo(): EnvInfo;

  /** w · Σ action², over the action as given (not clipped), as Gymnasium's control_cost. */
  protected controlCost(weight: number, action: ArrayLike<number>, offset: number): number {
    let sum = 0;
    for (let i = 0; i < this.actDim; i++) {
      const a = action[offset + i]!;
      sum += a * a;
    }
    return weight * sum;
  }

  /** Re-acquires the wasm views if memory growth has detached them; all share one buffer. */
  protected views(): void {
    if (this.qpos.length === 0) this.refreshViews();
  }

  private refreshViews(): void {
    const d = this.data;
    this.qpos = d.qpos as Float64Array;
    this.qvel = d.qvel as Float64Array;
    this.ctrl = d.ctrl as Float64Array;
    this.xpos = d.xpos as Float64Array;
    this.cfrcExt = d.cfrc_ext as Float64Array;
    this.siteXpos = d.site_xpos as Float64Array;
    this.qfrcConstraint = d.qfrc_constraint as Float64Array;
    if (this.model.nq > 0 && this.qpos.length === 0) {
      throw new Error(`${this.id}: MuJoCo data views are empty (was the environment closed?)`);
    }
  }

  private resetState(): void {
    const m = this.model;
    const d = this.data;
    mujoco.mj_resetData(m, d);
    this.views();
    const s = this.resetNoiseScale;
    const qpos = this.qpos;
    const qvel = this.qvel;
    for (let i = 0; i < qpos.length; i++) qpos[i] = this.initQpos[i]! + this.rng.uniform(-s, s);
    if (this.qvelNoise === 'uniform') {
      for (let i = 0; i < qvel.length; i++) qvel[i] = this.initQvel[i]! + this.rng.uniform(-s, s);
    } else {
      for (let i = 0; i < qvel.length; i++) qvel[i] = this.initQvel[i]! + s * this.rng.normal();
    }
    mujoco.mj_forward(m, d);
    this.elapsedSteps = 0;
    this.lastTerminated = false;
    this.lastTruncated = false;
    this.phase = 'running';
  }

  private assertOpen(): void {
    if (this.phase === 'closed') throw new Error(`${this.id}: the environment is closed`);
  }
}

/**
 * Checks an action at the API boundary: exactly `actDim` finite numbers. NaN or ±Inf are rejected
 * (never silently clamped), naming the offending index. Finite out-of-range values are accepted and
 * clipped to the action space for the physics.
 */
export function validateAction(action: ArrayLike<number>, actDim: number, where: string, offset = 0): void {
  if (action === null || typeof action !== 'object' || typeof action.length !== 'number') {
    throw new TypeError(`${where}: action must be an array of ${actDim} numbers, got ${typeof action}`);
  }
  if (offset === 0 && action.length !== actDim) {
    throw new RangeError(`${where}: action must have length ${actDim}, got length ${action.length}`);
  }
  for (let i = 0; i < actDim; i++) {
    const a = action[offset + i];
    if (typeof a !== 'number' || !Number.isFinite(a)) {
      throw new RangeError(`${where}: action[${offset + i}] is ${String(a)}; actions must be finite numbers`);
    }
  }
}

function box(low: Float64Array, high: Float64Array): BoxSpace {
  return { shape: [low.length], low, high };
}
