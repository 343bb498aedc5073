// The learner as a real process among real services: nats-server, a simulator process (lockstep,
// discovered from its heartbeats) and a world-model service process. Phase requests go through
// JetStream; the online curve must equal the in-process run's; Status/Evaluate over gRPC; SIGTERM in the
// middle of an online phase checkpoints and exits 0, and a restarted learner resumes the redelivered request.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { connect, type NatsConnection } from 'nats';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import { makeEnv } from '../../lib/envs/registry.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { evaluatePolicy } from '../../lib/rl/evaluate.ts';
import { requestPhase } from '../../lib/services/phase-client.ts';
import { loadOnlineCheckpoint } from '../../services/learner/checkpoint.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { type SpawnedLearner, spawnLearner } from '../../services/learner/spawn.ts';
import { type SpawnedSimulator, spawnSimulator } from '../../services/simulator/spawn.ts';
import { WorldModelServiceClient } from '../../services/world-model/client.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { inProcessFineTune, makeWorkload, request, tinySpec, type Workload } from './learner-fixture.ts';
import { type ServiceProcess, spawnWorldModelService } from './world-model-fixtures.ts';

const jsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; returnMean: number });

describe('services/learner process', function () {
  this.timeout(300_000);
  let w: Workload;
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let sim: SpawnedSimulator;
  let wm: ServiceProcess;
  let learner: SpawnedLearner;
  let learnerEnv: Record<string, string>;

  before(async () => {
    [w, nats] = await Promise.all([makeWorkload(), startNatsServer()]);
    const shared = { O2O_NATS_URL: nats.url, O2O_RUN_ROOT: w.root };
    learnerEnv = {
      ...shared,
      O2O_LEARNER_CHECKPOINT_EVERY: '50',
      O2O_LEARNER_PROGRESS_MS: '200',
      O2O_LEARNER_SIM_WAIT_MS: '30000',
    };
    [sim, wm] = await Promise.all([
      spawnSimulator({
        ...shared,
        O2O_SIM_ENV: 'InvertedPendulum-v5',
        O2O_SIM_ID: 'sim-l',
        O2O_SIM_HEARTBEAT_MS: '200',
      }),
      spawnWorldModelService(shared),
    ]);
    learnerEnv.O2O_LEARNER_WM_ADDRESS = wm.address;
    learner = await spawnLearner(learnerEnv);
    nc = await connect({ servers: nats.url });
  });

  after(async () => {
    await nc?.drain();
    await Promise.all([learner?.stop(), sim?.stop(), wm?.stop()]);
    await nats?.stop();
    rmSync(w.root, { recursive: true, force: true });
  });

  it('offline phase over JetStream, augmented through the world-model service', async () => {
    const inputs = { dataset: 'dataset.hdf5', world_model: 'world-model.safetensors' };
    const result = await requestPhase(nc, request(Phase.PHASE_OFFLINE, tinySpec(), inputs), {
      timeoutMs: 120_000,
    });
    assert.equal(result.ok, true, result.error);
    assert.equal(result.outputs.agent, 'offline.safetensors');
    assert.equal(loadAgent(join(w.runDir, 'offline.safetensors')).agent.updates, 40);
    const admin = new WorldModelServiceClient(wm.address);
    try {
      assert.equal((await admin.info()).modelPath, 'run-1/world-model.safetensors');
    } finally {
      admin.close();
    }
  });

  it('online phase in lockstep with a simulator process gives the in-process learning curve', async () => {
    const spec = tinySpec();
    const progress: number[] = [];
    const result = await requestPhase(
      nc,
      request(Phase.PHASE_ONLINE, spec, { agent: 'offline.safetensors' }),
      {
        timeoutMs: 120_000,
        onProgress: (p) => progress.push(p.step),
      },
    );
    assert.equal(result.ok, true, result.error);
    assert.ok(progress.length > 0 && progress.at(-1) === 240, `progress ${progress}`);
    const served = jsonl(join(w.runDir, 'online-metrics.jsonl'));
    const { reference: ref } = await inProcessFineTune(w.runDir, spec, 4);
    assert.deepEqual(
      served.map((r) => [r.step, r.returnMean]),
      ref.evaluations.map((e) => [e.step, e.result.meanReturn]),
    );
    assert.equal(result.metrics.episodes, ref.episodes);
  });

  it('Status and Evaluate over gRPC, with INVALID_ARGUMENT for bad requests', async () => {
    const client = new LearnerServiceClient(learner.address);
    try {
      const s = await client.status();
      assert.equal(s.runId, 'r1');
      assert.equal(s.step, 240);
      assert.equal(s.total, 240);
      assert.equal(s.onlineMode, 'lockstep');
      assert.match(s.checkpointPath, /online-checkpoints\/step-200$/);
      await assert.rejects(
        client.evaluate({ episodes: 0, seed: 1 }),
        (e: { code: number; details: string }) => {
          assert.equal(e.code, status.INVALID_ARGUMENT);
          assert.match(e.details, /episodes/);
          return true;
        },
      );
      const r = await client.evaluate({ episodes: 2, seed: 11 });
      const { agent } = loadAgent(join(w.runDir, 'final.safetensors'));
      const env = makeEnv('InvertedPendulum-v5');
      const direct = evaluatePolicy(env, (o) => agent.act(o), 2, 11);
      env.close();
      assert.equal(r.meanReturn, direct.meanReturn);
      assert.deepEqual(r.returns, direct.returns);
    } finally {
      client.close();
    }
  });

  it('SIGTERM mid-online checkpoints and exits 0; a restarted learner resumes the redelivered request', async () => {
    const runDir = join(w.root, 'run-2');
    mkdirSync(runDir, { recursive: true });
    copyFileSync(join(w.runDir, 'offline.safetensors'), join(runDir, 'offline.safetensors'));
    const spec = tinySpec({
      online: { steps: 1500, warmupSteps: 60, batchSize: 32, evalEvery: 500, evalEpisodes: 1 },
    });
    const req = {
      ...request(Phase.PHASE_ONLINE, spec, { agent: 'offline.safetensors' }, 'r-term'),
      runDir: 'run-2',
    };
    const pending = requestPhase(nc, req, { timeoutMs: 240_000 });
    const client = new LearnerServiceClient(learner.address);
    try {
      for (;;) {
        const s = await client.status();
        if (s.runId === 'r-term' && s.step >= 100) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      client.close();
    }
    assert.equal(await learner.stop('SIGTERM'), 0, learner.stderr());
    const saved = loadOnlineCheckpoint(join(runDir, 'online-checkpoints'));
    assert.ok(saved, 'a checkpoint was written');
    assert.ok(saved.state.step >= 100 && saved.state.step < 1500, `checkpoint at ${saved.state.step}`);
    assert.equal(saved.state.replay.size, saved.state.step);

    learner = await spawnLearner(learnerEnv);
    const result = await pending;
    assert.equal(result.ok, true, result.error);
    assert.match(learner.stderr(), new RegExp(`resuming r-term online at step ${saved.state.step}`));
    assert.equal(loadAgent(join(runDir, 'final.safetensors')).agent.updates, 1500 - 60);
  });
});
