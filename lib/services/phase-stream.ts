// The JetStream stream behind phase requests and results, and the per-phase result record kept in a run
// directory (phases/<phase>.result.json) that makes handlers idempotent and lets a run be resumed.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { type JetStreamManager, RetentionPolicy, StorageType } from 'nats';
import { Phase, PhaseResult } from '../../generated/proto/o2o/v1/events.js';
import { PHASE_STREAM, PHASE_SUBJECTS, phaseToken } from './subjects.ts';

/** Creates the phase stream if it does not exist (file storage, so events survive a server restart). */
export async function ensurePhaseStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.info(PHASE_STREAM);
    return;
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
  }
  try {
    await jsm.streams.add({
      name: PHASE_STREAM,
      subjects: [PHASE_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // Two minutes of msgID de-duplication (the server default) is enough to absorb a re-published request.
      duplicate_window: 120_000_000_000,
      // Bounded history: a durable created later (a new service) replays at most a week of requests.
      max_age: 7 * 24 * 3600 * 1_000_000_000,
    });
  } catch (err) {
    // Another process created it between our info() and add(): that is fine.
    if (!/already in use|exists/i.test((err as Error).message)) throw err;
  }
}

/** Writes a file atomically (temp file + rename), so a crash never leaves half a JSON document. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Resolves a run directory, refusing one outside `runRoot` when a root is given. */
export function resolveRunDir(runDir: string, runRoot?: string): string {
  if (runDir.trim() === '') throw new Error('run_dir: empty');
  if (runRoot === undefined) return resolve(runDir);
  const root = resolve(runRoot);
  const abs = isAbsolute(runDir) ? resolve(runDir) : resolve(root, runDir);
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`run_dir: ${JSON.stringify(runDir)} is not inside the run root ${root}`);
  }
  return abs;
}

export function phaseResultPath(runDir: string, phase: Phase): string {
  return join(runDir, 'phases', `${phaseToken(phase)}.result.json`);
}

/** Stores a successful result so a repeated request is answered without recomputing. */
export function saveResultRecord(runDir: string, result: PhaseResult): void {
  writeFileAtomic(
    phaseResultPath(runDir, result.phase),
    `${JSON.stringify(PhaseResult.toJSON(result), null, 2)}\n`,
  );
}

/** The stored result for (run_id, phase, attempt), or undefined when there is none (or it is another's). */
export function loadResultRecord(
  runDir: string,
  phase: Phase,
  runId: string,
  attempt: number,
): PhaseResult | undefined {
  const path = phaseResultPath(runDir, phase);
  if (!existsSync(path)) return undefined;
  let parsed: PhaseResult;
  try {
    parsed = PhaseResult.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return undefined; // unreadable record: recompute rather than trust it
  }
  if (parsed.runId !== runId || parsed.phase !== phase || parsed.attempt !== attempt || !parsed.ok) {
    return undefined;
  }
  return parsed;
}

export { Phase };
