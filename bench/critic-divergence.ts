// Offline TD3+BC's critic with and without LayerNorm, side by side on one dataset subset: the mean Q over
// each window of updates and the critic loss, against the scale of the data's returns, plus each agent's
// update rate. Both agents see the same batches in the same order and update alternately, so their times
// are measured under the same load.
// It is how the Ant-v5 divergence noted in experiments/paper.yaml was measured (no evaluation episodes, no
// world model: the critic alone).
//
// usage: npm run bench:critic-divergence -- [--env Ant-v5] [--kind medium-replay] [--transitions 10000|all]
//          [--updates 60000] [--every 5000] [--seed 0] [--json]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isEnvId } from '../lib/envs/registry.ts';
import { loadRunDataset } from '../lib/experiment/dataset-source.ts';
import { BC_ALPHA, OFFLINE_BATCH_SIZE } from '../lib/experiment/offline-stage.ts';
import { ObsNormalizer } from '../lib/rl/normalizer.ts';
import { ReplayBuffer } from '../lib/rl/replay-buffer.ts';
import { TD3_DEFAULT_GAMMA, Td3Agent } from '../lib/rl/td3.ts';

const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]*$/, `--${name} must be a positive integer`)
    .transform(Number);

const optionsSchema = z
  .strictObject({
    env: z.string().refine(isEnvId, 'unknown environment id').default('Ant-v5'),
    kind: z.string().min(1).default('medium-replay'),
    transitions: z.union([z.literal('all'), positiveInt('transitions')]).default(10_000),
    updates: positiveInt('updates').default(60_000),
    every: positiveInt('every').default(5_000),
    seed: z
      .string()
      .regex(/^[0-9]+$/, '--seed must be a non-negative integer')
      .transform(Number)
      .default(0),
    json: z.boolean().default(false),
  })
  .refine((o) => o.updates % o.every === 0, { path: ['every'], message: 'must divide --updates' });

const { values } = parseArgs({
  options: {
    env: { type: 'string' },
    kind: { type: 'string' },
    transitions: { type: 'string' },
    updates: { type: 'string' },
    every: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  strict: true,
});
const parsed = optionsSchema.safeParse(values);
if (!parsed.success) {
  for (const i of parsed.error.issues)
    console.error(`bench/critic-divergence: --${i.path.join('.')}: ${i.message}`);
  process.exit(2);
}
const o = parsed.data;
const file = join('datasets', o.env, `${o.kind}.hdf5`);
if (!existsSync(file)) {
  console.error(`bench/critic-divergence: ${file} does not exist (scripts/make-datasets.sh builds it)`);
  process.exit(2);
}

const { dataset } = await loadRunDataset(
  {
    file,
    kind: o.kind,
    transitions: o.transitions === 'all' ? null : o.transitions,
    by: 'transition',
    subsetSeed: o.seed,
    sha256: null,
  },
  o.env,
);
const { obsDim, actDim } = dataset;
const rows = dataset.rewards.length;
let rewardSum = 0;
for (const r of dataset.rewards) rewardSum += r;
const meanReward = rewardSum / rows;
const normalizer = ObsNormalizer.fit(dataset.observations, obsDim, 1e-3);
const kinds = ['plain', 'layerNorm'] as const;
const agents = kinds.map(
  (k) =>
    new Td3Agent(
      { obsDim, actDim, maxAction: 1, bcAlpha: BC_ALPHA, seed: o.seed, criticLayerNorm: k === 'layerNorm' },
      normalizer,
    ),
);
const data = ReplayBuffer.fromColumns(dataset, o.seed);
// With --json the table still shows progress, on stderr, so stdout holds the JSON alone.
const log = (line: string) => {
  if (o.json) console.error(line);
  else console.log(line);
};
log(
  `${o.env} ${o.kind}, ${rows} rows (subset seed ${o.seed}), obs ${obsDim}, action ${actDim}: mean reward ` +
    `${meanReward.toFixed(3)}, so a mean reward held forever is worth ${(meanReward / (1 - TD3_DEFAULT_GAMMA)).toFixed(0)}`,
);
log(
  `${'update'.padStart(8)}  ${'Q plain'.padStart(12)}  ${'loss plain'.padStart(12)}  ${'Q LayerNorm'.padStart(12)}  ${'loss LN'.padStart(12)}`,
);

interface Window {
  update: number;
  plain: { q: number; loss: number };
  layerNorm: { q: number; loss: number };
}
const windows: Window[] = [];
const seconds = [0, 0];
const sums = kinds.map(() => ({ q: 0, loss: 0 }));
for (let u = 1; u <= o.updates; u++) {
  const batch = data.sample(OFFLINE_BATCH_SIZE);
  agents.forEach((agent, i) => {
    const t0 = performance.now();
    const m = agent.update(batch);
    seconds[i]! += (performance.now() - t0) / 1000;
    sums[i]!.q += m.q1Mean;
    sums[i]!.loss += m.criticLoss;
  });
  if (u % o.every === 0) {
    const [plain, layerNorm] = sums.map((s) => ({ q: s.q / o.every, loss: s.loss / o.every }));
    windows.push({ update: u, plain: plain!, layerNorm: layerNorm! });
    const cell = (v: number) => (Math.abs(v) >= 1e5 ? v.toExponential(2) : v.toFixed(1)).padStart(12);
    log(
      `${String(u).padStart(8)}  ${cell(plain!.q)}  ${cell(plain!.loss)}  ${cell(layerNorm!.q)}  ${cell(layerNorm!.loss)}`,
    );
    for (const s of sums) {
      s.q = 0;
      s.loss = 0;
    }
  }
}
const updatesPerSecond = { plain: o.updates / seconds[0]!, layerNorm: o.updates / seconds[1]! };
log(
  `updates/s: plain ${updatesPerSecond.plain.toFixed(0)}, LayerNorm ${updatesPerSecond.layerNorm.toFixed(0)} ` +
    `(LayerNorm takes ${(updatesPerSecond.plain / updatesPerSecond.layerNorm).toFixed(2)}× the time per update)`,
);
if (o.json) {
  console.log(
    JSON.stringify({
      env: o.env,
      kind: o.kind,
      rows,
      seed: o.seed,
      obsDim,
      actDim,
      meanReward,
      gamma: TD3_DEFAULT_GAMMA,
      windows,
      updatesPerSecond,
    }),
  );
}
