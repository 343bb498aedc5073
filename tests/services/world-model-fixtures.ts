// Shared by the world-model service tests and bench: a temporary run root holding a small
// InvertedPendulum-v5 dataset and a small trained world model, and a real service process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import type { ServerSettings } from '../../services/world-model/server.ts';
import { trainAndSave } from '../../services/world-model/training.ts';

export const SMALL_MODEL = {
  latentDim: 4,
  encoderHidden: [32, 32],
  decoderHidden: [32, 32],
  transitionHidden: [32, 32],
};

export interface RunRootFixture {
  root: string;
  /** Relative to root. */
  dataset: string;
  model: string;
}

/** A run root with `data/ip.hdf5` (600 random steps) and `models/wm.safetensors` (3 epochs, small nets). */
export async function makeRunRoot(prefix = 'o2o-wm-'): Promise<RunRootFixture> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const env = makeEnv('InvertedPendulum-v5');
  const data = collectDataset(env, uniformRandomPolicy(env), 600, 3, 'uniform random');
  env.close();
  await saveDataset(data, 'd4rl', join(root, 'data', 'ip.hdf5'));
  await trainAndSave({
    datasetPath: join(root, 'data', 'ip.hdf5'),
    envId: 'InvertedPendulum-v5',
    epochs: 3,
    seed: 4,
    outputPath: join(root, 'models', 'wm.safetensors'),
    batchSize: 128,
    model: SMALL_MODEL,
  });
  return { root, dataset: 'data/ip.hdf5', model: 'models/wm.safetensors' };
}

export interface ServiceProcess {
  child: ChildProcess;
  address: string;
  stderr(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns services/world-model/main.ts and waits for its ready line. */
export async function spawnWorldModelService(env: Record<string, string>): Promise<ServiceProcess> {
  const main = resolve(import.meta.dirname, '../../services/world-model/main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, O2O_WM_PHASE_WORKER: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const address = await new Promise<string>((res, rej) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => rej(new Error(`world-model service not ready after 60 s:\n${err}`)),
      60_000,
    );
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; address?: string };
        if (msg.event === 'ready' && typeof msg.address === 'string') {
          clearTimeout(timer);
          res(msg.address);
        }
      } catch {
        // not JSON: ignore
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`world-model service exited with ${code} before ready:\n${err}`));
    });
  });
  return {
    child,
    address,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return await exited;
    },
  };
}

/** In-process server settings for tests: loopback, native, small waits, generous limits. */
export function testServerSettings(
  runRoot: string,
  model: string | undefined,
  overrides: Partial<ServerSettings> = {},
): ServerSettings {
  return {
    listen: '127.0.0.1:0',
    runRoot,
    seed: 0,
    impl: 'native',
    maxBatchRows: 4096,
    maxWaitMs: 2,
    maxQueueRows: 65536,
    maxMessageBytes: 64 << 20,
    model,
    ...overrides,
  };
}
