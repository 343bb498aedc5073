// Starts a service as a child process (node --import tsx services/<name>/main.ts) and waits for its
// ready line ({"event":"ready","address":...,"pid":...} on stdout): for tests, benchmarks and local
// launchers that need real, separate processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedService {
  address: string;
  pid: number;
  child: ChildProcess;
  /** The last ~32–64 kB written to stderr. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface SpawnServiceOptions {
  /** For messages ("learner", "simulator"). */
  name: string;
  /** Absolute path of the service's main.ts. */
  main: string;
  /** Added to the current environment. */
  env: Record<string, string>;
  readyTimeoutMs: number;
  /** Default grace before SIGKILL in stop(). */
  stopGraceMs: number;
}

export async function spawnService(opts: SpawnServiceOptions): Promise<SpawnedService> {
  const { name, readyTimeoutMs } = opts;
  const child = spawn(process.execPath, ['--import', 'tsx', opts.main], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
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
      reject(new Error(`${name} not ready within ${readyTimeoutMs} ms:\n${err}`));
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
      reject(new Error(`${name} exited (${code}) before it was ready:\n${err}`));
    });
  });
  return {
    ...ready,
    child,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = opts.stopGraceMs) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
