// Starts the learner as a child process and waits for its ready line (lib/services/spawn-service.ts).
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';

export type SpawnedLearner = SpawnedService;

/** `env` is added to the current environment (O2O_LEARNER_*, O2O_NATS_URL, ...). */
export function spawnLearner(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<SpawnedLearner> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  return spawnService({ name: 'learner', main, env, readyTimeoutMs, stopGraceMs: 30_000 });
}
