// `o2o train`: one variant of the paper end to end, in-process.
//   scratch     TD3 from scratch (uniformly random start steps, then one update per step)
//   td3bc       TD3+BC on the dataset, then TD3 fine-tuning from the pre-trained parts
//   td3bc-aug   the same, with the world model replacing a fraction of next states in every batch
// Writes config.json, metrics.jsonl and metrics.csv (one row per evaluation), critic.jsonl (Q against
// Monte-Carlo returns on the dataset and on the policy's own evaluation episodes), agent checkpoints (and
// the world model) into --out; prints a line per evaluation and a progress line with steps/s.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadDataset } from '../../lib/data/load.ts';
import { normalizedScore, scoreFamily } from '../../lib/data/normalized-score.ts';
import { ENV_IDS, makeEnv } from '../../lib/envs/registry.ts';
import { saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import { NextStateAugmenter } from '../../lib/rl/augment.ts';
import {
  type CriticVsReturns,
  criticVsReturns,
  distribution,
  type MonteCarloTargets,
  monteCarloTargets,
  onPolicyCriticVsReturns,
  targetShift,
} from '../../lib/rl/critic-diagnostics.ts';
import type { EvaluationResult } from '../../lib/rl/evaluate.ts';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import { pretrainOffline } from '../../lib/rl/offline.ts';
import { trainOnline } from '../../lib/rl/online.ts';
import { ReplayBuffer } from '../../lib/rl/replay-buffer.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { compareOneStep, formatComparison } from '../../lib/world-model/baselines.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { trainWorldModel } from '../../lib/world-model/train.ts';
import { type CommandSpec, integerFlag, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { ProgressLine } from '../progress.ts';

const fraction = z
  .string()
  .transform(Number)
  .refine((p) => p >= 0 && p <= 1, 'must be a number in [0, 1]');

const spec = {
  flags: {
    env: { type: 'string' },
    dataset: { type: 'string' },
    variant: { type: 'string' },
    pretrain: { type: 'string' },
    'offline-steps': { type: 'string' },
    'online-steps': { type: 'string' },
    'start-steps': { type: 'string' },
    'warmup-steps': { type: 'string' },
    'aug-fraction': { type: 'string' },
    'wm-epochs': { type: 'string' },
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
      dataset: z.string().min(1).optional(),
      variant: z.enum(['scratch', 'td3bc', 'td3bc-aug']).default('td3bc-aug'),
      pretrain: z.enum(['actor', 'critic', 'both']).default('both'),
      'offline-steps': integerFlag('offline-steps', 1).default(200_000),
      'online-steps': integerFlag('online-steps', 0).default(300_000),
      'start-steps': integerFlag('start-steps', 0).default(25_000),
      'warmup-steps': integerFlag('warmup-steps', 0).default(25_000),
      'aug-fraction': fraction.default(0.5),
      'wm-epochs': integerFlag('wm-epochs', 1).default(300),
      'eval-every': integerFlag('eval-every', 1).default(5_000),
      'eval-episodes': integerFlag('eval-episodes', 1).default(10),
      seed: integerFlag('seed', 0).default(0),
      out: z.string().min(1).optional(),
      _: z.array(z.string()).max(0, 'train takes no positional arguments'),
    })
    .refine((f) => f.variant === 'scratch' || f.dataset !== undefined, {
      path: ['dataset'],
      message: 'required for the td3bc and td3bc-aug variants',
    }),
  help: [
    'usage: o2o train --env ID [--dataset FILE] [--variant scratch|td3bc|td3bc-aug] [flags]',
    '',
    'Runs one variant end to end: (world model,) offline TD3+BC, online TD3; the paper defaults.',
    '  --env ID              environment, e.g. Hopper-v5',
    '  --dataset FILE        Minari dataset directory or D4RL .hdf5 (not for scratch)',
    '  --variant V           scratch | td3bc | td3bc-aug (default td3bc-aug)',
    '  --pretrain P          which pre-trained parts start online TD3: actor | critic | both (default both)',
    '  --offline-steps N     TD3+BC updates (default 200000)',
    '  --online-steps N      environment steps online (default 300000)',
    '  --start-steps N       scratch: uniformly random steps first (default 25000)',
    '  --warmup-steps N      fine-tuning: policy-plus-noise steps before updates (default 25000)',
    '  --aug-fraction P      share of next states replaced by the world model (default 0.5)',
    '  --wm-epochs N         world-model training epochs (default 300)',
    '  --eval-every N        evaluate every N updates / steps (default 5000)',
    '  --eval-episodes N     episodes per evaluation (default 10)',
    '  --seed S              seed of everything (default 0)',
    '  --out DIR             output directory (default runs/<env>-<variant>-<pretrain>-s<seed>)',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

type Flags = z.output<typeof spec.schema>;

/** One evaluation row, as written to metrics.jsonl / metrics.csv. */
interface MetricsRow {
  phase: 'offline' | 'online';
  step: number;
  returnMean: number;
  returnStd: number;
  normalizedScore: number | null;
  criticLoss: number | null;
  q1Mean: number | null;
  stepsPerSecond: number;
}

const CSV_COLUMNS: (keyof MetricsRow)[] = [
  'phase',
  'step',
  'returnMean',
  'returnStd',
  'normalizedScore',
  'criticLoss',
  'q1Mean',
  'stepsPerSecond',
];

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

async function train(f: Flags): Promise<void> {
  const out = f.out ?? join('runs', `${f.env}-${f.variant}-${f.pretrain}-s${f.seed}`);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'config.json'), `${JSON.stringify(f, null, 2)}\n`);
  const jsonl = join(out, 'metrics.jsonl');
  const csv = join(out, 'metrics.csv');
  writeFileSync(jsonl, '');
  writeFileSync(csv, `${CSV_COLUMNS.join(',')}\n`);
  const family = scoreFamily(f.env);
  let clock = performance.now();
  let clockStep = 0;
  let progress: ProgressLine | undefined;
  let lastEval = '';
  const criticLog = join(out, 'critic.jsonl');
  writeFileSync(criticLog, '');
  const logCritic = (entry: Record<string, unknown>) =>
    appendFileSync(criticLog, `${JSON.stringify(entry)}\n`);
  const record = (
    phase: MetricsRow['phase'],
    step: number,
    r: EvaluationResult,
    u?: { criticLoss: number; q1Mean: number },
  ) => {
    const now = performance.now();
    const rate = ((step - clockStep) * 1000) / Math.max(1, now - clock);
    clock = now;
    clockStep = step;
    const row: MetricsRow = {
      phase,
      step,
      returnMean: r.meanReturn,
      returnStd: r.stdReturn,
      normalizedScore: family === undefined ? null : normalizedScore(family, r.meanReturn),
      criticLoss: u?.criticLoss ?? null,
      q1Mean: u?.q1Mean ?? null,
      stepsPerSecond: rate,
    };
    appendFileSync(jsonl, `${JSON.stringify(row)}\n`);
    appendFileSync(csv, `${CSV_COLUMNS.map((c) => row[c] ?? '').join(',')}\n`);
    const score = row.normalizedScore === null ? '' : `  score ${row.normalizedScore.toFixed(1)}`;
    lastEval = `last eval ${r.meanReturn.toFixed(1)}`;
    progress?.clear();
    console.log(
      `[${phase}] ${String(step).padStart(7)}  return ${r.meanReturn.toFixed(1)} ± ${r.stdReturn.toFixed(1)}${score}  ${rate.toFixed(0)}/s`,
    );
  };

  const env = makeEnv(f.env);
  const evalEnv = makeEnv(f.env);
  const obsDim = env.observationSpace.shape[0];
  const actDim = env.actionSpace.shape[0];
  const maxAction = env.actionSpace.high[0]!;
  try {
    let online: Td3Agent;
    // The dataset and its Monte-Carlo returns, for critic diagnostics during fine-tuning too.
    let datasetTargets: { dataset: Parameters<typeof criticVsReturns>[1]; mc: MonteCarloTargets } | undefined;
    if (f.variant === 'scratch') {
      online = new Td3Agent({ obsDim, actDim, maxAction, seed: f.seed });
    } else {
      const { dataset } = await loadDataset(f.dataset!, { envId: f.env });
      if (dataset.obsDim !== obsDim || dataset.actDim !== actDim) {
        throw new UsageError(
          `--dataset: ${f.dataset} has obs/action dims ${dataset.obsDim}/${dataset.actDim}, ${f.env} has ${obsDim}/${actDim}`,
        );
      }
      console.log(`dataset ${f.dataset}: ${dataset.rewards.length} transitions`);
      const normalizer = ObsNormalizer.fit(dataset.observations, obsDim, 1e-3);
      const offline = new Td3Agent({ obsDim, actDim, maxAction, bcAlpha: 2.5, seed: f.seed }, normalizer);
      let augmenter: NextStateAugmenter | undefined;
      if (f.variant === 'td3bc-aug') {
        const wm = trainWorldModel(dataset, {
          seed: f.seed,
          epochs: f['wm-epochs'],
          onProgress: (p) => {
            if (p.heldOutMse !== undefined) {
              console.log(
                `[world model] epoch ${p.epoch}/${p.epochs}  held-out MSE ${p.heldOutMse.toFixed(4)}`,
              );
            }
          },
        });
        const model = new NativeVaeWorldModel(wm.vae, wm.normalizer, f.seed);
        model.save(join(out, 'world-model.safetensors'));
        // The model's held-out one-step error next to the copy-state and linear baselines.
        const report = formatComparison(
          await compareOneStep({
            data: dataset,
            trainRows: wm.split.train,
            evalRows: wm.split.heldOut.length > 0 ? wm.split.heldOut : wm.split.train,
            normalizer: wm.normalizer,
            worldModel: model,
          }),
        );
        writeFileSync(join(out, 'world-model-report.txt'), `${report}\n`);
        console.log(report);
        model.reseedNoise(f.seed);
        augmenter = new NextStateAugmenter(model, f['aug-fraction'], f.seed);
      }
      const data = ReplayBuffer.fromColumns(dataset, f.seed);
      // Critic diagnostics at every offline evaluation: Q1 against Monte-Carlo returns on the dataset,
      // and with a world model the paper's target shift, into critic.jsonl.
      const mc = monteCarloTargets(dataset, offline.config.gamma);
      datasetTargets = { dataset, mc };
      const hasCompleteEpisode = mc.complete.includes(1);
      const diagnose = async (update: number) => {
        const vsReturns = hasCompleteEpisode ? criticVsReturns(offline, dataset, mc, 1024, f.seed) : null;
        let shift = null;
        if (augmenter !== undefined) {
          const t = await targetShift(offline, augmenter.model, dataset, 1024, f.seed);
          shift = {
            qDifference: distribution(Array.from(t.qDifference)),
            predictionError: distribution(Array.from(t.predictionError)),
          };
        }
        logCritic({ phase: 'offline', update, vsReturns, targetShift: shift });
      };
      progress = new ProgressLine('offline', f['offline-steps']);
      await pretrainOffline(
        offline,
        data,
        evalEnv,
        {
          updates: f['offline-steps'],
          batchSize: 256,
          evalEvery: f['eval-every'],
          evalEpisodes: f['eval-episodes'],
          seed: f.seed,
        },
        augmenter,
        {
          onEvaluation: async (u, r, last) => {
            record('offline', u, r, last);
            await diagnose(u);
          },
          onUpdate: (u) => progress?.update(u, lastEval),
        },
      );
      progress.done();
      saveAgent(join(out, 'offline.safetensors'), offline, { phase: 'offline', variant: f.variant });
      online = Td3Agent.fineTuneFrom(
        offline,
        { actor: f.pretrain !== 'critic', critic: f.pretrain !== 'actor' },
        f.seed + 1,
      );
    }
    if (f['online-steps'] > 0) {
      clock = performance.now();
      clockStep = 0;
      let last: { criticLoss: number; q1Mean: number } | undefined;
      progress = new ProgressLine('online', f['online-steps']);
      await trainOnline(
        env,
        evalEnv,
        online,
        {
          totalSteps: f['online-steps'],
          startSteps: f.variant === 'scratch' ? f['start-steps'] : 0,
          warmupSteps: f.variant === 'scratch' ? 0 : f['warmup-steps'],
          explorationNoise: 0.1,
          batchSize: 256,
          replayCapacity: Math.max(1, f['online-steps']),
          evalEvery: f['eval-every'],
          evalEpisodes: f['eval-episodes'],
          seed: f.seed,
          recordEvaluations: true,
        },
        {
          onEpisode: (p) => {
            last = p.update;
          },
          onEvaluation: (s, r) => {
            record('online', s, r, last);
            // The critic on the policy's own evaluation episodes and (when there is one) on the dataset.
            const onPolicy = onPolicyCriticVsReturns(online, r.trajectories ?? [], online.config.gamma);
            let onDataset: CriticVsReturns | null = null;
            if (datasetTargets?.mc.complete.includes(1)) {
              onDataset = criticVsReturns(online, datasetTargets.dataset, datasetTargets.mc, 1024, f.seed);
            }
            logCritic({ phase: 'online', step: s, onPolicy, vsReturns: onDataset });
          },
          onStep: (s) => progress?.update(s, lastEval),
        },
      );
      progress.done();
      saveAgent(join(out, 'final.safetensors'), online, { phase: 'online', variant: f.variant });
    }
    console.log(`wrote ${out}${existsSync(join(out, 'final.safetensors')) ? ' (final.safetensors)' : ''}`);
  } finally {
    env.close();
    evalEnv.close();
  }
}
