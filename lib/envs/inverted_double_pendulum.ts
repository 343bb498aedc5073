// InvertedDoublePendulum-v5 (Gymnasium): with (x, _, y) the position of the pole tip (site 0),
// reward = healthy_reward·alive − (0.01·x² + (y − 2)²) − (1e-3·ω1² + 5e-3·ω2²), terminating when
// y <= 1; the observation is cart x, sin and cos of the two hinge angles, qvel clipped to ±10, and the
// cart's constraint force clipped to ±10 (9 values).
import { z } from 'zod';
import { clip } from './clip.ts';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, parseOptions, weight } from './options.ts';
import type { EnvInfo } from './types.ts';

export const invertedDoublePendulumOptionsSchema = z.strictObject({
  ...commonOptions(5),
  healthyReward: weight(10),
  resetNoiseScale: nonNegative(0.1),
});

export type InvertedDoublePendulumOptions = z.input<typeof invertedDoublePendulumOptionsSchema>;

/** Gymnasium clips qvel and the constraint force in the observation to ±10. */
const OBS_CLIP = 10;

export class InvertedDoublePendulumEnv extends MujocoEnv {
  readonly options: z.output<typeof invertedDoublePendulumOptionsSchema>;
  private rewardSurvive = 0;
  private distancePenalty = 0;
  private velocityPenalty = 0;

  constructor(options?: InvertedDoublePendulumOptions, modelXml?: string) {
    const o = parseOptions(invertedDoublePendulumOptionsSchema, options, 'InvertedDoublePendulum-v5');
    super({
      id: 'InvertedDoublePendulum-v5',
      asset: 'inverted_double_pendulum',
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'normal',
      observationSize: (m) => 1 + 2 * (m.nq - 1) + m.nv + 1,
    });
    this.options = o;
  }

  protected beforePhysics(): void {}

  protected afterPhysics(): number {
    const x = this.siteXpos[0]!;
    const y = this.siteXpos[2]!;
    const v1 = this.qvel[1]!;
    const v2 = this.qvel[2]!;
    this.terminatedNow = y <= 1;
    // Grouped as Python evaluates 0.01 * x**2 + (y - 2)**2, so the rounding matches.
    this.distancePenalty = 0.01 * (x * x) + (y - 2) * (y - 2);
    this.velocityPenalty = 1e-3 * (v1 * v1) + 5e-3 * (v2 * v2);
    this.rewardSurvive = this.terminatedNow ? 0 : this.options.healthyReward;
    return this.rewardSurvive - this.distancePenalty - this.velocityPenalty;
  }

  protected writeObservation(out: Float64Array, offset: number): void {
    const qpos = this.qpos;
    const qvel = this.qvel;
    let j = offset;
    out[j++] = qpos[0]!;
    for (let i = 1; i < qpos.length; i++) out[j++] = Math.sin(qpos[i]!);
    for (let i = 1; i < qpos.length; i++) out[j++] = Math.cos(qpos[i]!);
    for (let i = 0; i < qvel.length; i++) out[j++] = clip(qvel[i]!, -OBS_CLIP, OBS_CLIP);
    out[j] = clip(this.qfrcConstraint[0]!, -OBS_CLIP, OBS_CLIP);
  }

  protected stepInfo(): EnvInfo {
    return {
      reward_survive: this.rewardSurvive,
      distance_penalty: -this.distancePenalty,
      velocity_penalty: -this.velocityPenalty,
    };
  }

  protected resetInfo(): EnvInfo {
    return {};
  }
}
