// Starts a real nats-server for a test on a free loopback port (JetStream on by default, storage in a
// fresh temp dir) and waits until it accepts TCP connections. `restart()` brings it back on the same port
// with the same store, so tests can check that durable state survives a server restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER_BIN = process.env['O2O_NATS_SERVER'] ?? '/usr/sbin/nats-server';

export interface NatsServerOptions {
  jetstream?: boolean;
  /** Client token (`--auth`); clients must connect with `{ token }`. */
  token?: string;
  user?: string;
  password?: string;
  /** How long to wait for the server to accept connections (ms). */
  startTimeoutMs?: number;
  /** Further nats-server flags, e.g. `['--tls', '--tlscert', cert, '--tlskey', key]`. */
  extraArgs?: string[];
}

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` (no credentials in it). */
  url: string;
  port: number;
  /** JetStream store directory ('' without JetStream). */
  storeDir: string;
  /** Graceful stop (SIGTERM, then SIGKILL after 5 s) and removal of the store directory. */
  stop(): Promise<void>;
  /** Abrupt SIGKILL (a crash); the store is kept so `restart()` can recover it. */
  kill(): Promise<void>;
  /** Stops (if running) and starts again on the same port and store. */
  restart(): Promise<void>;
  /** Everything the server wrote to stdout/stderr so far (for failure messages). */
  log(): string;
}

/** A port the OS considers free right now (bound on loopback, then released). */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  if (!existsSync(NATS_SERVER_BIN)) {
    throw new Error(
      `nats-server not found at ${NATS_SERVER_BIN}; install it (apt-get install nats-server) or set O2O_NATS_SERVER`,
    );
  }
  if ((opts.user === undefined) !== (opts.password === undefined)) {
    throw new Error('startNatsServer: user and password must be given together');
  }
  const jetstream = opts.jetstream ?? true;
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const port = await freePort();
  const storeDir = jetstream ? mkdtempSync(join(tmpdir(), 'o2o-nats-')) : '';
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (jetstream) args.push('-js', '-sd', storeDir);
  if (opts.token !== undefined) args.push('--auth', opts.token);
  if (opts.user !== undefined && opts.password !== undefined) {
    args.push('--user', opts.user, '--pass', opts.password);
  }
  if (opts.extraArgs !== undefined) args.push(...opts.extraArgs);

  let output = '';
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const append = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 64_000) output = output.slice(-32_000);
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError !== undefined) throw new Error(`nats-server failed to start: ${spawnError.message}`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `nats-server exited (${proc.exitCode ?? proc.signalCode}) while starting:\n${output}`,
        );
      }
      if (await canConnect(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    throw new Error(
      `nats-server did not accept connections on port ${port} within ${startTimeoutMs} ms:\n${output}`,
    );
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    if (!(await waitForExit(proc, 5_000))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5_000);
    }
  };

  try {
    await launch();
  } catch (err) {
    await terminate('SIGKILL');
    if (storeDir !== '') rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop: async () => {
      await terminate('SIGTERM');
      if (storeDir !== '') rmSync(storeDir, { recursive: true, force: true });
    },
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
    log: () => output,
  };
}
