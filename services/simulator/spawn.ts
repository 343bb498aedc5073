// Starts a simulator as a child process and waits for its ready line (lib/services/spawn-service.ts).
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';

export type SpawnedSimulator = SpawnedService;

/** `env` is added to the current environment (O2O_SIM_*, O2O_NATS_URL, ...). */
export function spawnSimulator(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
): Promise<SpawnedSimulator> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  return spawnService({ name: 'simulator', main, env, readyTimeoutMs, stopGraceMs: 10_000 });
}
