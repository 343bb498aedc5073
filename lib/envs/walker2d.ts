// Walker2d-v5 (Gymnasium): reward = healthy_reward·healthy + w_fwd·dx/dt − w_ctrl·‖a‖²; healthy while
// the torso's z = qpos[1] and angle = qpos[2] lie strictly inside their ranges (v5 pays the healthy
// reward only when healthy); velocities in the observation are clipped to ±10.
import { z } from 'zod';
import { writeClippedPlanarObservation } from './hopper.ts';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, parseOptions, range, weight } from './options.ts';
import type { EnvInfo } from './types.ts';

export const walker2dOptionsSchema = z.strictObject({
  ...commonOptions(4),
  forwardRewardWeight: weight(1),
  ctrlCostWeight: weight(1e-3),
  healthyReward: weight(1),
  terminateWhenUnhealthy: z.boolean().default(true),
  healthyZRange: range([0.8, 2]),
  healthyAngleRange: range([-1, 1]),
  resetNoiseScale: nonNegative(5e-3),
  excludeCurrentPositionsFromObservation: z.boolean().default(true),
});

export type Walker2dOptions = z.input<typeof walker2dOptionsSchema>;

export class Walker2dEnv extends MujocoEnv {
  readonly options: z.output<typeof walker2dOptionsSchema>;
  private xBefore = 0;
  private xVelocity = 0;
  private rewardForward = 0;
  private rewardCtrl = 0;
  private rewardSurvive = 0;

  constructor(options?: Walker2dOptions, modelXml?: string) {
    const o = parseOptions(walker2dOptionsSchema, options, 'Walker2d-v5');
    super({
      id: 'Walker2d-v5',
      asset: 'walker2d',
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'uniform',
      observationSize: (m) => m.nq + m.nv - (o.excludeCurrentPositionsFromObservation ? 1 : 0),
    });
    this.options = o;
  }

  /** Gymnasium's is_healthy: min < z < max and min < angle < max (no finiteness check in v5's code). */
  isHealthy(): boolean {
    this.views();
    const z = this.qpos[1]!;
    const angle = this.qpos[2]!;
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
