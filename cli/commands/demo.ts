// `o2o demo`: a uniformly random policy on one environment, printing each episode's return and length
// and the overall env steps per second. Seeded: the env's first reset gets --seed, the policy draws from
// a stream derived from it, so the same flags print the same returns.
import { z } from 'zod';
import { ENV_IDS, makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed, Rng } from '../../lib/envs/rng.ts';
import { type CommandSpec, integerFlag, parseFlags } from '../args.ts';
import type { Command } from '../commands.ts';

const spec = {
  flags: {
    env: { type: 'string' },
    episodes: { type: 'string' },
    seed: { type: 'string' },
  },
  schema: z.object({
    env: z
      .string()
      .default('Hopper-v5')
      .refine((id) => (ENV_IDS as string[]).includes(id), {
        message: `expected one of ${ENV_IDS.join(', ')}`,
      }),
    episodes: integerFlag('episodes', 1).default(5),
    seed: integerFlag('seed', 0).default(0),
    _: z.array(z.string()).max(0, 'demo takes no positional arguments'),
  }),
  help: [
    'usage: o2o demo [--env ID] [--episodes N] [--seed S]',
    '',
    'Runs a uniformly random policy and prints per-episode return and length, then env steps/s.',
    `  --env ID        environment (default Hopper-v5; one of ${ENV_IDS.join(', ')})`,
    '  --episodes N    number of episodes (default 5)',
    '  --seed S        seed of the first reset and of the policy (default 0)',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

export const demoCommand: Command = {
  summary: 'random-policy rollouts on a MuJoCo environment (returns, lengths, steps/s)',
  async run(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, spec);
    if (flags === 'help') {
      console.log(spec.help);
      return 0;
    }
    const env = makeEnv(flags.env);
    try {
      const policy = new Rng(deriveSeed(flags.seed, 0));
      const { low, high } = env.actionSpace;
      const action = new Float64Array(env.actDim);
      console.log(`${env.id}: obs dim ${env.obsDim}, action dim ${env.actDim}, seed ${flags.seed}`);
      let totalSteps = 0;
      const started = process.hrtime.bigint();
      for (let episode = 0; episode < flags.episodes; episode++) {
        env.reset(episode === 0 ? { seed: flags.seed } : undefined);
        let episodeReturn = 0;
        let length = 0;
        for (;;) {
          for (let i = 0; i < action.length; i++) action[i] = policy.uniform(low[i]!, high[i]!);
          const step = env.step(action);
          episodeReturn += step.reward;
          length++;
          if (step.terminated || step.truncated) {
            const end = step.terminated ? 'terminated' : 'truncated';
            console.log(
              `episode ${episode + 1}: return ${episodeReturn.toFixed(3)}, length ${length} (${end})`,
            );
            break;
          }
        }
        totalSteps += length;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(
        `${totalSteps} env steps in ${seconds.toFixed(2)} s: ${(totalSteps / seconds).toFixed(0)} steps/s`,
      );
      return 0;
    } finally {
      env.close();
    }
  },
};
