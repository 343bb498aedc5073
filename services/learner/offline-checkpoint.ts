// The offline phase's checkpoints: at the end of every segment of updates, the agent (saveAgent: networks,
// optimisers, normaliser, smoothing-noise RNG) goes to `offline-checkpoints/update-<n>.safetensors`, then
// `latest.json` (written to a temporary file and renamed) points at it, with what the phase counted so
// far. A crash at any moment leaves the previous checkpoint readable; older files are removed.
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonIfExists, writeJsonAtomic } from '../../lib/experiment/fs-atomic.ts';
import { loadAgent, saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import type { Td3Agent } from '../../lib/rl/td3.ts';

export const OFFLINE_CHECKPOINTS = 'offline-checkpoints';
const POINTER = 'latest.json';

const pointerSchema = z.strictObject({
  runId: z.string(),
  update: z.number().int().nonnegative(),
  file: z.string().regex(/^update-\d+\.safetensors$/),
  augmentedRows: z.number().int().nonnegative(),
  augmentedBatches: z.number().int().nonnegative(),
});
export type OfflinePointer = z.infer<typeof pointerSchema>;

export function saveOfflineCheckpoint(
  dir: string,
  agent: Td3Agent,
  pointer: Omit<OfflinePointer, 'file'>,
): string {
  mkdirSync(dir, { recursive: true });
  const file = `update-${pointer.update}.safetensors`;
  const tmp = join(dir, `${file}.tmp`);
  saveAgent(tmp, agent, { run_id: pointer.runId, phase: 'offline', update: String(pointer.update) });
  renameSync(tmp, join(dir, file));
  writeJsonAtomic(join(dir, POINTER), { ...pointer, file });
  for (const name of readdirSync(dir)) {
    if (name !== file && name !== POINTER && name.startsWith('update-'))
      rmSync(join(dir, name), { force: true });
  }
  return join(dir, file);
}

/** The latest checkpoint, or undefined when there is none; a damaged pointer is an error naming the file. */
export function loadOfflineCheckpoint(dir: string): { pointer: OfflinePointer; agent: Td3Agent } | undefined {
  const path = join(dir, POINTER);
  const raw = readJsonIfExists(path);
  if (raw === undefined) return undefined;
  const parsed = pointerSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { pointer: parsed.data, agent: loadAgent(join(dir, parsed.data.file)).agent };
}
