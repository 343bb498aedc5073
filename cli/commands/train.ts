// `o2o train`: one variant of the paper end to end, in-process.
//   scratch     TD3 from scratch (uniformly random start steps, then one update per step)
//   td3bc       TD3+BC on the dataset, then TD3 fine-tuning from the pre-trained parts
//   td3bc-aug   the same, with the world model replacing a fraction of next states in every batch
// Writes config.json, metrics.jsonl and metrics.csv (one row per evaluation), critic.jsonl (Q against
// Monte-Carlo returns on the dataset and on the policy's own evaluation episodes), agent checkpoints (and
// the world model) into --out; prints a line per evaluation and a progress line with steps/s.
// The pipeline itself is lib/experiment's (shared with `o2o experiment`): Ctrl-C checkpoints, and the
// same command on the same --out resumes where it stopped (done.json marks a finished run).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DatasetError } from '../../lib/data/errors.ts';
import { checkEnvOptions, ENV_IDS, isEnvId } from '../../lib/envs/registry.ts';
import { manifestSha256 } from '../../lib/experiment/dataset-source.ts';
import { readJsonIfExists, writeJsonAtomic } from '../../lib/experiment/fs-atomic.ts';
import { trainPaths } from '../../lib/experiment/paths.ts';
import { runPipeline } from '../../lib/experiment/pipeline.ts';
import { parseRunConfig, type RunConfig } from '../../lib/experiment/run-config.ts';
import { startTelemetry } from '../../lib/telemetry/index.ts';
import {
  addEnvOptionFlagIssue,
  type CommandSpec,
  envOptionsFlag,
  integerFlag,
  parseFlags,
  UsageError,
} from '../args.ts';
import type { Command } from '../commands.ts';
import { ProgressLine } from '../progress.ts';

const fraction = z
  .string()
  .transform(Number)
  .refine((p) => p >= 0 && p <= 1, 'must be a number in [0, 1]');

const spec = {
  flags: {
    env: { type: 'string' },
    'env-option': { type: 'string', multiple: true },
    dataset: { type: 'string' },
    variant: { type: 'string' },
    pretrain: { type: 'string' },
    'offline-steps': { type: 'string' },
    'online-steps': { type: 'string' },
    'start-steps': { type: 'string' },
    'warmup-steps': { type: 'string' },
    'aug-fraction': { type: 'string' },
    'world-model': { type: 'string' },
    'wm-epochs': { type: 'string' },
    'critic-layer-norm': { type: 'boolean' },
    'eval-every': { type: 'string' },
    'eval-episodes': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
  schema: z
    .object({
      env: z
        .string()
        .refine((id) => (ENV_IDS as string[]).includes(id), `expected one of ${ENV_IDS.join(', ')}`),
      'env-option': envOptionsFlag.default({}),
      dataset: z.string().min(1).optional(),
      variant: z.enum(['scratch', 'td3bc', 'td3bc-aug']).default('td3bc-aug'),
      pretrain: z.enum(['actor', 'critic', 'both']).default('both'),
      'offline-steps': integerFlag('offline-steps', 1).default(200_000),
      'online-steps': integerFlag('online-steps', 0).default(300_000),
      'start-steps': integerFlag('start-steps', 0).default(25_000),
      'warmup-steps': integerFlag('warmup-steps', 0).default(25_000),
      'aug-fraction': fraction.default(0.5),
      'world-model': z.enum(['vae', 'linear', 'copy']).default('vae'),
      'wm-epochs': integerFlag('wm-epochs', 1).default(300),
      'critic-layer-norm': z.boolean().default(false),
      'eval-every': integerFlag('eval-every', 1).default(5_000),
      'eval-episodes': integerFlag('eval-episodes', 1).default(10),
      seed: integerFlag('seed', 0).default(0),
      out: z.string().min(1).optional(),
      _: z.array(z.string()).max(0, 'train takes no positional arguments'),
    })
    .refine((f) => f.variant === 'scratch' || f.dataset !== undefined, {
      path: ['dataset'],
      message: 'required for the td3bc and td3bc-aug variants',
    })
    .refine((f) => f['world-model'] === 'vae' || f.variant === 'td3bc-aug', {
      path: ['world-model'],
      message: 'only the td3bc-aug variant uses a world model',
    })
    .superRefine((f, ctx) => {
      // The env checks its own options (lib/envs), here so that the error names the flag.
      const env = f.env;
      if (isEnvId(env)) addEnvOptionFlagIssue(ctx, () => checkEnvOptions(env, f['env-option']));
    }),
  help: [
    'usage: o2o train --env ID [--dataset FILE] [--variant scratch|td3bc|td3bc-aug] [flags]',
    '',
    'Runs one variant end to end: (world model,) offline TD3+BC, online TD3; the paper defaults.',
    '  --env ID              environment, e.g. Hopper-v5',
    '  --env-option K=V      an environment option (repeatable), as lib/envs names them, e.g.',
    '                        includeCfrcExtInObservation=false on Ant-v5 (default: the v5 defaults);',
    '                        a dataset recorded on the defaults is rewritten for them where that is',
    '                        exact (Ant-v5: includeCfrcExtInObservation, contactCostWeight); one',
    '                        recorded on the same options is used as it is',
    '  --dataset FILE        Minari dataset directory or D4RL .hdf5 (not for scratch)',
    '  --variant V           scratch | td3bc | td3bc-aug (default td3bc-aug)',
    '  --pretrain P          which pre-trained parts start online TD3: actor | critic | both (default both)',
    '  --offline-steps N     TD3+BC updates (default 200000)',
    '  --online-steps N      environment steps online (default 300000)',
    '  --start-steps N       scratch: uniformly random steps first (default 25000)',
    '  --warmup-steps N      fine-tuning: policy-plus-noise steps before updates (default 25000)',
    '  --aug-fraction P      share of next states replaced by the world model (default 0.5)',
    "  --world-model M       which world model augments: vae (the paper's, default) | linear (least squares) | copy (s′ = s): controls",
    '  --wm-epochs N         world-model training epochs (default 300)',
    "  --critic-layer-norm   LayerNorm in the critics' hidden layers (not the paper's; against offline Q divergence)",
    '  --eval-every N        evaluate every N updates / steps (default 5000)',
    '  --eval-episodes N     episodes per evaluation (default 10)',
    '  --seed S              seed of everything (default 0)',
    '  --out DIR             output directory (default runs/<env>-<variant>-<pretrain>-s<seed>)',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

type Flags = z.output<typeof spec.schema>;

export const trainCommand: Command = {
  summary: 'one variant end to end in-process: (world model,) TD3+BC offline, TD3 online',
  async run(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, spec);
    if (flags === 'help') {
      console.log(spec.help);
      return 0;
    }
    await train(flags);
    return 0;
  },
};

/** Whether any --env-option was given (without, the run's config has no envOptions at all). */
function hasEnvOptions(f: Flags): boolean {
  return Object.keys(f['env-option']).length > 0;
}

/** The run the flags describe (a dataset file is used whole; the grid draws subsets). */
export function runConfigFromFlags(f: Flags): RunConfig {
  const scratch = f.variant === 'scratch';
  return parseRunConfig(
    {
      env: f.env,
      ...(hasEnvOptions(f) ? { envOptions: f['env-option'] } : {}),
      dataset: scratch
        ? null
        : {
            file: f.dataset!,
            kind: null,
            transitions: null,
            by: null,
            subsetSeed: null,
            sha256: manifestSha256(f.dataset!),
          },
      variant: f.variant,
      pretrain: scratch ? null : f.pretrain,
      augFraction: f.variant === 'td3bc-aug' ? f['aug-fraction'] : 0,
      ...(f['world-model'] === 'vae' ? {} : { worldModel: f['world-model'] }),
      ...(f['critic-layer-norm'] ? { criticLayerNorm: true } : {}),
      offlineSteps: scratch ? 0 : f['offline-steps'],
      onlineSteps: f['online-steps'],
      startSteps: f['start-steps'],
      warmupSteps: f['warmup-steps'],
      wmEpochs: f['wm-epochs'],
      evalEvery: f['eval-every'],
      evalEpisodes: f['eval-episodes'],
      seed: f.seed,
    },
    'o2o train flags',
  );
}

async function train(f: Flags): Promise<void> {
  const ln = f['critic-layer-norm'] ? '-ln' : '';
  const options = hasEnvOptions(f) ? '-env-options' : '';
  const out = f.out ?? join('runs', `${f.env}${options}-${f.variant}-${f.pretrain}${ln}-s${f.seed}`);
  if (f.dataset !== undefined && f.variant !== 'scratch' && !existsSync(f.dataset)) {
    throw new UsageError(`--dataset: ${f.dataset} does not exist`);
  }
  const config = runConfigFromFlags(f);
  const paths = trainPaths(out, config.worldModel);
  let progress: ProgressLine | undefined;
  // A run directory resumes only the same run.
  const previous = readJsonIfExists(join(out, 'config.json')) as
    | { run?: Record<string, unknown> }
    | undefined;
  if (previous?.run !== undefined) {
    const changed = Object.entries(config)
      .filter(([k, v]) => JSON.stringify(previous.run?.[k]) !== JSON.stringify(v))
      .map(([k, v]) => `${k} ${JSON.stringify(previous.run?.[k])} -> ${JSON.stringify(v)}`);
    if (changed.length > 0) {
      throw new UsageError(
        `--out ${out} holds a run with other settings (${changed.join(', ')}): use another --out`,
      );
    }
  }
  mkdirSync(out, { recursive: true });
  writeJsonAtomic(join(out, 'config.json'), { ...f, run: config });
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Spans of the run and its stages, when O2O_TRACE_DIR / O2O_TRACE_FILE / OTEL_EXPORTER_OTLP_ENDPOINT say where.
  const telemetry = startTelemetry({ service: 'train' });
  try {
    const result = await runPipeline(config, paths, {
      name: out,
      log: (line) => {
        progress?.clear();
        console.log(line);
      },
      progress: (stage, total, start) => {
        progress = new ProgressLine(stage, total, { startStep: start });
        return progress;
      },
      shouldStop: () => stop,
    });
    if (result.status === 'interrupted') {
      console.log(`interrupted; checkpointed in ${out} (the same command resumes it)`);
      return;
    }
    console.log(`wrote ${out}${existsSync(paths.finalAgent) ? ' (final.safetensors)' : ''}`);
  } catch (err) {
    // A dataset that cannot serve this run (unreadable, other env, other options) is the user's to fix.
    if (err instanceof DatasetError) throw new UsageError(`--dataset: ${err.message}`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await telemetry.shutdown();
  }
}
