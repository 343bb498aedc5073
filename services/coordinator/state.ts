// The run's state.json: which phases finished, with their outputs, metrics and timings, written atomically
// after every phase so `o2o run --resume <run dir>` picks up after the last finished one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/services/phase-stream.ts';

export const PHASE_ORDER = ['dataset', 'world_model', 'offline', 'online', 'evaluation', 'report'] as const;
export type PhaseName = (typeof PHASE_ORDER)[number];

const phaseRecordSchema = z.strictObject({
  status: z.enum(['done', 'skipped', 'failed']),
  attempt: z.number().int().min(1),
  outputs: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), z.number()),
  seconds: z.number().min(0),
  handledBy: z.string(),
  finishedAt: z.string(),
  error: z.string().optional(),
});
export type PhaseRecord = z.infer<typeof phaseRecordSchema>;

const runStateSchema = z.strictObject({
  version: z.literal(1),
  runId: z.string().min(1),
  specName: z.string(),
  /** The validated spec the run was started with (a resume refuses a different one). */
  specJson: z.string(),
  createdAt: z.string(),
  phases: z.partialRecord(z.enum(PHASE_ORDER), phaseRecordSchema),
});
export type RunState = z.infer<typeof runStateSchema>;

export const statePath = (runDir: string): string => join(runDir, 'state.json');

export function loadState(runDir: string): RunState | undefined {
  const path = statePath(runDir);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not JSON: ${(err as Error).message}`);
  }
  const parsed = runStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join('.') || '(state)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export function saveState(runDir: string, state: RunState): void {
  writeFileAtomic(statePath(runDir), `${JSON.stringify(state, null, 2)}\n`);
}

/** Is this phase finished (done or deliberately skipped) in the saved state? */
export function isFinished(state: RunState, phase: PhaseName): boolean {
  const s = state.phases[phase]?.status;
  return s === 'done' || s === 'skipped';
}

/** Outputs of all finished phases, later phases overriding earlier ones (e.g. `agent`). */
export function collectedOutputs(state: RunState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const phase of PHASE_ORDER) {
    const rec = state.phases[phase];
    if (rec?.status === 'done') Object.assign(out, rec.outputs);
  }
  return out;
}
