// What Hopper-v5 and Walker2d-v5 share (Gymnasium v5): reward = healthy_reward·healthy + w_fwd·dx/dt
// − w_ctrl·‖a‖², with the healthy reward paid only while healthy; termination when unhealthy (if
// enabled); observation = qpos (without x by default) then qvel clipped to ±10. Each env supplies its
// own health rule.
import { z } from 'zod';
import type { ModelAsset } from './assets.ts';
import { clip } from './clip.ts';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, range, weight } from './options.ts';
import type { EnvInfo } from './types.ts';

/** Gymnasium clips the velocity part of Hopper's and Walker2d's observations to this magnitude. */
export const OBS_VELOCITY_CLIP = 10;

/** The options both walkers take, with the given env's defaults for the health ranges. */
export function planarWalkerOptions(healthyZRange: [number, number], healthyAngleRange: [number, number]) {
  return {
    ...commonOptions(4),
    forwardRewardWeight: weight(1),
    ctrlCostWeight: weight(1e-3),
    healthyReward: weight(1),
    terminateWhenUnhealthy: z.boolean().default(true),
    healthyZRange: range(healthyZRange),
    healthyAngleRange: range(healthyAngleRange),
    resetNoiseScale: nonNegative(5e-3),
    excludeCurrentPositionsFromObservation: z.boolean().default(true),
  };
}

export interface PlanarWalkerSettings {
  frameSkip: number;
  maxEpisodeSteps: number;
  forwardRewardWeight: number;
  ctrlCostWeight: number;
  healthyReward: number;
  terminateWhenUnhealthy: boolean;
  healthyZRange: [number, number];
  healthyAngleRange: [number, number];
  resetNoiseScale: number;
  excludeCurrentPositionsFromObservation: boolean;
}

export abstract class PlanarWalkerEnv extends MujocoEnv {
  private readonly walker: PlanarWalkerSettings;
  private xBefore = 0;
  private xVelocity = 0;
  private rewardForward = 0;
  private rewardCtrl = 0;
  private rewardSurvive = 0;

  constructor(id: string, asset: ModelAsset, o: PlanarWalkerSettings, modelXml: string | undefined) {
    super({
      id,
      asset,
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'uniform',
      observationSize: (m) => m.nq + m.nv - (o.excludeCurrentPositionsFromObservation ? 1 : 0),
    });
    this.walker = o;
  }

  /** Gymnasium's is_healthy for this walker, on the current state. */
  abstract isHealthy(): boolean;

  /** min < z = qpos[1] < max and min < angle = qpos[2] < max: the rule both walkers start from. */
  protected torsoWithinRanges(): boolean {
    this.views();
    const z = this.qpos[1]!;
    const angle = this.qpos[2]!;
    const [minZ, maxZ] = this.walker.healthyZRange;
    const [minAngle, maxAngle] = this.walker.healthyAngleRange;
    return minZ < z && z < maxZ && minAngle < angle && angle < maxAngle;
  }

  protected beforePhysics(): void {
    this.xBefore = this.qpos[0]!;
  }

  protected afterPhysics(action: ArrayLike<number>, offset: number): number {
    const o = this.walker;
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
    const qpos = this.qpos;
    const qvel = this.qvel;
    let j = offset;
    for (let i = this.walker.excludeCurrentPositionsFromObservation ? 1 : 0; i < qpos.length; i++) {
      out[j++] = qpos[i]!;
    }
    for (let i = 0; i < qvel.length; i++) out[j++] = clip(qvel[i]!, -OBS_VELOCITY_CLIP, OBS_VELOCITY_CLIP);
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
