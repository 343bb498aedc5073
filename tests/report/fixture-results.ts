// A synthetic results tree shaped like the grid's (config.json, metrics.jsonl, critic.jsonl, done.json per
// run; shared offline pre-training under _pretrained/ with its offline.json marker), with curves simple
// enough that the report's numbers can be worked out by hand (see EXPECTED).
//
// Every online curve is a ramp: return = final · min(1, step / rampEnd), evaluated every 2,500 steps up to
// a 50,000-step budget. Hopper-v5 threshold = mean scratch final = 1200.
//   scratch   finals 1000..1400, ramp 40k → steps [>50k, >50k, 40k, 37.5k, 35k] → IQM (middle 3) 42.5k
//   td3bc-aug finals 1500..1900, ramp 10k → steps [10k, 7.5k, 7.5k, 7.5k, 7.5k] → IQM 7.5k, ratio 7.5/42.5
//   td3bc     finals 1150..1550, ramp 30k → steps [>50k, 30k, 27.5k, 25k, 25k]  → IQM 27.5k, ratio 27.5/42.5
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizedScore } from '../../lib/data/normalized-score.ts';
import { formatComparison } from '../../lib/world-model/baselines.ts';

const BUDGET = 50_000;
const EVAL_EVERY = 2_500;
const OFFLINE_STEPS = 50_000;

export const EXPECTED = {
  hopperThreshold: 1200,
  scratchStepsIqm: 42_500,
  augStepsIqm: 7_500,
  plainStepsIqm: 27_500,
  augRatio: 7_500 / 42_500,
  plainRatio: 27_500 / 42_500,
  scratchSteps: [
    { steps: 50_000, censored: true },
    { steps: 50_000, censored: true },
    { steps: 40_000, censored: false },
    { steps: 37_500, censored: false },
    { steps: 35_000, censored: false },
  ],
  /** IQM of the aug finals 1500..1900 (middle three: 1600, 1700, 1800). */
  augFinalReturnIqm: 1700,
  /** Offline Q − G at the last update: without aug 50 + seed, with aug 10 + seed / 2 (IQM of seeds 0..4). */
  overestimationWithout: 52,
  overestimationWith: 11,
};

const hopperScore = (r: number) => normalizedScore('hopper', r);
const walkerScore = (r: number) => normalizedScore('walker2d', r);

interface RunSpec {
  env: string;
  variant: 'scratch' | 'td3bc' | 'td3bc-aug';
  pretrain: 'both' | 'actor' | 'critic' | null;
  augFraction: number;
  kind: string | null;
  transitions: number | null;
  seed: number;
  final: number;
  rampEnd: number;
  tags: string[];
  /** Unfinished: no done.json, curve cut at this step. */
  stopAt?: number;
  /** Offline rows (metrics and critic) written into the run itself, as the grid copies them. */
  offline?: boolean;
}

const score = (env: string, r: number) => (env.startsWith('Hopper') ? hopperScore(r) : walkerScore(r));

function datasetOf(s: Pick<RunSpec, 'kind' | 'transitions'>) {
  if (s.kind === null) return null;
  return {
    file: `datasets/hopper/${s.kind}.hdf5`,
    kind: s.kind,
    transitions: s.transitions,
    by: 'transition',
    subsetSeed: 0,
    sha256: 'f'.repeat(64),
  };
}

function offlineRows(augFraction: number, seed: number) {
  const metrics = [];
  const critic = [];
  for (let u = 10_000; u <= OFFLINE_STEPS; u += 10_000) {
    metrics.push({
      phase: 'offline',
      step: u,
      returnMean: 300 + u / 200 + seed,
      returnStd: 5,
      normalizedScore: null,
    });
    const over = augFraction > 0 ? (2 * u) / 10_000 + seed / 2 : (10 * u) / 10_000 + seed;
    const mc = 100 + seed;
    const dist = (m: number) => ({ mean: m, p05: m - 10, p50: m, p95: m + 10 });
    critic.push({
      phase: 'offline',
      update: u,
      vsReturns: { samples: 1024, q: dist(mc + over), monteCarlo: dist(mc), overestimation: dist(over) },
      targetShift: augFraction > 0 ? { qDifference: dist(3 + seed), predictionError: dist(0.01) } : null,
    });
  }
  // metrics need normalised scores like o2o train writes them; fill in per env by the caller.
  return { metrics, critic };
}

/** One side of a held-out check (train or held-out rows): its mean |Q − G| and mean return G. */
export function heldOutSide(eligible: number, absError: number, g: number) {
  return {
    eligible,
    vsReturns: {
      samples: 4096,
      q: { mean: g + absError, p05: 0, p50: 0, p95: 0 },
      monteCarlo: { mean: g, p05: 0, p50: 0, p95: 0 },
      overestimation: { mean: absError, p05: 0, p50: 0, p95: 0 },
    },
    meanAbsError: absError,
  };
}

function writeJsonl(path: string, rows: unknown[]): void {
  writeFileSync(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

function writeRun(root: string, s: RunSpec): void {
  const dataset = datasetOf(s);
  const label = dataset ? `${s.kind}-${(s.transitions ?? 0) / 1000}k` : 'none';
  const variantDir = s.variant === 'scratch' ? 'scratch' : `${s.variant}-${s.pretrain}-p${s.augFraction}`;
  const dir = join(root, s.env, label, variantDir, `seed-${s.seed}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    `${JSON.stringify(
      {
        env: s.env,
        dataset,
        variant: s.variant,
        pretrain: s.pretrain,
        augFraction: s.augFraction,
        offlineSteps: s.variant === 'scratch' ? 0 : OFFLINE_STEPS,
        onlineSteps: BUDGET,
        startSteps: 5_000,
        warmupSteps: 5_000,
        wmEpochs: 30,
        evalEvery: EVAL_EVERY,
        evalEpisodes: 5,
        seed: s.seed,
        hidden: [256, 256],
        offlineCheckpointEvery: 5_000,
        onlineCheckpointEvery: 10_000,
        groups: s.tags,
        labels: { env: s.env, dataset: label, variant: variantDir },
        commit: 'abc123',
        commits: ['abc123'],
        generator: 'fixture 1',
        spec: 'experiments/paper.yaml',
        anExtraField: { tolerated: true },
      },
      null,
      2,
    )}\n`,
  );
  const metrics: unknown[] = [];
  const critic: unknown[] = [];
  if (s.offline) {
    const off = offlineRows(s.augFraction, s.seed);
    metrics.push(...off.metrics.map((m) => ({ ...m, normalizedScore: score(s.env, m.returnMean) })));
    critic.push(...off.critic);
  }
  const last = s.stopAt ?? BUDGET;
  for (let step = EVAL_EVERY; step <= last; step += EVAL_EVERY) {
    const r = s.final * Math.min(1, step / s.rampEnd);
    metrics.push({
      phase: 'online',
      step,
      returnMean: r,
      returnStd: 10,
      normalizedScore: score(s.env, r),
      criticLoss: 1,
      q1Mean: 50,
      stepsPerSecond: 100,
    });
    const over = 20 - step / 5_000 + s.seed;
    const dist = (m: number) => ({ mean: m, p05: m - 1, p50: m, p95: m + 1 });
    critic.push({
      phase: 'online',
      step,
      onPolicy: {
        samples: 500,
        q: dist(r / 10 + over),
        monteCarlo: dist(r / 10),
        overestimation: dist(over),
      },
      vsReturns: null,
    });
  }
  writeJsonl(join(dir, 'metrics.jsonl'), metrics);
  writeJsonl(join(dir, 'critic.jsonl'), critic);
  if (s.stopAt === undefined) {
    writeFileSync(
      join(dir, 'done.json'),
      `${JSON.stringify({ finishedAt: '2026-01-01T00:00:00.000Z', seconds: 10, finalReturn: s.final, finalNormalizedScore: score(s.env, s.final) })}\n`,
    );
  }
}

function writePretrained(root: string, env: string, kind: string, augFraction: number, seed: number): void {
  const dir = join(
    root,
    env,
    `${kind}-10k`,
    '_pretrained',
    augFraction > 0 ? `aug-${augFraction}-seed-${seed}` : `bc-seed-${seed}`,
  );
  mkdirSync(dir, { recursive: true });
  const key = {
    env,
    dataset: datasetOf({ kind, transitions: 10_000 }),
    seed,
    augFraction,
    offlineSteps: OFFLINE_STEPS,
    wmEpochs: augFraction > 0 ? 30 : null,
    evalEvery: EVAL_EVERY,
    evalEpisodes: 5,
  };
  writeFileSync(join(dir, 'offline.json'), `${JSON.stringify({ key, finishedAt: 'x', seconds: 1 })}\n`);
  const off = offlineRows(augFraction, seed);
  writeJsonl(
    join(dir, 'metrics.jsonl'),
    off.metrics.map((m) => ({ ...m, normalizedScore: score(env, m.returnMean) })),
  );
  writeJsonl(join(dir, 'critic.jsonl'), off.critic);
  if (augFraction > 0) writeWorldModel(root, env, kind, seed);
  // The held-out check: mean |Q − G| with augmentation 19 + seed on training rows and 20 + seed on
  // held-out ones, without it ten times that; G 250 on both.
  const error = (augFraction > 0 ? 1 : 10) * (20 + seed);
  const heldOut = {
    pretrainedAt: 'x',
    train: heldOutSide(9_000, error - 1, 250),
    heldOut: heldOutSide(90_000, error, 250),
  };
  writeFileSync(join(dir, 'critic-held-out.json'), `${JSON.stringify(heldOut)}\n`);
}

/**
 * The world model an augmented pre-training used, with its held-out table as the world-model stage writes
 * it. Errors relative to copying the state (standardised MSE 0.1): linear 0.2, latent mean 0.5 + 0.05 · seed,
 * sampled latent 0.8 + 0.1 · seed, so over seeds 0-4 the IQMs are 0.2, 0.6 and 1.0.
 */
function writeWorldModel(root: string, env: string, kind: string, seed: number): void {
  const dir = join(root, env, `${kind}-10k`, '_pretrained', `world-model-seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const key = { env, dataset: datasetOf({ kind, transitions: 10_000 }), seed, wmEpochs: 30 };
  writeFileSync(join(dir, 'world-model.json'), `${JSON.stringify({ key, finishedAt: 'x', seconds: 1 })}\n`);
  const row = (name: string, vsCopy: number) => ({ name, mseRaw: 3 * vsCopy, mseNormalized: 0.1 * vsCopy });
  const table = formatComparison([
    row('copy state (s′ = s)', 1),
    row('linear least squares [s, a, 1]', 0.2),
    row('world model vae-native, deterministic', 0.5 + 0.05 * seed),
    row('world model vae-native, stochastic', 0.8 + 0.1 * seed),
  ]);
  writeFileSync(join(dir, 'world-model-report.txt'), `${table}\n`);
}

/** Writes the fixture under `root` (which should be empty). */
export function writeFixtureResults(root: string): void {
  const seeds = [0, 1, 2, 3, 4];
  const H = 'Hopper-v5';
  const base = { env: H, kind: 'medium', transitions: 10_000, tags: ['main'] };
  for (const seed of seeds) {
    writeRun(root, {
      ...base,
      kind: null,
      transitions: null,
      variant: 'scratch',
      pretrain: null,
      augFraction: 0,
      seed,
      final: 1000 + 100 * seed,
      rampEnd: 40_000,
    });
    writeRun(root, {
      ...base,
      variant: 'td3bc-aug',
      pretrain: 'both',
      augFraction: 0.5,
      seed,
      final: 1500 + 100 * seed,
      rampEnd: 10_000,
      offline: true,
      // As the grid tags a run that several groups list: with every one of them.
      tags: ['main', 'size-sweep', 'ratio-sweep'],
    });
    writeRun(root, {
      ...base,
      variant: 'td3bc',
      pretrain: 'both',
      augFraction: 0,
      seed,
      final: 1150 + 100 * seed,
      rampEnd: 30_000,
      offline: true,
      tags: ['main', 'ratio-sweep'],
    });
    writePretrained(root, H, 'medium', 0.5, seed);
    writePretrained(root, H, 'medium', 0, seed);
  }
  // An unfinished aug run whose partial curve would dominate every statistic if it were used.
  writeRun(root, {
    ...base,
    variant: 'td3bc-aug',
    pretrain: 'both',
    augFraction: 0.5,
    seed: 5,
    final: 9000,
    rampEnd: 2_500,
    stopAt: 20_000,
  });
  // Ablations: actor-only and critic-only, with and without augmentation, 3 seeds.
  for (const seed of [0, 1, 2]) {
    for (const [variant, augFraction] of [
      ['td3bc-aug', 0.5],
      ['td3bc', 0],
    ] as const) {
      const abl = { ...base, variant, augFraction, seed, rampEnd: 30_000, tags: ['ablation'] };
      writeRun(root, { ...abl, pretrain: 'actor', final: 1300 + 50 * seed });
      writeRun(root, { ...abl, pretrain: 'critic', final: 900 + 50 * seed });
    }
    // Size sweep (2.5k and 5k next to the main 10k) and ratio sweep (0.25, 0.75 next to 0 and 0.5).
    for (const transitions of [2_500, 5_000]) {
      writeRun(root, {
        ...base,
        transitions,
        variant: 'td3bc-aug',
        pretrain: 'both',
        augFraction: 0.5,
        seed,
        final: 1000 + transitions / 10 + 20 * seed,
        rampEnd: 20_000,
        tags: ['size-sweep'],
        // Its offline rows in the run: the critic analysis has the dataset, augmented only.
        offline: true,
      });
    }
    for (const augFraction of [0.25, 0.75]) {
      writeRun(root, {
        ...base,
        variant: 'td3bc-aug',
        pretrain: 'both',
        augFraction,
        seed,
        final: 1400 + 20 * seed,
        rampEnd: 15_000,
        tags: ['ratio-sweep'],
      });
    }
  }
  // Walker2d: scratch and the augmented variant, 3 seeds, offline rows inside the runs (no _pretrained).
  for (const seed of [0, 1, 2]) {
    const w = { env: 'Walker2d-v5', kind: 'medium-replay', transitions: 10_000, seed, tags: ['main'] };
    writeRun(root, {
      ...w,
      kind: null,
      transitions: null,
      variant: 'scratch',
      pretrain: null,
      augFraction: 0,
      final: 800 + 100 * seed,
      rampEnd: 45_000,
    });
    writeRun(root, {
      ...w,
      variant: 'td3bc-aug',
      pretrain: 'both',
      augFraction: 0.5,
      final: 700 + 100 * seed,
      rampEnd: 45_000,
      offline: true,
    });
    writeRun(root, {
      ...w,
      variant: 'td3bc',
      pretrain: 'both',
      augFraction: 0,
      final: 750 + 100 * seed,
      rampEnd: 45_000,
      offline: true,
    });
  }
}
