// HalfCheetah-v5 (Gymnasium): reward = w_fwd·dx/dt − w_ctrl·‖a‖²; never terminates (only the time
// limit ends an episode); qvel reset noise is scale·N(0, 1); the observation is not clipped.
import { z } from 'zod';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, parseOptions, weight } from './options.ts';
import type { EnvInfo } from './types.ts';

export const halfCheetahOptionsSchema = z.strictObject({
  ...commonOptions(5),
  forwardRewardWeight: weight(1),
  ctrlCostWeight: weight(0.1),
  resetNoiseScale: nonNegative(0.1),
  excludeCurrentPositionsFromObservation: z.boolean().default(true),
});

export type HalfCheetahOptions = z.input<typeof halfCheetahOptionsSchema>;

export class HalfCheetahEnv extends MujocoEnv {
  readonly options: z.output<typeof halfCheetahOptionsSchema>;
  private xBefore = 0;
  private xVelocity = 0;
  private rewardForward = 0;
  private rewardCtrl = 0;

  constructor(options?: HalfCheetahOptions, modelXml?: string) {
    const o = parseOptions(halfCheetahOptionsSchema, options, 'HalfCheetah-v5');
    super({
      id: 'HalfCheetah-v5',
      asset: 'half_cheetah',
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'normal',
      observationSize: (m) => m.nq + m.nv - (o.excludeCurrentPositionsFromObservation ? 1 : 0),
    });
    this.options = o;
  }

  protected beforePhysics(): void {
    this.xBefore = this.qpos[0]!;
  }

  protected afterPhysics(action: ArrayLike<number>, offset: number): number {
    const o = this.options;
    this.xVelocity = (this.qpos[0]! - this.xBefore) / this.dt;
    this.rewardForward = o.forwardRewardWeight * this.xVelocity;
    const ctrlCost = this.controlCost(o.ctrlCostWeight, action, offset);
    this.rewardCtrl = -ctrlCost;
    return this.rewardForward - ctrlCost;
  }

  protected writeObservation(out: Float64Array, offset: number): void {
    const qpos = this.qpos;
    const qvel = this.qvel;
    let j = offset;
    for (let i = this.options.excludeCurrentPositionsFromObservation ? 1 : 0; i < qpos.length; i++)
      out[j++] = qpos[i]!;
    for (let i = 0; i < qvel.length; i++) out[j++] = qvel[i]!;
  }

  protected stepInfo(): EnvInfo {
    return {
      x_position: this.qpos[0]!,
      x_velocity: this.xVelocity,
      reward_forward: this.rewardForward,
      reward_ctrl: this.rewardCtrl,
    };
  }

  protected resetInfo(): EnvInfo {
    this.views();
    return { x_position: this.qpos[0]! };
  }
}
