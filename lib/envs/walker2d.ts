// Walker2d-v5 (Gymnasium): the planar-walker reward and observation (see planar-walker.ts); healthy
// while 0.8 < z = qpos[1] < 2 and |angle = qpos[2]| < 1 (v5's code has no finiteness check here).
import { z } from 'zod';
import { parseOptions } from './options.ts';
import { PlanarWalkerEnv, planarWalkerOptions } from './planar-walker.ts';

export const walker2dOptionsSchema = z.strictObject(planarWalkerOptions([0.8, 2], [-1, 1]));

export type Walker2dOptions = z.input<typeof walker2dOptionsSchema>;

export class Walker2dEnv extends PlanarWalkerEnv {
  readonly options: z.output<typeof walker2dOptionsSchema>;

  constructor(options?: Walker2dOptions, modelXml?: string) {
    const o = parseOptions(walker2dOptionsSchema, options, 'Walker2d-v5');
    super('Walker2d-v5', 'walker2d', o, modelXml);
    this.options = o;
  }

  isHealthy(): boolean {
    return this.torsoWithinRanges();
  }
}
