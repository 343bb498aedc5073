// Starts a simulator as a child process (node --import tsx services/simulator/main.ts) and waits for its
// ready line: for tests, benchmarks and local launchers that need real, separate processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedSimulator {
  address: string;
  pid: number;
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

/** `env` is added to the current environment (O2O_SIM_*, O2O_NATS_URL, ...). */
export async function spawnSimulator(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
): Promise<SpawnedSimulator> {
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
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulator not ready within ${readyTimeoutMs} ms:\n${err}`));
    }, readyTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined || !out.includes('\n')) return;
      clearTimeout(timer);
      try {
        const msg = JSON.parse(line) as { event?: string; address?: string; pid?: number };
        if (msg.event !== 'ready' || typeof msg.address !== 'string' || typeof msg.pid !== 'number') {
          throw new Error(`unexpected first line ${line}`);
        }
        resolve({ address: msg.address, pid: msg.pid });
      } catch (e) {
        reject(e);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited (${code}) before it was ready:\n${err}`));
    });
  });
  return {
    ...ready,
    child,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
