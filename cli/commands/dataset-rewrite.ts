// `o2o dataset rewrite`: a dataset as an env (with options) records it, written to a file the services (an
// `o2o run` spec with envOptions) and the in-process runs take as it is. From rows recorded on the env's
// defaults (lib/envs/derive-transitions.ts), or from D4RL's rows, recorded on Gym's v2 envs
// (lib/envs/gym-v2-rows.ts).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { describeColumns, type OfflineDataset } from '../../lib/data/dataset.ts';
import { envDims } from '../../lib/data/env-dims.ts';
import { type DatasetFormat, loadDataset, saveDataset } from '../../lib/data/load.ts';
import { describeEnv, sameEnvOptions } from '../../lib/envs/env-options-text.ts';
import { GYM_V2_IDS, gymV2RowsAsV5, gymV2Target } from '../../lib/envs/gym-v2-rows.ts';
import { checkEnvOptions, ENV_IDS, isEnvId } from '../../lib/envs/registry.ts';
import { datasetForEnvOptions } from '../../lib/experiment/dataset-source.ts';
import { addEnvOptionFlagIssue, type CommandSpec, envOptionsFlag, parseFlags, UsageError } from '../args.ts';

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
      'recorded-on': z
        .string()
        .refine((id) => GYM_V2_IDS.includes(id), `expected one of ${GYM_V2_IDS.join(', ')}`)
        .optional(),
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
    '       o2o dataset rewrite FILE --env ID --recorded-on ID-v2 --out PATH',
    '                           [--to minari|d4rl] [--force]',
    '',
    'Writes the dataset as the env with those options records it, and records the options in its',
    'metadata, so that a run on that env (o2o run with envOptions, o2o train --env-option) takes it as it is.',
    'Only what can be derived exactly from the rows is done (Ant-v5: includeCfrcExtInObservation=false,',
    'contactCostWeight); anything else is refused, naming the option.',
    '  --env ID              the env the rows are for, e.g. Ant-v5',
    '  --env-option K=V      an option of it (repeatable), as lib/envs names them',
    "  --recorded-on ID-v2   the rows are D4RL's (Gym's v2 envs: Hopper-v2, Walker2d-v2, HalfCheetah-v2,",
    "                        Ant-v2): they become the v5 env's; Ant-v2's 111-value rows become Ant-v5 without",
    "                        contact forces and contact cost (the paper's Ant; the options default to that).",
    "                        Without this flag the rows must be recorded on --env's defaults.",
    '                        What is rewritten and what cannot be: lib/envs/gym-v2-rows.ts',
    '  --out PATH            a .hdf5 file (D4RL) or a <root>/<namespace>/<env>/<name>-v<N> directory (Minari)',
    '  --to FORMAT           override the format --out implies',
    '  --force               overwrite an existing --out',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

type RewriteFlags = z.output<typeof rewriteSpec.schema>;

/** D4RL's rows, recorded on Gym's `v2Id`, as its v5 counterpart records them. */
async function fromGymV2(file: string, v2Id: string, flags: RewriteFlags): Promise<OfflineDataset> {
  const target = gymV2Target(v2Id);
  const given = Object.keys(flags['env-option']).length > 0 ? flags['env-option'] : undefined;
  const options = given ?? target.options;
  if (flags.env !== target.env || !sameEnvOptions(options, target.options))
    throw new UsageError(
      `--recorded-on ${v2Id}: the rows become ${describeEnv(target.env, target.options)}, ` +
        `not ${describeEnv(flags.env, options)}`,
    );
  // Without an env id: a v2 file's widths need not be any v5 env's (Ant-v2 has 111 values).
  const { dataset } = await loadDataset(file);
  const actDim = envDims(target.env)!.actDim;
  if (dataset.actDim !== actDim)
    throw new Error(`${file}: actions have ${dataset.actDim} values; ${v2Id}'s have ${actDim}`);
  const rewritten = { ...dataset, ...gymV2RowsAsV5(v2Id, dataset, file) };
  // Same provenance; the env (and options) are the v5 ones, counts, returns and checksum the new rows'.
  const { envOptions: _recordedOn, ...provenance } = dataset.metadata;
  return {
    ...rewritten,
    metadata: describeColumns(rewritten, {
      ...provenance,
      envId: target.env,
      ...(options === undefined ? {} : { envOptions: { ...options } }),
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
  if (flags['recorded-on'] !== undefined) dataset = await fromGymV2(file, flags['recorded-on'], flags);
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
