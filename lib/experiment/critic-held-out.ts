// The critic's held-out check for a shared offline pre-training (results/<env>/<dataset>/_pretrained/
// <entry>/): its final critic against Monte-Carlo returns on the whole source dataset, rows it trained on
// vs the rest, written to critic-held-out.json beside the entry's marker. The model file is not committed
// but this small file is, so the report can show it on any clone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { findDirsHolding } from '../report/results.ts';
import { loadAgent } from '../rl/agent-checkpoint.ts';
import {
  type CriticTrainVsHeldOut,
  criticTrainVsHeldOut,
  HELD_OUT_HORIZON,
  HELD_OUT_SAMPLES,
} from '../rl/critic-diagnostics.ts';
import { loadRunDataset } from './dataset-source.ts';
import { readJsonIfExists, writeJsonAtomic } from './fs-atomic.ts';
import { datasetSourceSchema } from './run-config.ts';

export const CRITIC_HELD_OUT_FILE = 'critic-held-out.json';

const markerSchema = z.object({
  key: z
    .object({
      env: z.string().min(1),
      dataset: datasetSourceSchema,
      seed: z.number().int().min(0),
      envOptions: z.record(z.string(), z.unknown()).optional(),
    })
    .passthrough(),
  finishedAt: z.string(),
});

export interface CriticHeldOutFile extends CriticTrainVsHeldOut {
  /** The pre-training checked: its marker's finishedAt (a rebuilt entry gets checked again). */
  pretrainedAt: string;
  gamma: number;
  horizon: number;
  samples: number;
  seed: number;
}

export type HeldOutOutcome = 'written' | 'up to date' | 'no model file' | 'not done';

/** Checks one entry (a directory with offline.json); skips it when its file matches the entry's build. */
export async function checkEntry(dir: string, options: { force?: boolean } = {}): Promise<HeldOutOutcome> {
  const markerPath = join(dir, 'offline.json');
  const raw = readJsonIfExists(markerPath);
  if (raw === undefined) return 'not done';
  const parsed = markerSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${markerPath}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { key, finishedAt } = parsed.data;
  const agentPath = join(dir, 'checkpoints', 'offline.safetensors');
  if (!existsSync(agentPath)) return 'no model file';
  const out = join(dir, CRITIC_HELD_OUT_FILE);
  const previous = readJsonIfExists(out) as Partial<CriticHeldOutFile> | undefined;
  if (!options.force && previous?.pretrainedAt === finishedAt) return 'up to date';
  const { origin } = await loadRunDataset(key.dataset, key.env, key.envOptions);
  if (origin === undefined)
    throw new Error(`${markerPath}: the pre-training used the whole dataset: there are no held-out rows`);
  const { agent } = loadAgent(agentPath);
  // The discount the critic was trained with.
  const gamma = agent.config.gamma;
  const result: CriticHeldOutFile = {
    pretrainedAt: finishedAt,
    gamma,
    horizon: HELD_OUT_HORIZON,
    samples: HELD_OUT_SAMPLES,
    seed: key.seed,
    ...criticTrainVsHeldOut(agent, origin.source, origin.rows, {
      gamma,
      samples: HELD_OUT_SAMPLES,
      seed: key.seed,
      horizon: HELD_OUT_HORIZON,
    }),
  };
  writeJsonAtomic(out, result);
  return 'written';
}

/** Every shared offline pre-training under `root` (a directory with an offline.json marker). */
export function findEntries(root: string): string[] {
  return existsSync(root) ? findDirsHolding(root, ['offline.json']) : [];
}
