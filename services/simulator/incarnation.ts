// A simulator's incarnation: 1 on its first start, +1 on each restart with the same id, counted in
// <run root>/simulators/<id>.incarnation so that consumers tell a restarted simulator (whose unacked
// batches are gone and whose seqs restart at 1) from its former self.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function nextIncarnation(runRoot: string, simulatorId: string): number {
  const dir = join(runRoot, 'simulators');
  const path = join(dir, `${simulatorId}.incarnation`);
  let previous = 0;
  try {
    const text = readFileSync(path, 'utf8').trim();
    previous = Number(text);
    if (!Number.isInteger(previous) || previous < 0 || previous >= 2 ** 32 - 1) {
      throw new Error(`${path}: expected a counter, found ${JSON.stringify(text)}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const next = previous + 1;
  mkdirSync(dir, { recursive: true });
  // Write-then-rename: a crash mid-write never leaves a truncated counter.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${next}\n`);
  renameSync(tmp, path);
  return next;
}
