// The offline phase's checkpoints: at the end of every segment of updates, the agent (saveAgent: networks,
// optimisers, normaliser, smoothing-noise RNG) goes to `offline-checkpoints/update-<n>.safetensors`, then
// `latest.json` (written to a temporary file and renamed) points at it, with what the phase counted so
// far. A crash at any moment leaves the previous checkpoint readable; older files are removed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
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

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

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
  writeAtomic(join(dir, POINTER), `${JSON.stringify({ ...pointer, file })}\n`);
  for (const name of readdirSync(dir)) {
    if (name !== file && name !== POINTER && name.startsWith('update-'))
      rmSync(join(dir, name), { force: true });
  }
  return join(dir, file);
}

/** The latest checkpoint, or undefined when there is none; a damaged pointer is an error naming the file. */
export function loadOfflineCheckpoint(dir: string): { pointer: OfflinePointer; agent: Td3Agent } | undefined {
  const path = join(dir, POINTER);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = pointerSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { pointer: parsed.data, agent: loadAgent(join(dir, parsed.data.file)).agent };
}
