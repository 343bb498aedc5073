// Hooks the world-model phase handler to NATS once lib/services/phase-worker.ts (the coordinator
// helper's durable JetStream consumer) exists; until then the service runs gRPC only and says so.
import type { WorldModelServiceConfig } from './config.ts';
import type { WorldModelState } from './server.ts';

export async function startPhaseWorker(
  _config: WorldModelServiceConfig,
  _state: WorldModelState,
  log: (msg: string) => void,
): Promise<(() => Promise<void>) | undefined> {
  log('NATS phase worker not wired yet (lib/services/phase-worker.ts missing): gRPC only');
  return undefined;
}
