// Entry point: node --import tsx services/coordinator/main.ts [--spec FILE] [--run-dir DIR] [--resume true]
// Runs one experiment (config.ts: O2O_COORD_SPEC, O2O_COORD_RUN_DIR, O2O_COORD_RESUME, O2O_RUN_ROOT,
// O2O_NATS_URL) against the services listening on NATS, prints the ready line once connected, then
// {"event":"done","report":...} on stdout and exits 0, or exits 1 when a phase fails. SIGINT/SIGTERM stop
// waiting, keep state.json (resumable) and exit 0.
import { mkdirSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { connect } from 'nats';
import { announceReady } from '../../lib/services/lifecycle.ts';
import { natsOptionsFromEnv } from '../../lib/services/nats-options.ts';
import { type ExperimentSpec, loadSpecFile, specFromJson } from '../../lib/services/spec.ts';
import { startTelemetry } from '../../lib/telemetry/index.ts';
import { loadConfig } from './config.ts';
import { runExperiment } from './coordinator.ts';
import { loadState } from './state.ts';

function log(message: string): void {
  process.stderr.write(`[coordinator] ${message}\n`);
}

/** The run directory inside the run root, refusing one outside it. */
function runDirIn(runRoot: string, runDir: string): string {
  const abs = isAbsolute(runDir) ? resolve(runDir) : resolve(runRoot, runDir);
  const rel = relative(runRoot, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`O2O_COORD_RUN_DIR: ${runDir} is not inside O2O_RUN_ROOT ${runRoot}`);
  }
  return abs;
}

async function main(): Promise<number> {
  const telemetry = startTelemetry({ service: 'coordinator' });
  const config = loadConfig();
  const runRoot = resolve(config.runRoot);
  let spec: ExperimentSpec;
  let runDir: string;
  if (config.resume) {
    if (config.runDir === undefined)
      throw new Error('O2O_COORD_RESUME: needs O2O_COORD_RUN_DIR (the run to resume)');
    runDir = runDirIn(runRoot, config.runDir);
    const state = loadState(runDir);
    if (state === undefined) throw new Error(`O2O_COORD_RUN_DIR: ${runDir} has no state.json to resume`);
    spec = specFromJson(state.specJson);
  } else {
    spec = loadSpecFile(config.spec);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    runDir = runDirIn(runRoot, config.runDir ?? `${spec.name}-${stamp}`);
  }
  mkdirSync(runDir, { recursive: true });

  const abort = new AbortController();
  const onSignal = (signal: string): void => {
    log(`${signal}: stopping (state.json is kept; resume with --resume ${runDir})`);
    abort.abort();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  const nc = await connect({
    ...natsOptionsFromEnv({ ...process.env, O2O_NATS_URL: config.natsUrl }),
    name: 'coordinator',
  });
  announceReady('coordinator');
  let code = 0;
  try {
    const outcome = await runExperiment({
      nc,
      spec,
      runRoot,
      runDir,
      resume: config.resume,
      log,
      signal: abort.signal,
      progressEveryMs: config.progressMs,
    });
    process.stdout.write(
      `${JSON.stringify({ event: 'done', service: 'coordinator', runId: outcome.state.runId, runDir, report: outcome.reportPath })}\n`,
    );
  } catch (err) {
    if (abort.signal.aborted) {
      code = 0;
    } else {
      log(`run failed: ${(err as Error).message}`);
      code = 1;
    }
  } finally {
    await nc.drain().catch(() => {});
    await telemetry.shutdown();
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`fatal: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
