// One lockstep sub-env of a simulator as an OnlineEnv, so trainOnline(remoteEnv, localEvalEnv, ...) runs
// TD3 through the service and reproduces the in-process run exactly.
import type { BoxSpace, ResetOptions, ResetResult, StepResult } from '../../lib/envs/types.ts';
import type { OnlineEnv } from '../../lib/rl/online.ts';
import { ResponseError, type SimulatorClient } from './client.ts';
import type { LockstepSession } from './lockstep-session.ts';

/**
 * Sub-env 0 of a lockstep simulator as an OnlineEnv (the simulator should have num_envs = 1; other
 * sub-envs would be stepped with zero actions, so that is refused). reset({seed}) seeds the sub-env
 * with `seed` itself, as an in-process Env.reset({seed}) would; reset() without a seed returns the first
 * observation of the episode the simulator started when the previous one ended (same-step autoreset).
 */
export class RemoteEnv implements OnlineEnv {
  readonly id: string;
  readonly observationSpace: BoxSpace;
  readonly actionSpace: BoxSpace;
  readonly maxEpisodeSteps: number;
  private nextEpisodeObs: Float64Array | undefined;
  private readonly action: Float32Array;
  private readonly session: LockstepSession | undefined;

  /** `useStream` (default true): step over the Lockstep stream (several times faster than a unary Step per step). */
  constructor(
    readonly client: SimulatorClient,
    options: { useStream?: boolean } = {},
  ) {
    const m = client.meta;
    if (m.numEnvs !== 1)
      throw new Error(`RemoteEnv: ${client.address} hosts ${m.numEnvs} envs; RemoteEnv needs 1`);
    this.id = m.envId;
    const obsDim = m.obsDim;
    this.observationSpace = {
      shape: [obsDim],
      low: new Float64Array(obsDim).fill(Number.NEGATIVE_INFINITY),
      high: new Float64Array(obsDim).fill(Number.POSITIVE_INFINITY),
    };
    this.actionSpace = {
      shape: [m.actDim],
      low: Float64Array.from(m.actionLow),
      high: Float64Array.from(m.actionHigh),
    };
    this.maxEpisodeSteps = m.maxEpisodeSteps;
    this.action = new Float32Array(m.actDim);
    this.session = (options.useStream ?? true) ? client.openLockstep() : undefined;
  }

  async reset(options?: ResetOptions): Promise<ResetResult> {
    if (options?.seed !== undefined) {
      this.nextEpisodeObs = undefined;
      const { observationsF64 } = await this.client.resetExact({ envSeeds: [options.seed] });
      if (observationsF64 === undefined) throw new ResponseError('Reset: no float64 observations');
      return { obs: observationsF64, info: {} };
    }
    const obs = this.nextEpisodeObs;
    if (obs === undefined) {
      throw new Error('RemoteEnv.reset(): without a seed only right after an episode ended (pass a seed)');
    }
    this.nextEpisodeObs = undefined;
    return { obs, info: {} };
  }

  async step(action: ArrayLike<number>): Promise<StepResult> {
    if (action.length !== this.action.length) {
      throw new RangeError(
        `RemoteEnv.step: action has ${action.length} values, expected ${this.action.length}`,
      );
    }
    for (let i = 0; i < action.length; i++) this.action[i] = action[i]!;
    const r = this.session
      ? await this.session.step(this.action, true)
      : await this.client.step(this.action, true);
    const terminated = r.terminated[0] === 1;
    const truncated = r.truncated[0] === 1;
    const done = terminated || truncated;
    const observations = r.observationsF64;
    const finals = r.finalObservationsF64;
    if (observations === undefined || finals === undefined) {
      throw new ResponseError('Step: the simulator sent no float64 observations');
    }
    this.nextEpisodeObs = done ? observations : undefined;
    return {
      obs: done ? finals.slice(0, this.observationSpace.shape[0]) : observations,
      reward: r.rewards[0]!,
      terminated,
      truncated,
      info: {},
    };
  }

  close(): void {
    this.session?.close();
  }
}
