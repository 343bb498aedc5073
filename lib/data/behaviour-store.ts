// On-disk layout of a behaviour-policy training run (lib/data/behaviour.ts writes it, the dataset
// generators read it):
//   <dir>/run.json                      env, seed, budget and TD3 settings the run was started with
//   <dir>/checkpoint.json               the last consistent state (written last, by rename)
//   <dir>/training.jsonl                one line per snapshot: step, deterministic evaluation return
//   <dir>/snapshots/step-<n>.safetensors  saveAgent at step n (also the resume point)
//   <dir>/transitions/from-<start>.bin  every environment transition of steps start+1.. in order
// A transitions file is columnar: obs (rows×obsDim f32), actions (rows×actDim f32), rewards (f32),
// next obs (rows×obsDim f32), then one end flag per row (u8, END below), all little-endian. One file is
// written per checkpoint interval, so appending never rewrites earlier data.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** A behaviour run directory that is missing, damaged or asked for something it cannot give. */
export class BehaviourRunError extends Error {
  override name = 'BehaviourRunError';
}

export const BEHAVIOUR_KINDS = ['medium', 'medium-replay', 'expert', 'medium-expert'] as const;
export type BehaviourKind = (typeof BEHAVIOUR_KINDS)[number];

/** How a recorded transition ends its episode. */
export const END = {
  /** The episode goes on in the next row. */
  none: 0,
  terminated: 1,
  /** The time limit ended it (bootstrapping still valid). */
  truncated: 2,
  /** The run stopped (killed, or the budget was extended later) and resumed with a fresh episode. */
  cut: 3,
} as const;

export const runFileSchema = z.strictObject({
  version: z.literal(1),
  envId: z.string().min(1),
  seed: z.number().int().nonnegative(),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
  snapshotEvery: z.number().int().positive(),
  startSteps: z.number().int().nonnegative(),
  explorationNoise: z.number().nonnegative(),
  batchSize: z.number().int().positive(),
  replayCapacity: z.number().int().positive(),
  evalEpisodes: z.number().int().positive(),
  hidden: z.array(z.number().int().positive()).min(1),
});
export type RunFile = z.infer<typeof runFileSchema>;

export const checkpointSchema = z.strictObject({
  step: z.number().int().nonnegative(),
  /** Episodes ended by step `step` (terminated, truncated or cut). */
  episodes: z.number().int().nonnegative(),
  /** True when the last recorded row does not end an episode (it becomes a cut on resume). */
  episodeOpen: z.boolean(),
  snapshot: z.string().min(1),
  explorationRng: z.array(z.number().int()).length(4),
  replayRng: z.array(z.number().int()).length(4),
  /** The transitions files holding steps 1..step, in order. */
  chunks: z.array(
    z.strictObject({ file: z.string().min(1), start: z.number().int(), rows: z.number().int() }),
  ),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export const trainingLineSchema = z.strictObject({
  step: z.number().int().nonnegative(),
  snapshot: z.string().min(1),
  evalReturn: z.number().finite(),
  evalStd: z.number().finite(),
  evalReturns: z.array(z.number().finite()),
  episodes: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  elapsedSeconds: z.number().nonnegative(),
});
export type TrainingLine = z.infer<typeof trainingLineSchema>;

export const paths = (dir: string) => ({
  run: join(dir, 'run.json'),
  checkpoint: join(dir, 'checkpoint.json'),
  training: join(dir, 'training.jsonl'),
  snapshots: join(dir, 'snapshots'),
  transitions: join(dir, 'transitions'),
  snapshot: (step: number) => join('snapshots', `step-${step}.safetensors`),
  chunk: (start: number) => join('transitions', `from-${start}.bin`),
});

/** Writes a file so that readers see either the old or the new content, never a torn one. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BehaviourRunError(`${file}: not readable JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new BehaviourRunError(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function readRunFile(dir: string): RunFile {
  const file = paths(dir).run;
  if (!existsSync(file)) {
    throw new BehaviourRunError(
      `${dir}: not a behaviour run (no run.json; make one with o2o dataset behaviour)`,
    );
  }
  return readJson(file, runFileSchema);
}

export function readCheckpoint(dir: string): Checkpoint | undefined {
  const file = paths(dir).checkpoint;
  return existsSync(file) ? readJson(file, checkpointSchema) : undefined;
}

/** The training log's lines; a torn last line (a crash mid-append) is ignored. */
export function readTrainingLog(file: string): TrainingLine[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: TrainingLine[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      if (i === lines.length - 1) return;
      throw new BehaviourRunError(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    const parsed = trainingLineSchema.safeParse(raw);
    if (!parsed.success) throw new BehaviourRunError(`${file}:${i + 1}: ${z.prettifyError(parsed.error)}`);
    out.push(parsed.data);
  });
  return out;
}

/** Rows of recorded transitions, columnar as in a transitions file. */
export interface TransitionRows {
  rows: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  ends: Uint8Array;
}

export function rowBytes(obsDim: number, actDim: number): number {
  return 4 * (2 * obsDim + actDim + 1) + 1;
}

export function encodeRows(r: TransitionRows): Uint8Array {
  const parts = [r.obs, r.actions, r.rewards, r.nextObs].map(
    (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  );
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + r.ends.length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out.set(r.ends, at);
  return out;
}

export function readChunk(file: string, obsDim: number, actDim: number, expectRows: number): TransitionRows {
  const bytes = readFileSync(file);
  const size = rowBytes(obsDim, actDim);
  if (bytes.length !== expectRows * size) {
    throw new BehaviourRunError(
      `${file}: ${bytes.length} bytes, expected ${expectRows} rows × ${size} bytes (truncated or wrong dims)`,
    );
  }
  // Copy into aligned storage: the Buffer may start at any byte offset of Node's pool.
  const aligned = new Uint8Array(bytes);
  let at = 0;
  const floats = (n: number) => {
    const f = new Float32Array(aligned.buffer, at, n);
    at += 4 * n;
    return f;
  };
  const obs = floats(expectRows * obsDim);
  const actions = floats(expectRows * actDim);
  const rewards = floats(expectRows);
  const nextObs = floats(expectRows * obsDim);
  const ends = aligned.subarray(at, at + expectRows);
  for (let i = 0; i < ends.length; i++) {
    if (ends[i]! > END.cut)
      throw new BehaviourRunError(`${file}: row ${i} has end flag ${ends[i]}, expected 0..3`);
  }
  return { rows: expectRows, obs, actions, rewards, nextObs, ends };
}

/** Files in snapshots/ and transitions/ that no checkpoint refers to (left by a crash), for cleanup. */
export function strayFiles(dir: string, checkpoint: Checkpoint | undefined, logged: string[]): string[] {
  const keep = new Set([...(checkpoint?.chunks.map((c) => c.file) ?? []), ...logged]);
  const out: string[] = [];
  for (const sub of ['snapshots', 'transitions']) {
    const full = join(dir, sub);
    if (!existsSync(full) || !statSync(full).isDirectory()) continue;
    for (const name of readdirSync(full)) {
      const rel = join(sub, name);
      if (!keep.has(rel)) out.push(join(dir, rel));
    }
  }
  return out;
}
