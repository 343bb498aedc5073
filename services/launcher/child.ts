// One service process under the launcher: spawned with `node --import tsx`, its stdout scanned for the
// ready (and done) JSON lines, its stderr forwarded line by line with a prefix, and a stop that sends
// SIGTERM and then SIGKILL after a grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceEvent {
  event: string;
  service?: string;
  address?: string;
  pid?: number;
  [key: string]: unknown;
}

export interface ServiceChild {
  label: string;
  proc: ChildProcess;
  /** Resolves with the ready line; rejects if the process exits (or times out) first. */
  ready: Promise<ServiceEvent>;
  /** Every JSON event line seen on stdout, in order. */
  events: ServiceEvent[];
  /** Resolves with the exit code (or signal name) when the process has exited. */
  exited: Promise<number | string>;
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnServiceOptions {
  label: string;
  /** Script path, run as `node --import tsx <script>`. */
  script: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  readyTimeoutMs: number;
  /** Where prefixed stderr lines go (default process.stderr). */
  forward?: (line: string) => void;
}

export function spawnService(opts: SpawnServiceOptions): ServiceChild {
  const forward = opts.forward ?? ((line: string) => process.stderr.write(`${line}\n`));
  const proc = spawn(process.execPath, ['--import', 'tsx', opts.script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: ServiceEvent[] = [];
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.once('error', (err) => {
      forward(`[launcher] ${opts.label}: ${err.message}`);
      resolve('spawn-error');
    });
  });
  let onReady: (e: ServiceEvent) => void = () => {};
  const ready = new Promise<ServiceEvent>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${opts.label}: no ready line within ${opts.readyTimeoutMs} ms`)),
      opts.readyTimeoutMs,
    );
    onReady = (e) => {
      clearTimeout(timer);
      resolve(e);
    };
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${opts.label} exited (${code}) before it was ready`));
    });
  });
  ready.catch(() => {}); // observed by the caller; never an unhandled rejection here
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let event: ServiceEvent | undefined;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && 'event' in parsed) event = parsed as ServiceEvent;
    } catch {
      // not an event line
    }
    if (event === undefined) {
      forward(`[${opts.label}] ${line}`);
      return;
    }
    events.push(event);
    if (event.event === 'ready') onReady(event);
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    // Services already prefix their lines with [<name>]; add the instance label when it differs.
    forward(line.startsWith(`[${opts.label}]`) ? line : `[${opts.label}] ${line}`);
  });
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) {
        forward(`[launcher] ${opts.label} did not stop within ${graceMs} ms: SIGKILL`);
        proc.kill('SIGKILL');
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { label: opts.label, proc, ready, events, exited, stop };
}
