// Ant-v5 (Gymnasium): reward = healthy_reward·healthy + w_fwd·vx − w_ctrl·‖a‖² − w_contact·‖clip(cfrc_ext)‖²,
// where vx is the main body's xpos x-velocity over dt; healthy while the state is finite and
// min_z <= qpos[2] <= max_z (closed interval, unlike Hopper/Walker2d); qvel reset noise is scale·N(0, 1);
// the observation is qpos[2:], qvel, then the clipped cfrc_ext of every body but the world (13·6 = 78).
import { z } from 'zod';
import { clip } from './clip.ts';
import { mujoco } from './mujoco.ts';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, parseOptions, range, weight } from './options.ts';
import type { EnvInfo } from './types.ts';

export const antOptionsSchema = z.strictObject({
  ...commonOptions(5),
  forwardRewardWeight: weight(1),
  ctrlCostWeight: weight(0.5),
  contactCostWeight: weight(5e-4),
  healthyReward: weight(1),
  /** The body whose xpos gives the forward velocity: an index or a body name. */
  mainBody: z.union([z.number().int().nonnegative(), z.string().min(1)]).default(1),
  terminateWhenUnhealthy: z.boolean().default(true),
  healthyZRange: range([0.2, 1]),
  contactForceRange: range([-1, 1]),
  resetNoiseScale: nonNegative(0.1),
  excludeCurrentPositionsFromObservation: z.boolean().default(true),
  includeCfrcExtInObservation: z.boolean().default(true),
});

export type AntOptions = z.input<typeof antOptionsSchema>;

export class AntEnv extends MujocoEnv {
  readonly options: z.output<typeof antOptionsSchema>;
  /** Index of the main body (resolved from a name if one was given). */
  readonly mainBodyId: number;
  private xBefore = 0;
  private yBefore = 0;
  private xVelocity = 0;
  private yVelocity = 0;
  private rewardForward = 0;
  private rewardCtrl = 0;
  private rewardContact = 0;
  private rewardSurvive = 0;

  constructor(options?: AntOptions, modelXml?: string) {
    const o = parseOptions(antOptionsSchema, options, 'Ant-v5');
    super({
      id: 'Ant-v5',
      asset: 'ant',
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'normal',
      observationSize: (m) =>
        m.nq +
        m.nv -
        (o.excludeCurrentPositionsFromObservation ? 2 : 0) +
        (o.includeCfrcExtInObservation ? 6 * (m.nbody - 1) : 0),
    });
    this.options = o;
    this.mainBodyId = this.resolveBody(o.mainBody);
  }

  /** Gymnasium's is_healthy: every qpos/qvel finite and min_z <= z <= max_z. */
  isHealthy(): boolean {
    this.views();
    const qpos = this.qpos;
    const qvel = this.qvel;
    for (let i = 0; i < qpos.length; i++) if (!Number.isFinite(qpos[i]!)) return false;
    for (let i = 0; i < qvel.length; i++) if (!Number.isFinite(qvel[i]!)) return false;
    const z = qpos[2]!;
    const [minZ, maxZ] = this.options.healthyZRange;
    return minZ <= z && z <= maxZ;
  }

  /** w_contact · Σ clip(cfrc_ext, range)² over all bodies (the world body included, as Gymnasium). */
  contactCost(): number {
    this.views();
    const f = this.cfrcExt;
    const [lo, hi] = this.options.contactForceRange;
    let sum = 0;
    for (let i = 0; i < f.length; i++) {
      const raw = f[i]!;
      const c = clip(raw, lo, hi);
      sum += c * c;
    }
    return this.options.contactCostWeight * sum;
  }

  protected beforePhysics(): void {
    this.xBefore = this.xpos[3 * this.mainBodyId]!;
    this.yBefore = this.xpos[3 * this.mainBodyId + 1]!;
  }

  protected afterPhysics(action: ArrayLike<number>, offset: number): number {
    const o = this.options;
    this.xVelocity = (this.xpos[3 * this.mainBodyId]! - this.xBefore) / this.dt;
    this.yVelocity = (this.xpos[3 * this.mainBodyId + 1]! - this.yBefore) / this.dt;
    const healthy = this.isHealthy();
    this.rewardForward = this.xVelocity * o.forwardRewardWeight;
    this.rewardSurvive = healthy ? o.healthyReward : 0;
    const ctrlCost = this.controlCost(o.ctrlCostWeight, action, offset);
    const contactCost = this.contactCost();
    this.rewardCtrl = -ctrlCost;
    this.rewardContact = -contactCost;
    this.terminatedNow = !healthy && o.terminateWhenUnhealthy;
    return this.rewardForward + this.rewardSurvive - (ctrlCost + contactCost);
  }

  protected writeObservation(out: Float64Array, offset: number): void {
    const qpos = this.qpos;
    const qvel = this.qvel;
    let j = offset;
    for (let i = this.options.excludeCurrentPositionsFromObservation ? 2 : 0; i < qpos.length; i++)
      out[j++] = qpos[i]!;
    for (let i = 0; i < qvel.length; i++) out[j++] = qvel[i]!;
    if (!this.options.includeCfrcExtInObservation) return;
    const f = this.cfrcExt;
    const [lo, hi] = this.options.contactForceRange;
    for (let i = 6; i < f.length; i++) {
      const raw = f[i]!;
      out[j++] = clip(raw, lo, hi);
    }
  }

  protected stepInfo(): EnvInfo {
    return {
      ...this.positionInfo(),
      x_velocity: this.xVelocity,
      y_velocity: this.yVelocity,
      reward_forward: this.rewardForward,
      reward_ctrl: this.rewardCtrl,
      reward_contact: this.rewardContact,
      reward_survive: this.rewardSurvive,
    };
  }

  protected resetInfo(): EnvInfo {
    this.views();
    return this.positionInfo();
  }

  private positionInfo(): EnvInfo {
    const x = this.qpos[0]!;
    const y = this.qpos[1]!;
    return { x_position: x, y_position: y, distance_from_origin: Math.sqrt(x * x + y * y) };
  }

  private resolveBody(body: number | string): number {
    const nbody = this.model.nbody;
    if (typeof body === 'number') {
      if (body >= nbody)
        throw new Error(`Ant-v5: mainBody ${body} is out of range (the model has ${nbody} bodies)`);
      return body;
    }
    const id = mujoco.mj_name2id(this.model, mujoco.mjtObj.mjOBJ_BODY.value, body);
    if (id < 0) throw new Error(`Ant-v5: mainBody '${body}' is not a body of the model`);
    return id;
  }
}
