// Where the handlers' world model and training environment come from in the running service: the
// world-model service (Load, then Predict through a WorldModelLink that waits out outages) or the file
// in-process, and a lockstep simulator given by address or discovered from its heartbeats on NATS.
import { relative, resolve } from 'node:path';
import type { NatsConnection } from 'nats';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { RemoteEnv, SimulatorClient, watchSimulators } from '../simulator/client.ts';
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
): Promise<ClosableOnlineEnv> {
  let address = config.simAddress;
  if (address === '') {
    if (nc === undefined)
      throw new Error('O2O_LEARNER_SIM_ADDRESS is empty and there is no NATS to find one');
    const watch = watchSimulators(nc, { envId });
    try {
      const idle = (live: ReturnType<typeof watch.live>) =>
        [...live.values()].some((s) => s.heartbeat.numEnvs === 1 && s.heartbeat.mode !== 'actor');
      await watch.waitFor(idle, config.simWaitMs);
      const found = [...watch.live().values()].find(
        (s) => s.heartbeat.numEnvs === 1 && s.heartbeat.mode !== 'actor',
      );
      address = found!.heartbeat.address;
    } finally {
      watch.stop();
    }
  }
  const client = await SimulatorClient.connect(address);
  const env = new RemoteEnv(client, { useStream: true });
  if (env.id !== envId) {
    client.close();
    throw new Error(`simulator ${address} runs ${env.id}, the run needs ${envId}`);
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
