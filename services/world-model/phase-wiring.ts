// Connects to NATS and consumes PHASE_WORLD_MODEL requests with the durable phase worker
// (lib/services/phase-worker.ts); returns the function that stops the worker and closes the connection.
import { connect, type NatsConnection } from 'nats';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import { natsOptionsFromEnv } from '../../lib/services/nats-options.ts';
import { runPhaseWorker } from '../../lib/services/phase-worker.ts';
import type { WorldModelServiceConfig } from './config.ts';
import { worldModelPhaseHandler } from './phase-handler.ts';
import type { WorldModelState } from './server.ts';

export const WORLD_MODEL_DURABLE = 'world-model';

export async function startPhaseWorker(
  config: WorldModelServiceConfig,
  state: WorldModelState,
  log: (msg: string) => void,
): Promise<() => Promise<void>> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...natsOptionsFromEnv({ ...process.env, O2O_NATS_URL: config.natsUrl }),
      name: `o2o-world-model-${process.pid}`,
    });
  } catch (e) {
    throw new Error(
      `cannot reach NATS at O2O_NATS_URL=${config.natsUrl} for the world-model phase worker (${(e as Error).message}); ` +
        'set O2O_WM_PHASE_WORKER=false or O2O_NATS_URL=none to run gRPC only',
    );
  }
  const worker = await runPhaseWorker(nc, Phase.PHASE_WORLD_MODEL, worldModelPhaseHandler(state), {
    durableName: WORLD_MODEL_DURABLE,
    service: 'world-model',
    runRoot: config.runRoot,
    log,
  });
  worker.done.catch((e: unknown) => log(`phase worker stopped: ${(e as Error).message}`));
  log(`consuming world-model phase requests from ${config.natsUrl}`);
  return async () => {
    await worker.stop({ abandon: true });
    await nc.drain();
  };
}
