// Entry point of the world-model service: `node --import tsx services/world-model/main.ts [--flag v]`.
// Prints one JSON ready line on stdout; logs go to stderr prefixed [world-model]; SIGINT/SIGTERM stop
// accepting work, answer what is queued, close gRPC (and NATS) and exit 0.
import { announceReady, exitOnStopSignals } from '../../lib/services/lifecycle.ts';
import { startTelemetry } from '../../lib/telemetry/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './server.ts';

const log = (msg: string): void => {
  process.stderr.write(`[world-model] ${msg}\n`);
};

async function main(): Promise<void> {
  const telemetry = startTelemetry({ service: 'world-model' });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      log(`configuration error: ${e.message}`);
      await telemetry.shutdown();
      process.exit(2);
    }
    throw e;
  }
  const running = await startServer({ ...config, serverTls: config.grpcTls.server });
  const stops: (() => Promise<void>)[] = [];
  if (config.phaseWorker && config.natsUrl !== 'none') {
    const { startPhaseWorker } = await import('./phase-wiring.ts');
    stops.push(await startPhaseWorker(config, running.state, log));
  } else log('no NATS phase worker (O2O_WM_PHASE_WORKER=false or O2O_NATS_URL=none): gRPC only');
  log(
    `serving ${config.impl} on ${running.address}, run root ${config.runRoot}, batch ≤ ${config.maxBatchRows} rows / ${config.maxWaitMs} ms, queue ≤ ${config.maxQueueRows} rows, gRPC ${config.grpcTls.description}${config.model === undefined ? ', no model loaded' : `, model ${config.model}`}`,
  );
  announceReady('world-model', running.address);
  exitOnStopSignals(log, 'draining', async () => {
    for (const s of stops) await s();
    await running.shutdown();
    await telemetry.shutdown();
  });
}

main().catch((e: unknown) => {
  log(`fatal: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
