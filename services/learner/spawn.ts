// Starts the learner as a child process (node --import tsx services/learner/main.ts) and waits for its
// ready line: for tests and local launchers that need a real, separate process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedLearner {
  address: string;
  pid: number;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | string>;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

/** `env` is added to the current environment (O2O_LEARNER_*, O2O_NATS_URL, ...). */
export async function spawnLearner(
  env: Record<string, string>,
  readyTimeoutMs = 90_000,
): Promise<SpawnedLearner> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    if (err.length > 64_000) err = err.slice(-32_000);
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const ready = await new Promise<{ address: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`learner not ready within ${readyTimeoutMs} ms:\n${err}`));
    }, readyTimeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: { event?: string; address?: string; pid?: number };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.event === 'ready' && typeof msg.address === 'string' && typeof msg.pid === 'number') {
        clearTimeout(timer);
        resolve({ address: msg.address, pid: msg.pid });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`learner exited (${code}) before it was ready:\n${err}`));
    });
  });
  return {
    ...ready,
    child,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
