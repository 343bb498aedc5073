// Hopper-v5 (Gymnasium): reward = healthy_reward·healthy + w_fwd·dx/dt − w_ctrl·‖a‖²; terminates when
// unhealthy (z, torso angle, or any of state_vector()[2:] leaving its open range); velocities in the
// observation are clipped to ±10.
import { z } from 'zod';
import { clip } from './clip.ts';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, parseOptions, range, weight } from './options.ts';
import type { EnvInfo } from './types.ts';

export const hopperOptionsSchema = z.strictObject({
  ...commonOptions(4),
  forwardRewardWeight: weight(1),
  ctrlCostWeight: weight(1e-3),
  healthyReward: weight(1),
  terminateWhenUnhealthy: z.boolean().default(true),
  healthyStateRange: range([-100, 100]),
  healthyZRange: range([0.7, Number.POSITIVE_INFINITY]),
  healthyAngleRange: range([-0.2, 0.2]),
  resetNoiseScale: nonNegative(5e-3),
  excludeCurrentPositionsFromObservation: z.boolean().default(true),
});

export type HopperOptions = z.input<typeof hopperOptionsSchema>;

/** Gymnasium clips the velocity part of Hopper's and Walker2d's observations to this magnitude. */
export const OBS_VELOCITY_CLIP = 10;

export class HopperEnv extends MujocoEnv {
  readonly options: z.output<typeof hopperOptionsSchema>;
  private xBefore = 0;
  private xVelocity = 0;
  private rewardForward = 0;
  private rewardCtrl = 0;
  private rewardSurvive = 0;

  constructor(options?: HopperOptions, modelXml?: string) {
    const o = parseOptions(hopperOptionsSchema, options, 'Hopper-v5');
    super({
      id: 'Hopper-v5',
      asset: 'hopper',
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'uniform',
      observationSize: (m) => m.nq + m.nv - (o.excludeCurrentPositionsFromObservation ? 1 : 0),
    });
    this.options = o;
  }

  /** Gymnasium's is_healthy: strict inequalities on z = qpos[1], angle = qpos[2], state_vector()[2:]. */
  isHealthy(): boolean {
    this.views();
    const qpos = this.qpos;
    const qvel = this.qvel;
    const [minState, maxState] = this.options.healthyStateRange;
    for (let i = 2; i < qpos.length; i++) {
      const v = qpos[i]!;
      if (!(minState < v && v < maxState)) return false;
    }
    for (let i = 0; i < qvel.length; i++) {
      const v = qvel[i]!;
      if (!(minState < v && v < maxState)) return false;
    }
    const z = qpos[1]!;
    const angle = qpos[2]!;
    const [minZ, maxZ] = this.options.healthyZRange;
    const [minAngle, maxAngle] = this.options.healthyAngleRange;
    return minZ < z && z < maxZ && minAngle < angle && angle < maxAngle;
  }

  protected beforePhysics(): void {
    this.xBefore = this.qpos[0]!;
  }

  protected afterPhysics(action: ArrayLike<number>, offset: number): number {
    const o = this.options;
    this.xVelocity = (this.qpos[0]! - this.xBefore) / this.dt;
    const healthy = this.isHealthy();
    this.rewardForward = o.forwardRewardWeight * this.xVelocity;
    this.rewardSurvive = healthy ? o.healthyReward : 0;
    const ctrlCost = this.controlCost(o.ctrlCostWeight, action, offset);
    this.rewardCtrl = -ctrlCost;
    this.terminatedNow = !healthy && o.terminateWhenUnhealthy;
    return this.rewardForward + this.rewardSurvive - ctrlCost;
  }

  protected writeObservation(out: Float64Array, offset: number): void {
    writeClippedPlanarObservation(
      this.qpos,
      this.qvel,
      this.options.excludeCurrentPositionsFromObservation,
      out,
      offset,
    );
  }

  protected stepInfo(): EnvInfo {
    return {
      x_position: this.qpos[0]!,
      z_distance_from_origin: this.qpos[1]! - this.initQpos[1]!,
      x_velocity: this.xVelocity,
      reward_forward: this.rewardForward,
      reward_ctrl: this.rewardCtrl,
      reward_survive: this.rewardSurvive,
    };
  }

  protected resetInfo(): EnvInfo {
    this.views();
    return { x_position: this.qpos[0]!, z_distance_from_origin: this.qpos[1]! - this.initQpos[1]! };
  }
}

/** qpos (without qpos[0] if excluded) then qvel clipped to ±10: Hopper's and Walker2d's layout. */
export function writeClippedPlanarObservation(
  qpos: Float64Array,
  qvel: Float64Array,
  excludeX: boolean,
  out: Float64Array,
  offset: number,
): void {
  let j = offset;
  for (let i = excludeX ? 1 : 0; i < qpos.length; i++) out[j++] = qpos[i]!;
  for (let i = 0; i < qvel.length; i++) {
    out[j++] = clip(qvel[i]!, -OBS_VELOCITY_CLIP, OBS_VELOCITY_CLIP);
  }
}
