// `o2o dataset info|subset|convert`: inspect an offline dataset, cut a seeded subset of it, or move it
// between the Minari layout (a dataset directory) and the D4RL layout (one .hdf5 file). Every read is
// validated; a damaged file ends with one line naming the file, the field and the index (exit 1).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { DatasetError } from '../../lib/data/errors.ts';
import { type DatasetInfo, datasetInfo } from '../../lib/data/info.ts';
import { type DatasetFormat, loadDataset, saveDataset } from '../../lib/data/load.ts';
import { DEFAULT_SUBSET_TRANSITIONS, subsetDataset } from '../../lib/data/subset.ts';
import { ENV_IDS, makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { type CommandSpec, integerFlag, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';

const oneFile = z
  .array(z.string())
  .length(1, 'expected exactly one FILE (a Minari dataset directory or a D4RL .hdf5 file)');

const envFlag = z.string().min(1).optional();

/** `.hdf5`/`.h5` outputs are D4RL files, anything else a Minari dataset directory. */
function formatOfOutput(path: string): DatasetFormat {
  return /\.(hdf5|h5)$/i.test(path) ? 'd4rl' : 'minari';
}

const infoSpec = {
  flags: { json: { type: 'boolean' }, env: { type: 'string' } },
  schema: z.object({ json: z.boolean().default(false), env: envFlag, _: oneFile }),
  help: [
    'usage: o2o dataset info FILE [--env ID] [--json]',
    '',
    'Validates a dataset and prints its counts, episode return statistics, D4RL-normalised scores',
    '(hopper, halfcheetah, walker2d, ant) and per-column value ranges.',
    '  --env ID   env id to check widths against when the file does not declare one (e.g. Hopper-v5)',
    '  --json     print one JSON object instead of the table',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

const subsetSpec = {
  flags: {
    transitions: { type: 'string' },
    by: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    to: { type: 'string' },
    'last-episode': { type: 'string' },
    env: { type: 'string' },
    force: { type: 'boolean' },
  },
  schema: z.object({
    transitions: integerFlag('transitions', 1).default(DEFAULT_SUBSET_TRANSITIONS),
    by: z.enum(['episode', 'transition']).default('episode'),
    seed: integerFlag('seed', 0).default(0),
    out: z.string({ error: 'required: where to write the subset' }).min(1),
    to: z.enum(['minari', 'd4rl']).optional(),
    'last-episode': z.enum(['cut', 'whole']).default('cut'),
    env: envFlag,
    force: z.boolean().default(false),
    _: oneFile,
  }),
  help: [
    'usage: o2o dataset subset FILE --out PATH [--transitions N] [--by episode|transition] [--seed S]',
    '                          [--to minari|d4rl] [--last-episode cut|whole] [--env ID] [--force]',
    '',
    'Writes a seeded subset; its metadata records the source checksum, seed, mode and count.',
    `  --transitions N         subset size in transitions (default ${DEFAULT_SUBSET_TRANSITIONS})`,
    '  --by episode            whole episodes in seeded random order until N is reached (default)',
    '  --by transition         N transitions uniformly without replacement',
    '  --last-episode cut      cut the last episode so the subset holds exactly N (default)',
    '  --last-episode whole    keep the last episode whole (the subset may exceed N)',
    '  --seed S                selection seed (default 0)',
    '  --out PATH              a .hdf5 file (D4RL) or a <root>/<namespace>/<env>/<name>-v<N> directory (Minari)',
    '  --to FORMAT             override the format --out implies',
    '  --force                 overwrite an existing --out',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

const convertSpec = {
  flags: {
    to: { type: 'string' },
    out: { type: 'string' },
    env: { type: 'string' },
    force: { type: 'boolean' },
  },
  schema: z.object({
    to: z.enum(['minari', 'd4rl']),
    out: z.string({ error: 'required: where to write the converted dataset' }).min(1),
    env: envFlag,
    force: z.boolean().default(false),
    _: oneFile,
  }),
  help: [
    'usage: o2o dataset convert FILE --to minari|d4rl --out PATH [--env ID] [--force]',
    '',
    'Converts between the Minari layout and the D4RL layout without changing any value.',
    '  --to minari   --out is a <root>/<namespace>/<env>/<name>-v<N> directory',
    '  --to d4rl     --out is a .hdf5 file',
    '  --force       overwrite an existing --out',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

const generateSpec = {
  flags: {
    env: { type: 'string' },
    kind: { type: 'string' },
    transitions: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  },
  schema: z.object({
    env: z
      .string()
      .refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
    kind: z.enum(['random'], {
      error: 'only random for now (medium, expert and replay kinds need trained policies)',
    }),
    transitions: integerFlag('transitions', 1).default(1_000_000),
    seed: integerFlag('seed', 0).default(0),
    out: z.string({ error: 'required: where to write the dataset' }).min(1),
    force: z.boolean().default(false),
    _: z.array(z.string()).max(0, 'generate takes no FILE'),
  }),
  help: [
    'usage: o2o dataset generate --env ID --kind random --out PATH [--transitions N] [--seed S] [--force]',
    '',
    "Rolls a behaviour policy out in the environment and writes a D4RL-style dataset (D4RL's random",
    'datasets: 1M transitions of a uniformly random policy). Episodes end at termination or the 1000-step',
    'limit; the last one is cut at --transitions. Episode i is reset with a seed derived from --seed.',
    '  --out PATH.hdf5   a D4RL file; any other PATH is a Minari dataset directory',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

const SUBCOMMAND_HELP = [
  'usage: o2o dataset <info|subset|convert|generate> [FILE] [flags]',
  '',
  '  info      validate a dataset and print counts, returns, normalised scores and column ranges',
  '  subset    write a seeded subset (by episode or by transition)',
  '  convert   convert between Minari (directory) and D4RL (.hdf5)',
  '  generate  roll a behaviour policy out in an environment and write the dataset',
  '',
  'o2o dataset <subcommand> --help for its flags',
].join('\n');

function formatNumber(v: number | null, digits = 3): string {
  return v === null ? '-' : v.toFixed(digits);
}

function printInfo(file: string, format: DatasetFormat, info: DatasetInfo, notes: string[]): void {
  const lines = [
    `${file} (${format})`,
    `  env                ${info.envId ?? '(not declared)'}`,
    `  transitions        ${info.transitions}`,
    `  episodes           ${info.episodes} (${info.completeEpisodes} complete, ${info.fragments} fragments)`,
    `  terminals/timeouts ${info.terminals} / ${info.timeouts}`,
    `  episode length     min ${info.episodeLength.min}, mean ${formatNumber(info.episodeLength.mean, 1)}, max ${info.episodeLength.max}`,
    `  return             mean ${formatNumber(info.returns.mean)}, std ${formatNumber(info.returns.std)}, ` +
      `min ${formatNumber(info.returns.min)}, max ${formatNumber(info.returns.max)}`,
    info.normalizedScore
      ? `  normalised score   mean ${formatNumber(info.normalizedScore.mean, 2)}, std ${formatNumber(info.normalizedScore.std, 2)}, ` +
        `min ${formatNumber(info.normalizedScore.min, 2)}, max ${formatNumber(info.normalizedScore.max, 2)} (D4RL ${info.normalizedScore.family})`
      : '  normalised score   - (no D4RL reference returns for this env, or no complete episode)',
    `  checksum           ${info.checksum}`,
  ];
  if (info.subset) {
    const s = info.subset;
    lines.push(
      `  subset of          ${s.sourceChecksum} (by ${s.mode}, seed ${s.seed}, ${s.count} of ${s.requested} asked)`,
    );
  }
  lines.push('', '  field              column        min           max          mean');
  for (const range of info.ranges) {
    range.min.forEach((lo, j) => {
      lines.push(
        `  ${range.field.padEnd(18)} ${String(j).padStart(6)} ${lo.toPrecision(6).padStart(13)} ${range.max[j]!.toPrecision(6).padStart(13)} ${range.mean[j]!.toPrecision(6).padStart(13)}`,
      );
    });
  }
  for (const warning of info.warnings) lines.push(`  warning: ${warning}`);
  for (const note of notes) lines.push(`  note: ${note}`);
  console.log(lines.join('\n'));
}

function refuseExisting(path: string, force: boolean): void {
  if (existsSync(path) && !force) throw new UsageError(`${path} already exists (pass --force to overwrite)`);
}

async function load(
  file: string,
  env: string | undefined,
): Promise<{ dataset: OfflineDataset; format: DatasetFormat; notes: string[] }> {
  return loadDataset(file, env === undefined ? {} : { envId: env });
}

async function runInfo(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, infoSpec);
  if (flags === 'help') {
    console.log(infoSpec.help);
    return 0;
  }
  const file = flags._[0]!;
  const { dataset, format, notes } = await load(file, flags.env);
  const info = datasetInfo(dataset);
  if (flags.json) console.log(JSON.stringify({ file, format, ...info, notes }));
  else printInfo(file, format, info, notes);
  return 0;
}

async function runSubset(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, subsetSpec);
  if (flags === 'help') {
    console.log(subsetSpec.help);
    return 0;
  }
  const file = flags._[0]!;
  refuseExisting(flags.out, flags.force);
  const { dataset } = await load(file, flags.env);
  const subset = subsetDataset(
    dataset,
    { count: flags.transitions, mode: flags.by, seed: flags.seed, lastEpisode: flags['last-episode'] },
    file,
  );
  const to = flags.to ?? formatOfOutput(flags.out);
  const written = await saveDataset(subset, to, flags.out);
  const m = subset.metadata;
  console.log(
    `wrote ${written} (${to}): ${m.transitions} transitions in ${m.episodes} episodes ` +
      `(${m.returns.completeEpisodes} complete), by ${flags.by}, seed ${flags.seed}, checksum ${m.checksum}`,
  );
  return 0;
}

async function runConvert(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, convertSpec);
  if (flags === 'help') {
    console.log(convertSpec.help);
    return 0;
  }
  const file = flags._[0]!;
  refuseExisting(flags.out, flags.force);
  const { dataset, format, notes } = await load(file, flags.env);
  const written = await saveDataset(dataset, flags.to, flags.out);
  for (const note of notes) console.log(`note: ${note}`);
  console.log(
    `wrote ${written} (${format} → ${flags.to}): ${dataset.metadata.transitions} transitions, ` +
      `${dataset.metadata.episodes} episodes, checksum ${dataset.metadata.checksum}`,
  );
  return 0;
}

async function runGenerate(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, generateSpec);
  if (flags === 'help') {
    console.log(generateSpec.help);
    return 0;
  }
  refuseExisting(flags.out, flags.force);
  const env = makeEnv(flags.env);
  try {
    const started = performance.now();
    const dataset = collectDataset(
      env,
      uniformRandomPolicy(env),
      flags.transitions,
      flags.seed,
      'uniform random',
    );
    const written = await saveDataset(dataset, formatOfOutput(flags.out), flags.out);
    const m = dataset.metadata;
    console.log(
      `wrote ${written}: ${m.transitions} transitions, ${m.episodes} episodes, return mean ` +
        `${formatNumber(m.returns.mean)}, checksum ${m.checksum} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  } finally {
    env.close();
  }
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  info: runInfo,
  subset: runSubset,
  convert: runConvert,
  generate: runGenerate,
};

export const datasetCommand: Command = {
  summary: 'offline datasets (Minari, D4RL): info, seeded subsets, conversion',
  async run(argv: string[]): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h') {
      console.log(SUBCOMMAND_HELP);
      return name === undefined ? 2 : 0;
    }
    const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (!sub) throw new UsageError(`unknown subcommand '${name}'\n\n${SUBCOMMAND_HELP}`);
    try {
      return await sub(rest);
    } catch (err) {
      if (err instanceof DatasetError) {
        console.error(`o2o dataset ${name}: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};
