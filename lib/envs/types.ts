// The environment API, after Gymnasium's: reset({seed}) -> {obs, info}; step(action) ->
// {obs, reward, terminated, truncated, info}. Observations are float64, as Gymnasium's MuJoCo envs return.

/** A box space: every coordinate i lies in [low[i], high[i]] (infinite bounds allowed). */
export interface BoxSpace {
  readonly shape: readonly [number];
  readonly low: Float64Array;
  readonly high: Float64Array;
}

/** Named scalar diagnostics of a step or reset (reward terms, x position, ...). */
export type EnvInfo = Record<string, number>;

export interface ResetResult {
  obs: Float64Array;
  info: EnvInfo;
}

export interface StepResult {
  obs: Float64Array;
  reward: number;
  /** The MDP ended (e.g. unhealthy): do not bootstrap past this step. */
  terminated: boolean;
  /** The time limit ended the episode: bootstrap as usual. */
  truncated: boolean;
  info: EnvInfo;
}

export interface ResetOptions {
  /** Reseeds the environment's PRNG; without it the PRNG continues from where it was. */
  seed?: number;
}

export interface Env {
  readonly id: string;
  readonly observationSpace: BoxSpace;
  readonly actionSpace: BoxSpace;
  /** Physics steps per env step. */
  readonly frameSkip: number;
  /** Episode length at which `truncated` becomes true. */
  readonly maxEpisodeSteps: number;
  reset(options?: ResetOptions): ResetResult;
  step(action: ArrayLike<number>): StepResult;
  /** Frees the MuJoCo model and data; the env is unusable afterwards. */
  close(): void;
}
