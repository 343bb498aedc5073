// The learner's phase handlers on a tiny workload, in-process: offline TD3+BC with augmentation, online
// fine-tuning equal step for step to `o2o train`'s in-process loop, checkpoint interruption and resume,
// final evaluation, and refusals of bad requests.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import { loadDataset } from '../../lib/data/load.ts';
import { subsetRows } from '../../lib/data/subset.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed } from '../../lib/envs/rng.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import {
  type CriticTrainVsHeldOut,
  criticOnHeldOutCheck,
  drawHeldOutCheck,
} from '../../lib/rl/critic-diagnostics.ts';
import { evaluatePolicy } from '../../lib/rl/evaluate.ts';
import { writeHeldOutCheck } from '../../lib/rl/held-out-check-file.ts';
import type { Td3Agent } from '../../lib/rl/td3.ts';
import { loadOnlineCheckpoint } from '../../services/learner/checkpoint.ts';
import { PhaseInterrupted } from '../../services/learner/deps.ts';
import { runEvaluationPhase } from '../../services/learner/evaluation-phase.ts';
import { OFFLINE_CHECKPOINTS } from '../../services/learner/offline-checkpoint.ts';
import { runOfflinePhase } from '../../services/learner/offline-phase.ts';
import { ONLINE_CHECKPOINTS, runOnlinePhase } from '../../services/learner/online-phase.ts';
import {
  ENV_ID,
  inProcessDeps,
  inProcessFineTune,
  makeWorkload,
  request,
  tinySpec,
  type Workload,
} from './learner-fixture.ts';

const jsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; returnMean: number });

function actorWeights(agent: Td3Agent): number[] {
  return agent.actor.params().flatMap((p) => Array.from(p.value));
}

describe('services/learner phases', function () {
  this.timeout(240_000);
  let w: Workload;
  before(async () => {
    w = await makeWorkload();
  });
  after(() => rmSync(w.root, { recursive: true, force: true }));

  it('offline: TD3+BC with world-model augmentation writes the agent and one metrics row per evaluation', async () => {
    const inputs = { dataset: 'dataset.hdf5', world_model: 'world-model.safetensors' };
    const deps = inProcessDeps(w.root);
    const out = await runOfflinePhase(request(Phase.PHASE_OFFLINE, tinySpec(), inputs), deps);
    assert.equal(out.outputs.agent, 'offline.safetensors');
    const { agent } = loadAgent(join(w.runDir, 'offline.safetensors'));
    assert.equal(agent.updates, 40);
    assert.deepEqual(agent.config.hidden, [32, 32]);
    assert.equal(agent.config.bcAlpha, 2.5);
    assert.deepEqual(
      jsonl(join(w.runDir, 'offline-metrics.jsonl')).map((r) => r.step),
      [20, 40],
    );
    assert.equal(out.metrics.updates, 40);
    assert.ok(Number.isFinite(out.metrics.return_mean));
    // The critic log has the target shift (the augmentation went through the world model).
    const critic = readFileSync(join(w.runDir, 'offline-critic.jsonl'), 'utf8').trim().split('\n');
    assert.equal(critic.length, 2);
    assert.notEqual(JSON.parse(critic[0]!).targetShift, null);
    assert.equal(JSON.parse(critic[0]!).heldOut, null, 'no check rows given');
    assert.equal(out.metrics.critic_held_out_abs_error, undefined);
    assert.equal(deps.status.phase, 'offline');
    assert.equal(deps.status.step, 40);
  });

  it("offline: with the dataset phase's check rows, logs the critic's held-out check at every evaluation", async () => {
    const before = actorWeights(loadAgent(join(w.runDir, 'offline.safetensors')).agent);
    const { dataset } = await loadDataset(join(w.runDir, 'dataset.hdf5'), { envId: ENV_ID });
    const options = { gamma: 0.99, samples: 64, seed: 3, horizon: 10 };
    const trainRows = subsetRows(dataset, { count: 100, mode: 'transition', seed: 1 });
    const check = drawHeldOutCheck(dataset, trainRows, options);
    await writeHeldOutCheck(join(w.runDir, 'critic-check.hdf5'), { ...options, check });
    const inputs = {
      dataset: 'dataset.hdf5',
      world_model: 'world-model.safetensors',
      critic_check: 'critic-check.hdf5',
    };
    const out = await runOfflinePhase(
      request(Phase.PHASE_OFFLINE, tinySpec(), inputs),
      inProcessDeps(w.root),
    );
    const { agent } = loadAgent(join(w.runDir, 'offline.safetensors'));
    assert.deepEqual(actorWeights(agent), before, 'the check draws nothing from training');
    const rows = readFileSync(join(w.runDir, 'offline-critic.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { heldOut: CriticTrainVsHeldOut | null });
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.heldOut !== null && r.heldOut.heldOut.vsReturns?.samples === 64));
    const final = criticOnHeldOutCheck(agent, check);
    assert.deepEqual(rows.at(-1)!.heldOut, final, 'the last row is the final critic');
    assert.equal(out.metrics.critic_held_out_abs_error, final.heldOut.meanAbsError);
    assert.equal(out.metrics.critic_train_abs_error, final.train.meanAbsError);

    // Returns discounted otherwise than the critic's are refused before training starts.
    await writeHeldOutCheck(join(w.runDir, 'critic-check-0.9.hdf5'), { ...options, gamma: 0.9, check });
    await assert.rejects(
      runOfflinePhase(
        request(Phase.PHASE_OFFLINE, tinySpec(), { ...inputs, critic_check: 'critic-check-0.9.hdf5' }),
        inProcessDeps(w.root),
      ),
      /inputs\.critic_check: returns discounted with gamma 0\.9, the critic learns with 0\.99/,
    );
  });

  it('online (lockstep) gives exactly the learning curve of the in-process trainOnline of o2o train', async () => {
    const spec = tinySpec();
    const deps = inProcessDeps(w.root);
    const out = await runOnlinePhase(
      request(Phase.PHASE_ONLINE, spec, { agent: 'offline.safetensors' }),
      deps,
    );
    const served = jsonl(join(w.runDir, 'online-metrics.jsonl'));
    // The reference: what cli/commands/train.ts does after pre-training.
    const { online, reference } = await inProcessFineTune(w.runDir, spec, 3 + 1);
    assert.deepEqual(
      served.map((r) => [r.step, r.returnMean]),
      reference.evaluations.map((e) => [e.step, e.result.meanReturn]),
    );
    assert.equal(served.length, 4);
    const { agent: final } = loadAgent(join(w.runDir, 'final.safetensors'));
    assert.deepEqual(actorWeights(final), actorWeights(online));
    assert.equal(out.metrics.steps, 240);
    assert.equal(out.metrics.episodes, reference.episodes);
  });

  it('online: an interrupted phase checkpoints, and the repeated request resumes from that checkpoint', async () => {
    const spec = tinySpec();
    const req = request(Phase.PHASE_ONLINE, spec, { agent: 'offline.safetensors' }, 'r-resume');
    rmSync(join(w.runDir, ONLINE_CHECKPOINTS), { recursive: true, force: true });
    const first = inProcessDeps(w.root, { checkpointEvery: 50, stopping: () => first.status.step >= 130 });
    await assert.rejects(runOnlinePhase(req, first), PhaseInterrupted);
    const saved = loadOnlineCheckpoint(join(w.runDir, ONLINE_CHECKPOINTS));
    assert.ok(saved);
    assert.equal(saved.state.step, 130);
    assert.equal(saved.state.replay.size, 130);
    assert.equal(saved.meta.run_id, 'r-resume');
    // Weights, optimiser-driven update count and evaluation history are the interrupted agent's.
    const live = first.status.agent!;
    assert.deepEqual(actorWeights(saved.agent), actorWeights(live));
    assert.equal(saved.agent.updates, live.updates);
    assert.equal(saved.agent.updates, 130 - 60);
    assert.deepEqual(
      saved.state.evaluations.map((e) => e.step),
      [0, 80],
    );
    // Only the newest checkpoint is kept.
    assert.ok(!existsSync(join(w.runDir, ONLINE_CHECKPOINTS, 'step-100')));

    const steps: number[] = [];
    const second = inProcessDeps(w.root, {
      checkpointEvery: 50,
      progress: (_r, p) => steps.push(p.step),
    });
    const out = await runOnlinePhase(req, second);
    assert.equal(steps[0], 150, 'the resumed phase continues after step 130');
    assert.equal(second.status.agent!.updates, 240 - 60);
    assert.equal(out.metrics.steps, 240);
    const rows = jsonl(join(w.runDir, 'online-metrics.jsonl')).map((r) => r.step);
    assert.deepEqual(rows, [0, 80, 160, 240]);
    // A checkpoint of another run is not silently resumed.
    await assert.rejects(
      runOnlinePhase(request(Phase.PHASE_ONLINE, spec, { agent: 'offline.safetensors' }, 'other'), second),
      /checkpoint of run 'r-resume'/,
    );
  });

  it('evaluation: deterministic return of the final agent over N episodes', async () => {
    const deps = inProcessDeps(w.root);
    const out = await runEvaluationPhase(
      request(Phase.PHASE_EVALUATION, tinySpec(), { agent: 'final.safetensors' }),
      deps,
    );
    const { agent } = loadAgent(join(w.runDir, 'final.safetensors'));
    const env = makeEnv('InvertedPendulum-v5');
    const direct = evaluatePolicy(env, (o) => agent.act(o), 3, deriveSeed(3, 6));
    env.close();
    assert.equal(out.metrics.return_mean, direct.meanReturn);
    assert.equal(out.metrics.episodes, 3);
    assert.equal(out.metrics.normalized_score, undefined, 'InvertedPendulum has no D4RL reference');
  });

  it('refuses bad requests with a message naming what was wrong', async () => {
    const deps = inProcessDeps(w.root);
    await assert.rejects(
      runOfflinePhase(
        request(Phase.PHASE_OFFLINE, tinySpec(), { world_model: 'world-model.safetensors' }),
        deps,
      ),
      /inputs\.dataset/,
    );
    await assert.rejects(
      runOfflinePhase(
        request(Phase.PHASE_OFFLINE, tinySpec(), { dataset: '../../etc/passwd', world_model: 'x' }),
        deps,
      ),
      /outside the run root/,
    );
    await assert.rejects(
      runOnlinePhase(request(Phase.PHASE_ONLINE, tinySpec({ online: { steps: -1 } }), {}), deps),
      /spec\.online\.steps/,
    );
    await assert.rejects(
      runEvaluationPhase(request(Phase.PHASE_EVALUATION, tinySpec(), {}), deps),
      /inputs\.agent/,
    );
  });

  it('offline: an interrupted phase resumes from its last checkpoint and ends exactly where an uninterrupted one does', async () => {
    const spec = tinySpec({
      offline: { steps: 80, batchSize: 32, augFraction: 0.5, evalEvery: 20, evalEpisodes: 2 },
    });
    const inputs = { dataset: 'dataset.hdf5', world_model: 'world-model.safetensors' };
    const logs = () => ({
      metrics: readFileSync(join(w.runDir, 'offline-metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { stepsPerSecond: _timing, ...row } = JSON.parse(l) as Record<string, unknown>;
          return row;
        }),
      critic: readFileSync(join(w.runDir, 'offline-critic.jsonl'), 'utf8'),
    });
    const whole = await runOfflinePhase(
      request(Phase.PHASE_OFFLINE, spec, inputs, 'o-whole'),
      inProcessDeps(w.root, { offlineCheckpointEvery: 20 }),
    );
    const reference = {
      weights: actorWeights(loadAgent(join(w.runDir, 'offline.safetensors')).agent),
      ...logs(),
    };
    assert.ok(!existsSync(join(w.runDir, OFFLINE_CHECKPOINTS)), 'a finished phase leaves no checkpoints');

    const cut = inProcessDeps(w.root, { offlineCheckpointEvery: 20, stopping: () => cut.status.step >= 50 });
    const req = request(Phase.PHASE_OFFLINE, spec, inputs, 'o-cut');
    await assert.rejects(runOfflinePhase(req, cut), PhaseInterrupted);
    const pointer = JSON.parse(readFileSync(join(w.runDir, OFFLINE_CHECKPOINTS, 'latest.json'), 'utf8'));
    assert.equal(pointer.update, 40, 'the last segment end before the stop');
    // Another run's request does not pick up this checkpoint.
    await assert.rejects(
      runOfflinePhase(request(Phase.PHASE_OFFLINE, spec, inputs, 'o-other'), inProcessDeps(w.root)),
      /holds a checkpoint of run 'o-cut', not of 'o-other'/,
    );
    await assert.rejects(
      runOfflinePhase(
        request(Phase.PHASE_OFFLINE, { ...spec, agent: { hidden: [16] } }, inputs, 'o-cut'),
        inProcessDeps(w.root),
      ),
      /the checkpoint's agent has obs 4, action 1, hidden \[32, 32\], the spec asks for obs 4, action 1, hidden \[16\]/,
    );
    await assert.rejects(
      runOfflinePhase(
        request(
          Phase.PHASE_OFFLINE,
          { ...spec, agent: { hidden: [32, 32], criticLayerNorm: true } },
          inputs,
          'o-cut',
        ),
        inProcessDeps(w.root),
      ),
      /the checkpoint's agent has obs 4, action 1, hidden \[32, 32\], the spec asks for obs 4, action 1, hidden \[32, 32\], critic LayerNorm/,
    );
    const resumed = await runOfflinePhase(req, inProcessDeps(w.root, { offlineCheckpointEvery: 20 }));
    assert.deepEqual(actorWeights(loadAgent(join(w.runDir, 'offline.safetensors')).agent), reference.weights);
    const after = logs();
    assert.deepEqual(after.metrics, reference.metrics, 'each evaluation logged once, as uninterrupted');
    assert.equal(after.critic, reference.critic);
    assert.deepEqual(resumed.metrics, whole.metrics, 'augmented rows counted over both attempts');
    assert.ok(!existsSync(join(w.runDir, OFFLINE_CHECKPOINTS)));
    // A damaged pointer is refused, naming the file and the field.
    mkdirSync(join(w.runDir, OFFLINE_CHECKPOINTS));
    writeFileSync(join(w.runDir, OFFLINE_CHECKPOINTS, 'latest.json'), '{"runId": "o-cut"}');
    await assert.rejects(runOfflinePhase(req, inProcessDeps(w.root)), /latest\.json: update: /);
    rmSync(join(w.runDir, OFFLINE_CHECKPOINTS), { recursive: true });
  });
});
