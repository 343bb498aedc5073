// The world-model phase over a real nats-server: the service process consumes a PHASE_WORLD_MODEL
// request, trains on the run's dataset, saves the model and report in the run directory, answers with
// the held-out MSE next to both baselines, and then serves the new model over gRPC. A dataset path
// escaping the run directory, or recorded on other env options than the spec's, fails the phase with a
// message naming the input.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase, PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import { requestPhase } from '../../lib/services/phase-client.ts';
import { WorldModelServiceClient } from '../../services/world-model/client.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import {
  makeRunRoot,
  type RunRootFixture,
  type ServiceProcess,
  spawnWorldModelService,
} from './world-model-fixtures.ts';

describe('world-model phase over NATS', function () {
  this.timeout(180_000);
  let fx: RunRootFixture;
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let svc: ServiceProcess;

  before(async () => {
    fx = await makeRunRoot('o2o-wm-phase-');
    mkdirSync(join(fx.root, 'run1'));
    copyFileSync(join(fx.root, fx.dataset), join(fx.root, 'run1', 'dataset.hdf5'));
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    svc = await spawnWorldModelService({
      O2O_RUN_ROOT: fx.root,
      O2O_NATS_URL: nats.url,
      O2O_WM_PHASE_WORKER: 'true',
    });
  });
  after(async () => {
    const code = await svc?.stop();
    await nc?.close();
    await nats?.stop();
    rmSync(fx.root, { recursive: true, force: true });
    assert.equal(code, 0, `service exit code ${code}\n${svc?.stderr()}`);
  });

  const spec = JSON.stringify({
    env: 'InvertedPendulum-v5',
    seed: 2,
    worldModel: { epochs: 2, batchSize: 128, latentDim: 4, hidden: [32, 32] },
  });

  it('trains on inputs.dataset, saves into the run directory, reports baselines and serves the model', async () => {
    const progress: number[] = [];
    const result = await requestPhase(
      nc,
      PhaseRequest.fromPartial({
        runId: 'r1',
        phase: Phase.PHASE_WORLD_MODEL,
        attempt: 1,
        runDir: 'run1',
        specJson: spec,
        inputs: { dataset: 'dataset.hdf5' },
      }),
      { timeoutMs: 120_000, onProgress: (p) => progress.push(p.step) },
    );
    assert.equal(result.ok, true, result.error);
    assert.equal(result.outputs['world_model'], 'world-model.safetensors');
    assert.ok(existsSync(join(fx.root, 'run1', 'world-model.safetensors')));
    const report = JSON.parse(readFileSync(join(fx.root, 'run1', 'world-model-report.json'), 'utf8'));
    assert.equal(report.comparison.length, 4);
    for (const k of ['heldout_mse', 'copy_mse', 'linear_mse'])
      assert.ok(result.metrics[k]! > 0 && Number.isFinite(result.metrics[k]), `${k} = ${result.metrics[k]}`);
    assert.equal(result.metrics['epochs'], 2);
    assert.equal(result.metrics['copy_mse'], report.comparison[0].mseNormalized);
    assert.match(result.handledBy, /^world-model@/);
    const c = new WorldModelServiceClient(svc.address);
    try {
      const info = await c.info();
      assert.equal(info.modelPath, 'run1/world-model.safetensors');
      assert.equal(info.envId, 'InvertedPendulum-v5');
    } finally {
      c.close();
    }
  });

  it("fails the phase before training when the dataset was not recorded on the spec's env options", async () => {
    const result = await requestPhase(
      nc,
      PhaseRequest.fromPartial({
        runId: 'r3',
        phase: Phase.PHASE_WORLD_MODEL,
        attempt: 1,
        runDir: 'run1',
        specJson: JSON.stringify({ ...JSON.parse(spec), envOptions: { resetNoiseScale: 0.05 } }),
        inputs: { dataset: 'dataset.hdf5' },
      }),
      { timeoutMs: 60_000, onProgress: (p) => assert.fail(`trained (epoch ${p.step}) on the wrong rows`) },
    );
    assert.equal(result.ok, false);
    assert.match(
      result.error,
      /inputs\.dataset: recorded on InvertedPendulum-v5, the run is on InvertedPendulum-v5 \(resetNoiseScale=0\.05\)/,
    );
  });

  it('fails the phase with a message naming the input when the dataset escapes the run directory', async () => {
    const result = await requestPhase(
      nc,
      PhaseRequest.fromPartial({
        runId: 'r2',
        phase: Phase.PHASE_WORLD_MODEL,
        attempt: 1,
        runDir: 'run1',
        specJson: spec,
        inputs: { dataset: '../data/ip.hdf5' },
      }),
      { timeoutMs: 60_000 },
    );
    assert.equal(result.ok, false);
    assert.match(result.error, /inputs\.dataset: '\.\.\/data\/ip\.hdf5' contains '\.\.'/);
  });
});
