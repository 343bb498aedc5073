// `o2o experiment ... --commit`: each finished run is committed to git as soon as it finishes, with the
// shared cache entries it used (markers, reports and rows; checkpoints are git-ignored), so a session cut
// off mid-grid keeps every run it finished. Only those paths go into the commit: whatever else is staged
// or changed in the work tree is left as it is.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sharedEntries } from './cache-entry.ts';
import { readDone } from './done-record.ts';
import type { GridRun } from './grid.ts';

/** The run's directory and the cache entries it was built from. */
export function resultPaths(run: GridRun): string[] {
  const paths = [run.paths.runDir, ...sharedEntries(run).map((e) => dirname(e.marker))];
  return paths.filter((p) => existsSync(p)).map((p) => resolve(p));
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export type CommitOutcome = { committed: true; commit: string } | { committed: false; reason: string };

/** Commits the finished run's files; never throws (a failure leaves them for a manual commit). */
export function commitRunResults(run: GridRun): CommitOutcome {
  const paths = resultPaths(run);
  const cwd = run.paths.runDir;
  try {
    if (git(cwd, ['status', '--porcelain', '--', ...paths]).trim() === '') {
      return { committed: false, reason: 'nothing new to commit' };
    }
    git(cwd, ['add', '--', ...paths]);
    const done = readDone(run.paths.done);
    const final = done?.finalReturn == null ? '' : ` (final return ${Math.round(done.finalReturn)})`;
    const shared = paths.length > 1 ? ', with the shared pre-training it used' : '';
    const message = `results: ${run.id}${final}${shared}\n\nCommitted by o2o experiment --commit.`;
    git(cwd, ['commit', '--quiet', '--only', '-m', message, '--', ...paths]);
    return { committed: true, commit: git(cwd, ['rev-parse', '--short', 'HEAD']).trim() };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? '').trim().split('\n').slice(-2).join(' | ') || err.message;
    return { committed: false, reason: why };
  }
}
