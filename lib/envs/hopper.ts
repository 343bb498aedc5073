// Hopper-v5 (Gymnasium): the planar-walker reward and observation (see planar-walker.ts); healthy while
// z = qpos[1] > 0.7, |angle = qpos[2]| < 0.2 and every entry of state_vector()[2:] lies strictly
// inside (-100, 100).
import { z } from 'zod';
import { parseOptions, range } from './options.ts';
import { PlanarWalkerEnv, planarWalkerOptions } from './planar-walker.ts';

export const hopperOptionsSchema = z.strictObject({
  ...planarWalkerOptions([0.7, Number.POSITIVE_INFINITY], [-0.2, 0.2]),
  healthyStateRange: range([-100, 100]),
});

export type HopperOptions = z.input<typeof hopperOptionsSchema>;

export class HopperEnv extends PlanarWalkerEnv {
  readonly options: z.output<typeof hopperOptionsSchema>;

  constructor(options?: HopperOptions, modelXml?: string) {
    const o = parseOptions(hopperOptionsSchema, options, 'Hopper-v5');
    super('Hopper-v5', 'hopper', o, modelXml);
    this.options = o;
  }

  /** Gymnasium's is_healthy: strict inequalities on z, angle and state_vector()[2:]. */
  isHealthy(): boolean {
    this.views();
    const [minState, maxState] = this.options.healthyStateRange;
    const inside = (v: number) => minState < v && v < maxState;
    for (let i = 2; i < this.qpos.length; i++) if (!inside(this.qpos[i]!)) return false;
    for (let i = 0; i < this.qvel.length; i++) if (!inside(this.qvel[i]!)) return false;
    return this.torsoWithinRanges();
  }
}
