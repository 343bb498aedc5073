// The one-command run: a nats-server (JetStream, store under the run directory) on a free loopback port,
// then the world-model service, the simulators and the learner (pointed at the world model's address),
// and finally the coordinator on the spec. Every service writes its spans into <run dir>/traces, so the
// report can summarise the run's trace. Once up, the launcher supervises them: nats-server, the world
// model, the simulators and the learner are restarted when they die, and the coordinator when it is
// killed (as a resume) (restart-policy.ts: same settings, same address, exponential backoff, a bounded
// number of times); a service it gives up on stops the run. Ctrl-C, a service dying before it was ready, the coordinator failing or a restart budget spent
// stops everything (SIGTERM, then SIGKILL after a grace period); the result says how it ended.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { loadSpecFile, specFromJson } from '../../lib/services/spec.ts';
import { REPORT_FILE, rewriteReport } from '../coordinator/report.ts';
import { loadState } from '../coordinator/state.ts';
import { type ServiceChild, spawnService } from './child.ts';
import {
  describeRestartPolicy,
  type RestartPolicy,
  restartDelayMs,
  restartPolicy,
  restartPolicyFromEnv,
} from './restart-policy.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const NATS_SERVER_BIN = process.env['O2O_NATS_SERVER'] ?? '/usr/sbin/nats-server';

export interface LaunchOptions {
  /** Spec file (not needed with `resume`). */
  specPath?: string;
  /** Run directory (created); with `resume`, the run to continue. */
  runDir: string;
  resume?: boolean;
  /** Simulator processes (default: the spec's online.simulators). */
  simulators?: number;
  /** Extra environment for every service (e.g. O2O_LEARNER_PROGRESS_MS). */
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  graceMs?: number;
  log?: (line: string) => void;
  /** Abort to stop the run (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** What to do when a service dies mid-run (default: O2O_RUN_* variables, else DEFAULT_RESTART_POLICY). */
  restart?: Partial<RestartPolicy>;
  /** Where the services' prefixed stderr lines go (default process.stderr). */
  forward?: (line: string) => void;
  /** Called whenever a process is up: at start and after every restart ('nats-server' included). */
  onReady?: (label: string, info: { pid: number; address?: string }) => void;
}

/** A service under supervision: how to start it again, and its current process. */
interface Supervised {
  label: string;
  script: string;
  env: NodeJS.ProcessEnv;
  child: ServiceChild;
  restarts: number;
  /** The gRPC address it first announced (kept across restarts). */
  address?: string;
  wasReady?: boolean;
}

export interface LaunchResult {
  ok: boolean;
  /** report.md, when the coordinator wrote one. */
  reportPath: string | undefined;
  runDir: string;
  /** Why the run did not finish, when !ok. */
  reason?: string;
}

async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no free port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
  });
}

async function startNats(
  storeDir: string,
  log: (l: string) => void,
  fixedPort?: number,
): Promise<{ proc: ChildProcess; url: string; port: number }> {
  if (!existsSync(NATS_SERVER_BIN)) {
    throw new Error(
      `nats-server not found at ${NATS_SERVER_BIN} (apt-get install nats-server, or set O2O_NATS_SERVER)`,
    );
  }
  mkdirSync(storeDir, { recursive: true });
  const port = fixedPort ?? (await freePort());
  const proc = spawn(NATS_SERVER_BIN, ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  proc.stderr?.on('data', (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-4000);
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited (${proc.exitCode}):\n${tail}`);
    if (await canConnect(port)) {
      log(`nats-server on 127.0.0.1:${port}, store ${storeDir}`);
      return { proc, url: `nats://127.0.0.1:${port}`, port };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`nats-server did not accept connections on ${port}:\n${tail}`);
}

export async function launch(opts: LaunchOptions): Promise<LaunchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[launcher] ${line}\n`));
  const runDir = resolve(opts.runDir);
  const runRoot = dirname(runDir);
  const spec =
    opts.resume === true
      ? (() => {
          const state = loadState(runDir);
          if (state === undefined) throw new Error(`--resume ${runDir}: no state.json there`);
          return specFromJson(state.specJson);
        })()
      : loadSpecFile(
          opts.specPath ?? fileURLToPath(new URL('../coordinator/specs/default.yaml', import.meta.url)),
        );
  mkdirSync(runDir, { recursive: true });
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const graceMs = opts.graceMs ?? 10_000;

  const policy = restartPolicy(opts.restart ?? restartPolicyFromEnv());
  const natsStore = join(runDir, 'nats');
  let nats = await startNats(natsStore, log);
  opts.onReady?.('nats-server', { pid: nats.proc.pid ?? 0, address: `127.0.0.1:${nats.port}` });
  /** Every service in start order; `child` is the current process (replaced on a restart). */
  const services: Supervised[] = [];
  let finished = false;
  let failure: string | undefined;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((r) => {
    wake = r;
  });
  const fail = (reason: string): void => {
    failure ??= reason;
    wake();
  };
  const onAbort = (): void => fail('interrupted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) onAbort();
  /** Sleeps `ms`, or less when the run ends meanwhile. */
  const pause = (ms: number): Promise<void> =>
    Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), stopped]);

  // nats-server: restarted on the same port and store, so clients reconnect by themselves and JetStream
  // (file storage) keeps every phase request, result and durable consumer.
  let natsRestarts = 0;
  const superviseNats = (): void => {
    nats.proc.once('exit', (code, signal) => {
      if (finished) return;
      void (async () => {
        const how = code ?? signal;
        if (natsRestarts >= policy.maxRestarts) {
          fail(`nats-server exited unexpectedly (${how}) after ${natsRestarts} restart(s); giving up`);
          return;
        }
        natsRestarts++;
        const delay = restartDelayMs(policy, natsRestarts);
        log(
          `nats-server exited unexpectedly (${how}); restart ${natsRestarts}/${policy.maxRestarts} in ${delay} ms`,
        );
        await pause(delay);
        if (finished || failure !== undefined) return;
        let restarted: Awaited<ReturnType<typeof startNats>>;
        try {
          restarted = await startNats(natsStore, log, nats.port);
        } catch (err) {
          fail(`nats-server could not be restarted: ${(err as Error).message}`);
          return;
        }
        if (finished) {
          restarted.proc.kill('SIGTERM'); // the run ended while it was starting: leave nothing behind
          return;
        }
        nats = restarted;
        opts.onReady?.('nats-server', { pid: nats.proc.pid ?? 0, address: `127.0.0.1:${nats.port}` });
        superviseNats();
      })();
    });
  };
  superviseNats();

  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    O2O_NATS_URL: nats.url,
    O2O_RUN_ROOT: runRoot,
    O2O_LISTEN: '127.0.0.1:0',
    O2O_SEED: String(spec.seed),
    O2O_TRACE_DIR: join(runDir, 'traces'),
    ...opts.env,
  };
  delete baseEnv['O2O_TRACE_FILE']; // one file per process, in the run's trace directory

  const spawnChild = (svc: Pick<Supervised, 'label' | 'script' | 'env'>): ServiceChild =>
    spawnService({
      label: svc.label,
      script: join(REPO_ROOT, svc.script),
      env: svc.env,
      cwd: REPO_ROOT,
      readyTimeoutMs,
      ...(opts.forward === undefined ? {} : { forward: opts.forward }),
    });

  let coordinatorEnded: (end: { code: number; child: ServiceChild }) => void = () => {};
  const coordinatorEnd = new Promise<{ code: number; child: ServiceChild }>((r) => {
    coordinatorEnded = r;
  });

  /** Restarts `svc` after its (ready) process exited, or fails the run when its budget is spent. */
  const supervise = (svc: Supervised, child: ServiceChild): void => {
    void child.exited.then(async (code) => {
      if (finished || failure !== undefined || svc.child !== child) return;
      if (svc.label === 'coordinator') {
        // An exit code is the coordinator's own verdict; a signal (kill -9) is a crash, restarted below
        // as a resume: finished phases are skipped, and the phase in flight is asked for again with the
        // same msgID (de-duplicated) and its result read from the stream, so it is not run twice.
        if (typeof code === 'number') {
          coordinatorEnded({ code, child });
          return;
        }
        svc.env = { ...svc.env, O2O_COORD_RESUME: 'true' };
      }
      if (svc.restarts >= policy.maxRestarts) {
        fail(
          `${svc.label} exited unexpectedly (${code}) after ${svc.restarts} restart(s); giving up ` +
            `(${describeRestartPolicy(policy)})`,
        );
        return;
      }
      svc.restarts++;
      const delay = restartDelayMs(policy, svc.restarts);
      log(
        `${svc.label} exited unexpectedly (${code}); restart ${svc.restarts}/${policy.maxRestarts} in ${delay} ms`,
      );
      await pause(delay);
      if (finished || failure !== undefined) return;
      // Same address as before, so clients holding it (the learner's world-model address) reconnect.
      if (svc.address !== undefined) svc.env = { ...svc.env, O2O_LISTEN: svc.address };
      const next = spawnChild(svc);
      svc.child = next;
      supervise(svc, next);
      const ready = await next.ready.catch((err: unknown) => {
        log(`${svc.label}: restart ${svc.restarts} failed: ${(err as Error).message}`);
        return undefined;
      });
      if (ready === undefined) return; // its exit is handled by supervise(), with the next restart
      log(
        `${svc.label} restarted${ready.address === undefined ? '' : ` on ${ready.address}`} (pid ${ready.pid})`,
      );
      opts.onReady?.(svc.label, {
        pid: ready.pid ?? 0,
        ...(ready.address === undefined ? {} : { address: ready.address }),
      });
    });
  };

  const start = async (label: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<ServiceChild> => {
    const settings = { label, script, env: { ...baseEnv, ...env } };
    const child = spawnChild(settings);
    const svc: Supervised = { ...settings, child, restarts: 0 };
    services.push(svc);
    // Until it is ready, a dying service stops the run (a bad setting would only die again).
    void child.exited.then((code) => {
      if (!finished && svc.wasReady !== true) fail(`${label} exited unexpectedly (${code})`);
    });
    const ready = await Promise.race([child.ready, stopped.then(() => undefined)]);
    if (ready === undefined) throw new Error(failure ?? 'stopped');
    svc.wasReady = true;
    if (ready.address !== undefined) svc.address = ready.address;
    supervise(svc, child);
    log(`${label} ready${ready.address === undefined ? '' : ` on ${ready.address}`} (pid ${ready.pid})`);
    opts.onReady?.(label, {
      pid: ready.pid ?? 0,
      ...(ready.address === undefined ? {} : { address: ready.address }),
    });
    return child;
  };

  let reportPath: string | undefined;
  try {
    log(`restart policy: ${describeRestartPolicy(policy)}`);
    const wm = await start('world-model', 'services/world-model/main.ts');
    const wmAddress = (await wm.ready).address;
    if (wmAddress === undefined) throw new Error('world-model: ready line without an address');
    const sims = opts.simulators ?? spec.online.simulators;
    await Promise.all(
      Array.from({ length: sims }, (_, i) =>
        start(`simulator-${i + 1}`, 'services/simulator/main.ts', {
          O2O_SIM_ENV: spec.env,
          O2O_SIM_ENV_OPTIONS: envOptionsJson(spec.envOptions),
          O2O_SIM_ID: `sim-${i + 1}`,
          O2O_SEED: String(spec.seed + 1000 * (i + 1)),
        }),
      ),
    );
    // The learner takes its online mode from its environment, the spec says which one this run uses.
    await start('learner', 'services/learner/main.ts', {
      O2O_LEARNER_WM_ADDRESS: wmAddress,
      O2O_LEARNER_ONLINE_MODE: spec.online.mode,
    });
    await start('coordinator', 'services/coordinator/main.ts', {
      O2O_COORD_RUN_DIR: basename(runDir),
      O2O_COORD_RESUME: opts.resume === true ? 'true' : 'false',
      ...(opts.specPath === undefined ? {} : { O2O_COORD_SPEC: resolve(opts.specPath) }),
    });
    const end = await Promise.race([coordinatorEnd, stopped.then(() => undefined)]);
    const done = end?.child.events.find((e) => e.event === 'done');
    if (typeof done?.['report'] === 'string') reportPath = done['report'];
    if (end === undefined) fail(failure ?? 'stopped');
    else if (end.code !== 0) fail(`coordinator exited with ${end.code}`);
    else if (done === undefined) fail('coordinator stopped before the run was over (no done event)');
  } catch (err) {
    fail((err as Error).message);
  } finally {
    finished = true;
    opts.signal?.removeEventListener('abort', onAbort);
    // Coordinator first (it stops asking), then the learner, simulators and world model, then NATS.
    for (const svc of [...services].reverse()) await svc.child.stop(graceMs);
    const proc = nats.proc;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          proc.kill('SIGKILL');
          r();
        }, graceMs);
        proc.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  // Every service has stopped and flushed its spans: the report's trace section can now hold the whole
  // run (the coordinator wrote it before its run span ended).
  try {
    rewriteReport(runDir);
  } catch (err) {
    log(`report.md kept as the coordinator wrote it: ${(err as Error).message}`);
  }
  if (reportPath === undefined && existsSync(join(runDir, REPORT_FILE)))
    reportPath = join(runDir, REPORT_FILE);
  return failure === undefined
    ? { ok: true, reportPath, runDir }
    : { ok: false, reportPath, runDir, reason: failure };
}
