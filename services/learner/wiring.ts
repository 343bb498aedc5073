// Where the handlers' world model and training environment come from in the running service: the
// world-model service (Load, then Predict through a WorldModelLink that waits out outages) or the file
// in-process, and a lockstep simulator given by address or discovered from its heartbeats on NATS.
import { relative, resolve } from 'node:path';
import type { NatsConnection } from 'nats';
import { describeEnv, envOptionsJson, parseEnvOptionsJson } from '../../lib/envs/env-options-text.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { SimulatorClient } from '../simulator/client.ts';
import { RemoteEnv } from '../simulator/remote-env.ts';
import { watchSimulators } from '../simulator/watch.ts';
import type { LearnerConfig } from './config.ts';
import type { ClosableOnlineEnv, ClosableWorldModel } from './deps.ts';
import { DEFAULT_WM_WAIT, WorldModelLink } from './world-model-link.ts';

export async function openWorldModel(
  config: Pick<LearnerConfig, 'wmAddress' | 'runRoot' | 'wmWaitMs'>,
  path: string,
  seed: number,
  onCondition: (message: string) => void = () => {},
): Promise<ClosableWorldModel> {
  if (config.wmAddress === 'in-process') {
    const model = NativeVaeWorldModel.load(path);
    model.reseedNoise(seed);
    return model;
  }
  // The service resolves model paths against the same (shared) run root. Outages are waited out up to
  // O2O_LEARNER_WM_WAIT_MS (world-model-link.ts), then the phase fails.
  const rel = relative(resolve(config.runRoot), path);
  return WorldModelLink.open(
    config.wmAddress,
    rel,
    { ...DEFAULT_WM_WAIT, waitMs: config.wmWaitMs },
    onCondition,
  );
}

export async function openLockstepEnv(
  config: Pick<LearnerConfig, 'simAddress' | 'simWaitMs'>,
  nc: NatsConnection | undefined,
  envId: string,
  envOptions: Record<string, unknown> | undefined,
): Promise<ClosableOnlineEnv> {
  const wanted = describeEnv(envId, envOptions);
  let client: SimulatorClient;
  if (config.simAddress !== '') {
    client = await SimulatorClient.connect(config.simAddress);
  } else {
    if (nc === undefined)
      throw new Error('O2O_LEARNER_SIM_ADDRESS is empty and there is no NATS to find one');
    const watch = watchSimulators(nc, { envId, ...(envOptions === undefined ? {} : { envOptions }) });
    try {
      const idle = (live: ReturnType<typeof watch.live>) =>
        [...live.values()].filter((s) => s.heartbeat.numEnvs === 1 && s.heartbeat.mode !== 'actor');
      await watch
        .waitFor((live) => idle(live).length > 0, config.simWaitMs)
        .catch(() => {
          throw new Error(
            `no idle single-env ${wanted} simulator announced itself on NATS within ${config.simWaitMs} ms ` +
              '(simulators of another env or other options are not taken: O2O_SIM_ENV, O2O_SIM_ENV_OPTIONS)',
          );
        });
      // Freshest heartbeat first; one that died a moment ago may still look alive, so try the next.
      const candidates = idle(watch.live()).sort((a, b) => b.heartbeat.unixMs - a.heartbeat.unixMs);
      const failures: string[] = [];
      let found: SimulatorClient | undefined;
      for (const sim of candidates) {
        try {
          found = await SimulatorClient.connect(sim.heartbeat.address, { connectTimeoutMs: 3_000 });
          break;
        } catch (err) {
          failures.push(`${sim.heartbeat.address}: ${(err as Error).message}`);
        }
      }
      if (found === undefined)
        throw new Error(`no idle ${wanted} simulator answered: ${failures.join('; ')}`);
      client = found;
    } finally {
      watch.stop();
    }
  }
  const env = new RemoteEnv(client, { useStream: true });
  // A configured address is not filtered by heartbeat, and a heartbeat may be stale: ask the simulator.
  if (env.id !== envId || client.meta.envOptionsJson !== envOptionsJson(envOptions)) {
    const runs = describeEnv(
      env.id,
      parseEnvOptionsJson(client.meta.envOptionsJson, `simulator ${client.address}'s env options`),
    );
    env.close();
    client.close();
    throw new Error(`simulator ${client.address} runs ${runs}, the run needs ${wanted}`);
  }
  return {
    id: env.id,
    observationSpace: env.observationSpace,
    actionSpace: env.actionSpace,
    reset: (o) => env.reset(o),
    step: (a) => env.step(a),
    close: () => {
      env.close();
      client.close();
    },
  };
}
