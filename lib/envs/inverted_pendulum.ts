// InvertedPendulum-v5 (Gymnasium): reward 1 per step while the pole is up; terminates when the
// observation is not finite or |pole angle| = |qpos[1]| > 0.2 (the terminating step earns 0).
import { z } from 'zod';
import { MujocoEnv } from './mujoco-env.ts';
import { commonOptions, nonNegative, parseOptions } from './options.ts';
import type { EnvInfo } from './types.ts';

export const invertedPendulumOptionsSchema = z.strictObject({
  ...commonOptions(2),
  resetNoiseScale: nonNegative(0.01),
});

export type InvertedPendulumOptions = z.input<typeof invertedPendulumOptionsSchema>;

/** The pole angle beyond which the episode terminates (hard-coded in Gymnasium v5). */
export const POLE_ANGLE_LIMIT = 0.2;

export class InvertedPendulumEnv extends MujocoEnv {
  private rewardSurvive = 0;

  constructor(options?: InvertedPendulumOptions, modelXml?: string) {
    const o = parseOptions(invertedPendulumOptionsSchema, options, 'InvertedPendulum-v5');
    super({
      id: 'InvertedPendulum-v5',
      asset: 'inverted_pendulum',
      modelXml,
      frameSkip: o.frameSkip,
      maxEpisodeSteps: o.maxEpisodeSteps,
      resetNoiseScale: o.resetNoiseScale,
      qvelNoise: 'uniform',
      observationSize: (m) => m.nq + m.nv,
    });
  }

  protected beforePhysics(): void {}

  protected afterPhysics(): number {
    const qpos = this.qpos;
    const qvel = this.qvel;
    let finite = true;
    for (let i = 0; i < qpos.length; i++) finite &&= Number.isFinite(qpos[i]!);
    for (let i = 0; i < qvel.length; i++) finite &&= Number.isFinite(qvel[i]!);
    this.terminatedNow = !finite || Math.abs(qpos[1]!) > POLE_ANGLE_LIMIT;
    this.rewardSurvive = this.terminatedNow ? 0 : 1;
    return this.rewardSurvive;
  }

  protected writeObservation(out: Float64Array, offset: number): void {
    out.set(this.qpos, offset);
    out.set(this.qvel, offset + this.qpos.length);
  }

  protected stepInfo(): EnvInfo {
    return { reward_survive: this.rewardSurvive };
  }

  protected resetInfo(): EnvInfo {
    return {};
  }
}
