// Fault: the world-model service dies (SIGKILL) during offline pre-training with augmentation. Real
// processes: nats-server, a world-model service on a fixed port, the learner (O2O_LEARNER_WM_WAIT_MS).
// 1. It comes back (same port, no model loaded) within the wait: the learner reported the outage in its
//    phase progress and Status, re-Loaded the model, and finished with every batch augmented — ⌊p·B⌋ rows
//    replaced in each of the phase's updates, before and after the outage.
// 2. It does not come back: the phase fails with the policy's message naming the address and the wait,
//    and Status says so; nothing is trained on with p = 0.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type NatsConnection } from 'nats';
import { Phase, type PhaseProgress } from '../../generated/proto/o2o/v1/events.js';
import { requestPhase } from '../../lib/services/phase-client.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { type SpawnedLearner, spawnLearner } from '../../services/learner/spawn.ts';
import { DEFAULT_WM_WAIT, retrySchedule } from '../../services/learner/world-model-link.ts';
import { WorldModelServiceClient } from '../../services/world-model/client.ts';
import { freePort, type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { makeWorkload, request, tinySpec, type Workload } from '../services/learner-fixture.ts';
import { type ServiceProcess, spawnWorldModelService } from '../services/world-model-fixtures.ts';

const WAIT_MS = 15_000;
const STEPS = 300;
const BATCH = 64;
const AUG = 0.5;
const ROWS_PER_BATCH = Math.floor(AUG * BATCH);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('fault: world-model service unavailable during offline pre-training', function () {
  this.timeout(180_000);
  let w: Workload;
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let wm: ServiceProcess | undefined;
  let learner: SpawnedLearner;
  let status: LearnerServiceClient;
  let wmEnv: Record<string, string>;
  let address: string;

  before(async () => {
    [w, nats] = await Promise.all([makeWorkload(), startNatsServer()]);
    address = `127.0.0.1:${await freePort()}`;
    wmEnv = { O2O_RUN_ROOT: w.root, O2O_LISTEN: address, O2O_NATS_URL: 'none' };
    wm = await spawnWorldModelService(wmEnv);
    learner = await spawnLearner({
      O2O_NATS_URL: nats.url,
      O2O_RUN_ROOT: w.root,
      O2O_LEARNER_WM_ADDRESS: address,
      O2O_LEARNER_WM_WAIT_MS: String(WAIT_MS),
      O2O_LEARNER_PROGRESS_MS: '100',
    });
    nc = await connect({ servers: nats.url });
    status = new LearnerServiceClient(learner.address);
  });

  after(async () => {
    status?.close();
    await nc?.drain();
    await Promise.all([learner?.stop(), wm?.stop()]);
    await nats?.stop();
    rmSync(w.root, { recursive: true, force: true });
  });

  /** Starts an offline phase and SIGKILLs the world model once the learner is `atStep` updates in. */
  async function offlineWithOutage(runId: string, atStep: number) {
    const spec = tinySpec({
      offline: { steps: STEPS, batchSize: BATCH, augFraction: AUG, evalEvery: STEPS, evalEpisodes: 1 },
    });
    const progress: PhaseProgress[] = [];
    const pending = requestPhase(
      nc,
      request(
        Phase.PHASE_OFFLINE,
        spec,
        { dataset: 'dataset.hdf5', world_model: 'world-model.safetensors' },
        runId,
      ),
      { timeoutMs: 150_000, onProgress: (p) => progress.push(p) },
    );
    for (;;) {
      const s = await status.status();
      if (s.runId === runId && s.phase === 'offline' && s.step >= atStep) break;
      await sleep(20);
    }
    wm!.child.kill('SIGKILL');
    await wm!.stop();
    wm = undefined;
    return { pending, progress };
  }

  /** The progress/Status message of a retry: address, k/n (n from the policy's schedule), the pause. */
  const unreachable = () => {
    const n = retrySchedule({ ...DEFAULT_WM_WAIT, waitMs: WAIT_MS });
    return new RegExp(
      `^world model unreachable at ${address.replaceAll('.', '\\.')}, retry (\\d+)/${n.length}, next in [\\d.]+ s`,
    );
  };

  it('waits with backoff, reports it, re-Loads the model on the restarted service and keeps augmenting ⌊p·B⌋ rows', async () => {
    const { pending, progress } = await offlineWithOutage('wm-back', 60);
    // Seen in the phase progress and in Status while the service is down.
    for (let i = 0; !progress.some((p) => unreachable().test(p.message)); i++) {
      assert.ok(i < 500, 'an "unreachable" progress message within 10 s');
      await sleep(20);
    }
    const during = await status.status();
    assert.match(during.condition, unreachable());
    const stepAtOutage = during.step;
    wm = await spawnWorldModelService(wmEnv); // same port, nothing loaded
    const result = await pending;
    assert.equal(result.ok, true, `${result.error}\n${learner.stderr()}`);

    // Every update replaced ⌊p·B⌋ next states, the ones after the outage included.
    assert.equal(result.metrics['augmented_batches'], STEPS);
    assert.equal(result.metrics['augmented_rows'], STEPS * ROWS_PER_BATCH);
    const after = progress.filter((p) => p.step > stepAtOutage && p.metrics['augmented_rows'] !== undefined);
    assert.ok(after.length > 0, 'progress after the outage');
    for (const p of after) assert.equal(p.metrics['augmented_rows'], p.step * ROWS_PER_BATCH, `at ${p.step}`);
    // The restarted service was given the model by the learner, and the outage is over in Status.
    const admin = new WorldModelServiceClient(address);
    try {
      assert.equal((await admin.info()).modelPath, 'run-1/world-model.safetensors');
    } finally {
      admin.close();
    }
    assert.equal((await status.status()).condition, '');
    assert.match(learner.stderr(), /world model reachable again/);
  });

  it('fails the phase with a message naming the address and the wait when the service stays away', async () => {
    const started = Date.now();
    const { pending, progress } = await offlineWithOutage('wm-gone', 30);
    const result = await pending;
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.ok, false, 'the phase must fail, not go on with p = 0');
    const gaveUp = new RegExp(
      `world model unreachable at ${address.replaceAll('.', '\\.')}: Predict gave up after \\d+ retries over [\\d.]+ s \\(O2O_LEARNER_WM_WAIT_MS=${WAIT_MS}\\)`,
    );
    assert.match(result.error, gaveUp);
    assert.ok(seconds >= WAIT_MS / 1000, `waited the whole ${WAIT_MS} ms (took ${seconds} s)`);
    assert.ok(progress.some((p) => unreachable().test(p.message)));
    assert.match((await status.status()).condition, gaveUp);
  });
});
