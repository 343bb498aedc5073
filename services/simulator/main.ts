// Entry point: node --import tsx services/simulator/main.ts [--flag value ...]
// Reads its settings from O2O_SIM_* and the shared O2O_* variables (config.ts), serves the Simulator
// gRPC API, announces itself on NATS, prints one JSON ready line on stdout and shuts down cleanly on
// SIGINT/SIGTERM (exit 0).
import { describeEnv, envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { announceReady, exitOnStopSignals } from '../../lib/services/lifecycle.ts';
import { startTelemetry } from '../../lib/telemetry/index.ts';
import { advertisedAddress, loadConfig } from './config.ts';
import { type Heartbeats, startHeartbeats } from './heartbeat.ts';
import { nextIncarnation } from './incarnation.ts';
import { startSimulatorServer } from './server.ts';

function log(message: string): void {
  process.stderr.write(`[simulator] ${message}\n`);
}

async function main(): Promise<void> {
  const telemetry = startTelemetry({ service: 'simulator' });
  const config = loadConfig();
  const incarnation = nextIncarnation(config.runRoot, config.simulatorId);
  const sim = await startSimulatorServer(
    {
      envId: config.envId,
      envOptions: config.envOptions,
      numEnvs: config.numEnvs,
      simulatorId: config.simulatorId,
      incarnation,
      seed: config.seed,
      windowBatches: config.windowBatches,
      batchSteps: config.batchSteps,
    },
    config.listen,
    config.grpcTls.server,
  );
  const address = advertisedAddress(sim.address, config.advertise);
  let heartbeats: Heartbeats | undefined;
  if (config.natsUrl !== 'none') {
    heartbeats = startHeartbeats(
      {
        heartbeat: () => ({
          simulatorId: config.simulatorId,
          address,
          envId: config.envId,
          envOptionsJson: envOptionsJson(config.envOptions),
          numEnvs: config.numEnvs,
          mode: sim.engine.mode,
          stepsTotal: sim.engine.stepsTotal,
          unixMs: Date.now(),
          incarnation,
        }),
      },
      config.heartbeatMs,
      { ...process.env, O2O_NATS_URL: config.natsUrl },
    );
  } else {
    log('O2O_NATS_URL=none: no heartbeats');
  }
  log(
    `${config.simulatorId} (incarnation ${incarnation}) serving ${config.numEnvs}× ${describeEnv(config.envId, config.envOptions)} on ${sim.address} (gRPC ${config.grpcTls.description})` +
      (address === sim.address ? '' : `, announced as ${address}`),
  );
  announceReady('simulator', address);
  exitOnStopSignals(log, 'draining', async () => {
    await heartbeats?.stop();
    await sim.shutdown();
    await telemetry.shutdown();
  });
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
