// `o2o dataset info|subset|convert`: inspect an offline dataset, cut a seeded subset of it, or move it
// between the Minari layout (a dataset directory) and the D4RL layout (one .hdf5 file). Every read is
// validated; a damaged file ends with one line naming the file, the field and the index (exit 1).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { BEHAVIOUR_KINDS, type BehaviourKind, BehaviourRunError } from '../../lib/data/behaviour-store.ts';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { DatasetError } from '../../lib/data/errors.ts';
import { type DatasetInfo, datasetInfo } from '../../lib/data/info.ts';
import { type DatasetFormat, loadDataset, saveDataset } from '../../lib/data/load.ts';
import { DEFAULT_SUBSET_TRANSITIONS, subsetDataset } from '../../lib/data/subset.ts';
import { describeEnv } from '../../lib/envs/env-options-text.ts';
import { ENV_IDS, makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { type CommandSpec, integerFlag, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { runRewrite } from './dataset-rewrite.ts';

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

const GENERATE_KINDS = ['random', ...BEHAVIOUR_KINDS] as const;

const generateSpec = {
  flags: {
    env: { type: 'string' },
    kind: { type: 'string' },
    transitions: { type: 'string' },
    seed: { type: 'string' },
    behaviour: { type: 'string' },
    noise: { type: 'string' },
    out: { type: 'string' },
    manifest: { type: 'string' },
    force: { type: 'boolean' },
  },
  schema: z
    .object({
      env: z
        .string()
        .refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
      kind: z.enum(GENERATE_KINDS),
      transitions: integerFlag('transitions', 1).default(1_000_000),
      seed: integerFlag('seed', 0).default(0),
      behaviour: z.string().min(1).optional(),
      noise: z
        .string()
        .regex(/^\d+(\.\d+)?$/, 'noise must be a non-negative decimal number')
        .transform(Number)
        .default(0.1),
      out: z.string({ error: 'required: where to write the dataset' }).min(1),
      manifest: z.string().min(1).optional(),
      force: z.boolean().default(false),
      _: z.array(z.string()).max(0, 'generate takes no FILE'),
    })
    .refine((f) => f.kind === 'random' || f.behaviour !== undefined, {
      path: ['behaviour'],
      message: 'required for every kind but random: the directory of `o2o dataset behaviour`',
    }),
  help: [
    'usage: o2o dataset generate --env ID --kind KIND --out PATH [--transitions N] [--seed S]',
    '                            [--behaviour DIR] [--noise F] [--manifest FILE.json] [--force]',
    '',
    'Rolls a behaviour policy out in the environment and writes a D4RL-style dataset. Episodes end at',
    'termination or the 1000-step limit; the last one is cut at --transitions.',
    '  --kind random          a uniformly random policy (D4RL: 1M transitions)',
    '  --kind expert          the --behaviour run snapshot with the best evaluation return',
    '  --kind medium          the snapshot whose evaluation return is closest to 1/3 of the expert one',
    '  --kind medium-replay   every transition the run recorded up to the medium snapshot (ignores',
    '                         --transitions and --seed: the run decides both)',
    '  --kind medium-expert   medium rollouts for the first half of --transitions, expert for the rest',
    '  --behaviour DIR        a run directory of `o2o dataset behaviour` (all kinds but random)',
    '  --noise F              rollout action noise N(0, F·maxAction) (default 0.1, TD3 exploration;',
    '                         0 = deterministic policy). D4RL sampled its stochastic SAC policy.',
    '  --manifest FILE.json   also write the metadata, the output sha256 and this command line',
    '  --out PATH.hdf5        a D4RL file; any other PATH is a Minari dataset directory',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

const behaviourSpec = {
  flags: {
    env: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'snapshot-every': { type: 'string' },
    'start-steps': { type: 'string' },
    'batch-size': { type: 'string' },
    'eval-episodes': { type: 'string' },
    'replay-capacity': { type: 'string' },
    hidden: { type: 'string' },
  },
  schema: z.object({
    env: z
      .string()
      .refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
    steps: integerFlag('steps', 1),
    seed: integerFlag('seed', 0).default(0),
    out: z.string({ error: 'required: the run directory (created, or resumed when it exists)' }).min(1),
    'snapshot-every': integerFlag('snapshot-every', 1).default(10_000),
    'start-steps': integerFlag('start-steps', 0).default(25_000),
    'batch-size': integerFlag('batch-size', 1).default(256),
    'eval-episodes': integerFlag('eval-episodes', 1).default(10),
    'replay-capacity': integerFlag('replay-capacity', 1).default(1_000_000),
    hidden: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'hidden must be comma-separated layer widths, e.g. 256,256')
      .transform((v) => v.split(',').map(Number))
      .default([256, 256]),
    _: z.array(z.string()).max(0, 'behaviour takes no FILE'),
  }),
  help: [
    'usage: o2o dataset behaviour --env ID --steps N --out DIR [--seed S] [--snapshot-every K]',
    '                             [--start-steps N] [--batch-size B] [--eval-episodes E] [--hidden 256,256]',
    '',
    "Trains a TD3 behaviour policy from scratch (Fujimoto et al.'s defaults: 25k random start steps, one",
    'update per step, batch 256, exploration noise 0.1) and keeps, in DIR, a snapshot and its',
    'deterministic evaluation return every K steps (snapshots/, training.jsonl) and every transition',
    '(transitions/). Every snapshot is also a checkpoint: rerunning the same command after a kill or',
    'session end resumes from the last one (the episode in progress then is marked cut); a larger',
    '--steps extends a finished run. Settings other than --steps must match the original run.',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

const SUBCOMMAND_HELP = [
  'usage: o2o dataset <info|subset|convert|rewrite|behaviour|generate> [FILE] [flags]',
  '',
  '  info      validate a dataset and print counts, returns, normalised scores and column ranges',
  '  subset    write a seeded subset (by episode or by transition)',
  '  convert   convert between Minari (directory) and D4RL (.hdf5)',
  "  rewrite   the rows as an env with options records them (e.g. the paper's Ant: D4RL's ant-*-v2)",
  '  behaviour train (or resume) a TD3 behaviour policy, keeping snapshots and every transition',
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
    `  env                ${info.envId === null ? '(not declared)' : describeEnv(info.envId, info.envOptions ?? undefined)}`,
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

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** A D4RL file, or the main_data.hdf5 of a Minari directory: the file whose bytes the manifest pins. */
function dataFileOf(written: string): string {
  return statSync(written).isDirectory() ? join(written, 'data', 'main_data.hdf5') : written;
}

/** Progress on stderr at most every 30 s (long generation runs go to logs). */
function throttledProgress(label: string): (done: number, total: number) => void {
  let last = performance.now();
  return (done, total) => {
    const now = performance.now();
    if (now - last < 30_000 && done < total) return;
    last = now;
    console.error(`[dataset] ${label}: ${done}/${total} (${((100 * done) / total).toFixed(1)}%)`);
  };
}

async function runGenerate(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, generateSpec);
  if (flags === 'help') {
    console.log(generateSpec.help);
    return 0;
  }
  refuseExisting(flags.out, flags.force);
  const started = performance.now();
  let dataset: OfflineDataset;
  if (flags.kind === 'random') {
    const env = makeEnv(flags.env);
    try {
      dataset = collectDataset(
        env,
        uniformRandomPolicy(env),
        flags.transitions,
        flags.seed,
        'uniform random',
      );
    } finally {
      env.close();
    }
  } else {
    const kind: BehaviourKind = flags.kind;
    // Loaded here: the policy code brings lib/nn, which info/subset/convert do not need.
    const { behaviourDataset, openRun } = await import('../../lib/data/behaviour-datasets.ts');
    const trained = openRun(flags.behaviour!).run.envId;
    if (trained !== flags.env) {
      throw new UsageError(`--behaviour ${flags.behaviour} trained ${trained}, not --env ${flags.env}`);
    }
    dataset = behaviourDataset(flags.behaviour!, {
      kind,
      transitions: flags.transitions,
      seed: flags.seed,
      noise: flags.noise,
      progress: throttledProgress(`${flags.env} ${kind}`),
    });
  }
  const written = await saveDataset(dataset, formatOfOutput(flags.out), flags.out);
  const m = dataset.metadata;
  if (flags.manifest !== undefined) {
    const manifest = {
      file: flags.out,
      sha256: await sha256OfFile(dataFileOf(written)),
      command: ['o2o', 'dataset', 'generate', ...argv].join(' '),
      metadata: m,
    };
    mkdirSync(dirname(flags.manifest), { recursive: true });
    writeFileSync(flags.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  const b = m.behaviour;
  const picked = b
    ? ` (expert step ${b.expert.step} return ${formatNumber(b.expert.evalReturn)}, medium step ` +
      `${b.medium.step} return ${formatNumber(b.medium.evalReturn)})`
    : '';
  console.log(
    `wrote ${written}: ${flags.kind}, ${m.transitions} transitions, ${m.episodes} episodes, return mean ` +
      `${formatNumber(m.returns.mean)}${picked}, checksum ${m.checksum} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  return 0;
}

async function runBehaviour(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, behaviourSpec);
  if (flags === 'help') {
    console.log(behaviourSpec.help);
    return 0;
  }
  const { trainBehaviour } = await import('../../lib/data/behaviour.ts');
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  let lastReport = started;
  let firstStep: number | undefined;
  try {
    const result = await trainBehaviour(flags.out, {
      envId: flags.env,
      seed: flags.seed,
      totalSteps: flags.steps,
      snapshotEvery: flags['snapshot-every'],
      startSteps: flags['start-steps'],
      batchSize: flags['batch-size'],
      evalEpisodes: flags['eval-episodes'],
      replayCapacity: flags['replay-capacity'],
      hidden: flags.hidden,
      shouldStop: () => stopRequested,
      onSnapshot: (line) =>
        console.log(
          `snapshot step ${line.step}: evaluation return ${formatNumber(line.evalReturn)} ± ` +
            `${formatNumber(line.evalStd)} (${line.episodes} episodes, ${line.updates} updates)`,
        ),
      onProgress: (p) => {
        firstStep ??= p.step - 1;
        const now = performance.now();
        if (now - lastReport < 30_000) return;
        lastReport = now;
        const rate = (p.step - firstStep) / ((now - started) / 1000);
        const eta = (p.totalSteps - p.step) / Math.max(rate, 1e-9);
        console.error(
          `[dataset] behaviour ${flags.env}: step ${p.step}/${p.totalSteps}, ${rate.toFixed(0)} steps/s, ` +
            `ETA ${(eta / 60).toFixed(1)} min, last episode return ${formatNumber(p.lastEpisodeReturn ?? null)}`,
        );
      },
    });
    if (result.stopped) {
      console.log(`stopped by a signal; rerun the same command to resume from step ${result.step}`);
      return 0;
    }
    const from = result.resumedFrom === undefined ? '' : ` (resumed from step ${result.resumedFrom})`;
    console.log(`behaviour run ${flags.out} at step ${result.step}${from}`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  info: runInfo,
  subset: runSubset,
  convert: runConvert,
  rewrite: runRewrite,
  behaviour: runBehaviour,
  generate: runGenerate,
};

export const datasetCommand: Command = {
  summary:
    'offline datasets (Minari, D4RL): info, seeded subsets, conversion, behaviour policies, generation',
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
      if (err instanceof DatasetError || err instanceof BehaviourRunError) {
        console.error(`o2o dataset ${name}: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};
