// `o2o dataset rewrite`: a dataset as an env with options records it, written to a file the services (an
// `o2o run` spec with envOptions) and the in-process runs take as it is. From rows recorded on the env's
// defaults (lib/envs/derive-transitions.ts), or from D4RL's Ant rows, recorded on Gym's Ant-v2
// (lib/envs/ant-v2-rows.ts).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { describeColumns, type OfflineDataset } from '../../lib/data/dataset.ts';
import { type DatasetFormat, loadDataset, saveDataset } from '../../lib/data/load.ts';
import { ANT_V2_AS_ANT_V5_OPTIONS, antV2RowsAsAntV5 } from '../../lib/envs/ant-v2-rows.ts';
import { describeEnv, envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { checkEnvOptions, ENV_IDS, isEnvId } from '../../lib/envs/registry.ts';
import { datasetForEnvOptions } from '../../lib/experiment/dataset-source.ts';
import { addEnvOptionFlagIssue, type CommandSpec, envOptionsFlag, parseFlags, UsageError } from '../args.ts';

/** Envs rows may have been recorded on other than the target env's defaults. */
const RECORDED_ON = ['Ant-v2'] as const;

export const rewriteSpec = {
  flags: {
    env: { type: 'string' },
    'env-option': { type: 'string', multiple: true },
    'recorded-on': { type: 'string' },
    out: { type: 'string' },
    to: { type: 'string' },
    force: { type: 'boolean' },
  },
  schema: z
    .object({
      env: z.string().refine(isEnvId, `expected one of ${ENV_IDS.join(', ')}`),
      'env-option': envOptionsFlag.default({}),
      'recorded-on': z.enum(RECORDED_ON).optional(),
      out: z.string({ error: 'required: where to write the rewritten dataset' }).min(1),
      to: z.enum(['minari', 'd4rl']).optional(),
      force: z.boolean().default(false),
      _: z.array(z.string()).length(1, 'expected exactly one FILE (a Minari directory or a D4RL .hdf5 file)'),
    })
    .superRefine((f, ctx) => {
      const env = f.env;
      if (isEnvId(env)) addEnvOptionFlagIssue(ctx, () => checkEnvOptions(env, f['env-option']));
    }),
  help: [
    'usage: o2o dataset rewrite FILE --env ID --env-option K=V [--env-option K=V ...] --out PATH',
    '                           [--recorded-on Ant-v2] [--to minari|d4rl] [--force]',
    '',
    'Writes the dataset as the env with those options records it, and records the options in its',
    'metadata, so that a run on that env (o2o run with envOptions, o2o train --env-option) takes it as it is.',
    'Only what can be derived exactly from the rows is done (Ant-v5: includeCfrcExtInObservation=false,',
    'contactCostWeight); anything else is refused, naming the option.',
    '  --env ID              the env the rows are for, e.g. Ant-v5',
    '  --env-option K=V      an option of it (repeatable), as lib/envs names them',
    "  --recorded-on Ant-v2  the rows are D4RL's Ant rows (Gym's Ant-v2, 111 values): they become Ant-v5",
    '                        without contact forces and contact cost (the options default to that), the',
    "                        paper's Ant; without this flag the rows must be recorded on --env's defaults",
    '  --out PATH            a .hdf5 file (D4RL) or a <root>/<namespace>/<env>/<name>-v<N> directory (Minari)',
    '  --to FORMAT           override the format --out implies',
    '  --force               overwrite an existing --out',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

type RewriteFlags = z.output<typeof rewriteSpec.schema>;

/** D4RL's Ant rows (recorded on Ant-v2) as no-contact Ant-v5 records them. */
async function fromAntV2(file: string, flags: RewriteFlags): Promise<OfflineDataset> {
  const options =
    Object.keys(flags['env-option']).length > 0 ? flags['env-option'] : ANT_V2_AS_ANT_V5_OPTIONS;
  if (flags.env !== 'Ant-v5' || envOptionsJson(options) !== envOptionsJson(ANT_V2_AS_ANT_V5_OPTIONS))
    throw new UsageError(
      `--recorded-on Ant-v2: the rows become ${describeEnv('Ant-v5', ANT_V2_AS_ANT_V5_OPTIONS)}, ` +
        `not ${describeEnv(flags.env, options)}`,
    );
  // Without an env id: the file's 111 values are no width of Ant-v5's.
  const { dataset } = await loadDataset(file);
  if (dataset.actDim !== 8)
    throw new Error(`${file}: actions have ${dataset.actDim} values; Ant-v2's have 8`);
  const rewritten = { ...dataset, ...antV2RowsAsAntV5(dataset, file) };
  return {
    ...rewritten,
    metadata: describeColumns(rewritten, {
      ...dataset.metadata,
      envId: 'Ant-v5',
      envOptions: { ...options },
    }),
  };
}

export async function runRewrite(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, rewriteSpec);
  if (flags === 'help') {
    console.log(rewriteSpec.help);
    return 0;
  }
  const file = flags._[0]!;
  if (existsSync(flags.out) && !flags.force)
    throw new UsageError(`${flags.out} already exists (pass --force to overwrite)`);
  let dataset: OfflineDataset;
  if (flags['recorded-on'] === 'Ant-v2') dataset = await fromAntV2(file, flags);
  else {
    if (Object.keys(flags['env-option']).length === 0)
      throw new UsageError(
        '--env-option: give the options to rewrite the rows for (without, nothing changes)',
      );
    const { dataset: loaded } = await loadDataset(file, { envId: flags.env });
    dataset = datasetForEnvOptions(loaded, flags.env, flags['env-option'], file);
  }
  const to: DatasetFormat = flags.to ?? (/\.(hdf5|h5)$/i.test(flags.out) ? 'd4rl' : 'minari');
  const written = await saveDataset(dataset, to, flags.out);
  const m = dataset.metadata;
  console.log(
    `wrote ${written} (${to}): ${m.transitions} transitions in ${m.episodes} episodes of ` +
      `${describeEnv(m.envId ?? flags.env, m.envOptions)} (${m.obsDim} observation values), checksum ${m.checksum}`,
  );
  return 0;
}
