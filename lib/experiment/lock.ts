// A lock file that makes one process build a shared cache entry (a world model, an offline pre-training)
// while others wanting the same entry wait. The file holds the owner's pid and host; a lock whose owner
// on this host is no longer alive (killed mid-build) is stale and taken over.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or says who holds it. */
export function tryLock(path: string): { release(): void } | { heldBy: string } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      return {
        release: () => {
          if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(path);
      if (owner === undefined) {
        // Being written right now (held), or left empty by a crash between create and write (stale).
        const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age < 10_000) return { heldBy: 'a process writing the lock' };
        rmSync(path, { force: true });
        continue;
      }
      if (owner.host === hostname() && !isAlive(owner.pid)) {
        rmSync(path, { force: true });
        continue;
      }
      return { heldBy: `pid ${owner.pid} on ${owner.host} since ${owner.since}` };
    }
  }
  return { heldBy: 'a process that took over a stale lock' };
}

/** Waits until the lock is taken; undefined when `shouldStop` says to give up first. */
export async function acquireLock(
  path: string,
  options: { shouldStop?: () => boolean; onWait?: (heldBy: string) => void; pollMs?: number } = {},
): Promise<{ release(): void } | undefined> {
  let told = false;
  for (;;) {
    const got = tryLock(path);
    if ('release' in got) return got;
    if (!told) options.onWait?.(got.heldBy);
    told = true;
    if (options.shouldStop?.()) return undefined;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
