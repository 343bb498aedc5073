// The services on an env with options (the paper's Ant: no contact forces, no contact cost): the spec
// takes them, the dataset phase records or rewrites the rows for them, a simulator runs them and says
// so, a learner takes only a simulator of the same env and options, and the learner's phases train and
// evaluate on that env.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { Phase, SimulatorHeartbeat } from '../../generated/proto/o2o/v1/events.js';
import type { OfflineDataset } from '../../lib/data/dataset.ts';
import { loadDataset, saveDataset } from '../../lib/data/load.ts';
import { subsetDataset } from '../../lib/data/subset.ts';
import { rewriteTransitions } from '../../lib/envs/derive-transitions.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { readHeldOutCheck } from '../../lib/rl/held-out-check-file.ts';
import { parseSpec, SpecError } from '../../lib/services/spec.ts';
import { subjects } from '../../lib/services/subjects.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { runDatasetPhase } from '../../services/coordinator/dataset-phase.ts';
import { renderReport } from '../../services/coordinator/report.ts';
import type { PhaseDeps } from '../../services/learner/deps.ts';
import { runEvaluationPhase } from '../../services/learner/evaluation-phase.ts';
import { runOfflinePhase } from '../../services/learner/offline-phase.ts';
import { runOnlinePhase } from '../../services/learner/online-phase.ts';
import { evaluate, statusResponse } from '../../services/learner/server.ts';
import { openLockstepEnv } from '../../services/learner/wiring.ts';
import { SimulatorClient } from '../../services/simulator/client.ts';
import { startSimulatorServer } from '../../services/simulator/server.ts';
import { RemoteWorldModel } from '../../services/world-model/client.ts';
import { startServer } from '../../services/world-model/server.ts';
import { trainAndSave } from '../../services/world-model/training.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import { inProcessDeps, RUN_DIR, request, tinySpec } from './learner-fixture.ts';
import { SMALL_MODEL, testServerSettings } from './world-model-fixtures.ts';

const ANT = 'Ant-v5';
const NO_CONTACT = { includeCfrcExtInObservation: false, contactCostWeight: 0 };
/** The same options, keys in the other order: equal options whatever the order. */
const NO_CONTACT_REORDERED = { contactCostWeight: 0, includeCfrcExtInObservation: false };
const NO_CONTACT_NAME = 'Ant-v5 (contactCostWeight=0, includeCfrcExtInObservation=false)';
/** Parentheses escaped, for a RegExp of an env name. */
const parens = (text: string) => text.replace(/[()]/g, '\\$&');

function randomDataset(
  options: Record<string, unknown> | undefined,
  rows: number,
  seed: number,
): OfflineDataset {
  const env = makeEnv(ANT, options);
  try {
    return collectDataset(
      env,
      uniformRandomPolicy(env),
      rows,
      seed,
      'env options test',
      options ? { envOptions: options } : {},
    );
  } finally {
    env.close();
  }
}

describe('services on an env with options', function () {
  this.timeout(180_000);
  let root: string;
  let runDir: string;
  let source: OfflineDataset;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'o2o-env-options-'));
    runDir = join(root, RUN_DIR);
    mkdirSync(join(runDir, 'data'), { recursive: true });
    source = randomDataset(undefined, 600, 5);
    await saveDataset(source, 'd4rl', join(runDir, 'data', 'ant-defaults.hdf5'));
    await saveDataset(
      randomDataset({ contactCostWeight: 0 }, 50, 6),
      'd4rl',
      join(runDir, 'data', 'ant-w0.hdf5'),
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the spec takes options the env has and names the field for others', () => {
    const spec = parseSpec({
      name: 'ant',
      env: ANT,
      envOptions: NO_CONTACT,
      dataset: { generate: { kind: 'random', transitions: 10 } },
    });
    assert.deepEqual(spec.envOptions, NO_CONTACT);
    const state = {
      version: 1 as const,
      runId: 'r',
      specName: 'ant',
      specJson: '',
      createdAt: 'now',
      phases: {},
    };
    assert.match(renderReport(spec, state, root), new RegExp(`^${parens(NO_CONTACT_NAME)}, variant`, 'm'));
    assert.throws(
      () =>
        parseSpec({
          name: 'hopper',
          env: 'Hopper-v5',
          envOptions: { contactCostWeight: 0 },
          dataset: { generate: { kind: 'random', transitions: 10 } },
        }),
      (err: Error) => err instanceof SpecError && /envOptions: .*contactCostWeight/.test(err.message),
    );
  });

  it('dataset phase: a file recorded on the defaults is rewritten for the options before the subset is cut', async () => {
    const subset = { transitions: 300, by: 'transition' as const, seed: 2 };
    const spec = parseSpec({
      name: 'ant-file',
      env: ANT,
      seed: 1,
      envOptions: NO_CONTACT,
      dataset: { file: 'data/ant-defaults.hdf5', subset },
    });
    await runDatasetPhase(spec, runDir);
    const { dataset } = await loadDataset(join(runDir, 'dataset.hdf5'), { envId: ANT });
    const expected = subsetDataset(
      { ...source, ...rewriteTransitions(ANT, NO_CONTACT, source, 'expected') },
      { count: subset.transitions, mode: subset.by, seed: subset.seed },
      'expected',
    );
    assert.equal(dataset.obsDim, 27);
    assert.deepEqual(dataset.metadata.envOptions, NO_CONTACT);
    assert.deepEqual(dataset.observations, expected.observations);
    assert.deepEqual(dataset.nextObservations, expected.nextObservations);
    assert.deepEqual(dataset.rewards, expected.rewards);
    // The held-out check is drawn from the rewritten source too.
    const check = await readHeldOutCheck(join(runDir, 'critic-check.hdf5'));
    assert.equal(check.check.heldOut.observations.length % 27, 0);
    assert.ok(check.check.heldOut.observations.length > 0);
    assert.notEqual(check.check.heldOut.observations.length % 105, 0, 'not the 105-value rows');
  });

  it('dataset phase: a generated dataset is recorded on the options; a file recorded on other options is refused', async () => {
    const generated = parseSpec({
      name: 'ant-generated',
      env: ANT,
      seed: 1,
      envOptions: NO_CONTACT,
      dataset: { generate: { kind: 'random', transitions: 40 } },
    });
    await runDatasetPhase(generated, runDir);
    const { dataset } = await loadDataset(join(runDir, 'dataset.hdf5'), { envId: ANT });
    assert.equal(dataset.obsDim, 27);
    assert.deepEqual(dataset.metadata.envOptions, NO_CONTACT);
    const other = parseSpec({
      name: 'ant-other',
      env: ANT,
      envOptions: NO_CONTACT,
      dataset: { file: 'data/ant-w0.hdf5' },
    });
    await assert.rejects(
      runDatasetPhase(other, runDir),
      new RegExp(
        `data/ant-w0.hdf5: recorded on Ant-v5 \\(contactCostWeight=0\\), but the run is on ${parens(NO_CONTACT_NAME)}`,
      ),
    );
  });

  it('a simulator runs the env with its options and says so; a learner takes only a simulator of the same options', async () => {
    const sim = await startSimulatorServer(
      {
        envId: ANT,
        envOptions: NO_CONTACT_REORDERED,
        numEnvs: 1,
        simulatorId: 'ant-sim',
        incarnation: 1,
        seed: 0,
        windowBatches: 4,
        batchSteps: 4,
      },
      '127.0.0.1:0',
    );
    try {
      const client = await SimulatorClient.connect(sim.address, { deadlineMs: 10_000 });
      const info = client.meta;
      client.close();
      assert.equal(info.obsDim, 27);
      assert.equal(info.envOptionsJson, '{"contactCostWeight":0,"includeCfrcExtInObservation":false}');

      await assert.rejects(
        openLockstepEnv({ simAddress: sim.address, simWaitMs: 1000 }, undefined, ANT, undefined),
        new RegExp(`runs ${parens(NO_CONTACT_NAME)}, the run needs Ant-v5$`),
      );
      const env = await openLockstepEnv(
        { simAddress: sim.address, simWaitMs: 1000 },
        undefined,
        ANT,
        NO_CONTACT,
      );
      try {
        // The same transitions as the env built in-process with those options.
        const local = makeEnv(ANT, NO_CONTACT);
        const remoteObs = (await env.reset({ seed: 0 })).obs;
        const localObs = local.reset({ seed: 0 }).obs;
        assert.deepEqual(Array.from(remoteObs), Array.from(localObs));
        const action = new Float64Array(8).fill(0.5); // exact in float32, as actions travel
        const r = await env.step(action);
        const l = local.step(action);
        assert.equal(r.reward, l.reward);
        assert.equal(r.obs.length, 27);
        local.close();
      } finally {
        await env.close?.();
      }
    } finally {
      await sim.shutdown();
    }
  });

  it('a learner finding simulators on NATS passes over those of other options, and says what it waited for', async () => {
    const nats = await startNatsServer({ jetstream: false });
    const nc = await connect({ servers: nats.url });
    // An idle Ant-v5 simulator on the defaults keeps announcing itself.
    const beat = () =>
      nc.publish(
        subjects.simulatorHeartbeat,
        SimulatorHeartbeat.encode({
          simulatorId: 'ant-defaults',
          address: '127.0.0.1:1',
          envId: ANT,
          envOptionsJson: '',
          numEnvs: 1,
          mode: 'idle',
          stepsTotal: 0,
          unixMs: Date.now(),
          incarnation: 1,
        }).finish(),
      );
    beat();
    const timer = setInterval(beat, 50);
    try {
      await assert.rejects(
        openLockstepEnv({ simAddress: '', simWaitMs: 400 }, nc, ANT, NO_CONTACT),
        new RegExp(
          `no idle single-env ${parens(NO_CONTACT_NAME)} simulator announced itself on NATS within 400 ms`,
        ),
      );
    } finally {
      clearInterval(timer);
      await nc.close();
      await nats.stop();
    }
  });

  it("learner phases train and evaluate on the env with the spec's options, and refuse a dataset recorded on others", async () => {
    const spec = tinySpec({
      env: ANT,
      envOptions: NO_CONTACT,
      variant: 'td3bc',
      offline: { steps: 20, batchSize: 32, evalEvery: 20, evalEpisodes: 1 },
      online: { steps: 120, warmupSteps: 60, startSteps: 60, batchSize: 32, evalEvery: 120, evalEpisodes: 1 },
      evaluation: { episodes: 1 },
    });
    await runDatasetPhase(
      parseSpec({
        name: 'ant',
        env: ANT,
        envOptions: NO_CONTACT,
        dataset: { file: 'data/ant-defaults.hdf5' },
      }),
      runDir,
    );
    const trainEnvs: unknown[] = [];
    const base = inProcessDeps(root);
    const deps: PhaseDeps = {
      ...base,
      openTrainEnv: async (envId, seed, envOptions) => {
        trainEnvs.push(envOptions);
        return base.openTrainEnv(envId, seed, envOptions);
      },
    };
    const offline = await runOfflinePhase(
      request(Phase.PHASE_OFFLINE, spec, { dataset: 'dataset.hdf5' }),
      deps,
    );
    const online = await runOnlinePhase(
      request(Phase.PHASE_ONLINE, spec, { agent: offline.outputs.agent! }),
      deps,
    );
    assert.deepEqual(trainEnvs, [NO_CONTACT]);
    const evaluation = await runEvaluationPhase(
      request(Phase.PHASE_EVALUATION, spec, { agent: online.outputs.agent! }),
      deps,
    );
    assert.equal(evaluation.metrics.episodes, 1);
    assert.ok(Number.isFinite(evaluation.metrics.return_mean));
    // The Status and Evaluate RPCs say which env, and Evaluate runs on it (the agent takes 27 values).
    const canonical = '{"contactCostWeight":0,"includeCfrcExtInObservation":false}';
    assert.equal(statusResponse(deps.status, 'lockstep').envOptionsJson, canonical);
    const rpc = evaluate(deps.status, { episodes: 1, seed: 0 });
    assert.deepEqual([rpc.envId, rpc.envOptionsJson, rpc.lengths.length], [ANT, canonical, 1]);

    const onDefaults = tinySpec({ env: ANT, variant: 'td3bc' });
    await assert.rejects(
      runOfflinePhase(request(Phase.PHASE_OFFLINE, onDefaults, { dataset: 'dataset.hdf5' }, 'r2'), deps),
      new RegExp(`inputs.dataset: recorded on ${parens(NO_CONTACT_NAME)}, the run is on Ant-v5$`),
    );
  });

  it('a world model says which options its rows were recorded on, and a learner refuses it for a run on others', async () => {
    // Contact cost 0 leaves the observation as it is: the dims alone cannot tell this model from one of
    // the defaults.
    const model = 'wm-w0/world-model.safetensors';
    await trainAndSave({
      datasetPath: join(runDir, 'data', 'ant-w0.hdf5'),
      epochs: 1,
      seed: 2,
      outputPath: join(runDir, model),
      batchSize: 32,
      model: SMALL_MODEL,
    });
    const W0 = { contactCostWeight: 0 };
    assert.deepEqual(NativeVaeWorldModel.load(join(runDir, model)).info.trainedFor, {
      envId: ANT,
      envOptions: W0,
    });
    // The service's Info says so too, and a RemoteWorldModel carries it to the learner.
    const server = await startServer(testServerSettings(root, join(RUN_DIR, model)));
    try {
      const remote = await RemoteWorldModel.connect(server.address, { callTimeoutMs: 10_000 });
      try {
        assert.deepEqual(
          [remote.remote.envId, remote.remote.envOptionsJson],
          [ANT, '{"contactCostWeight":0}'],
        );
        assert.deepEqual(remote.info.trainedFor, { envId: ANT, envOptions: W0 });
      } finally {
        remote.close();
      }
    } finally {
      await server.shutdown();
    }
    const offline = { steps: 10, batchSize: 16, augFraction: 0.5, evalEvery: 10, evalEpisodes: 1 };
    const inputs = (dataset: string) => ({ dataset, world_model: model });
    await assert.rejects(
      runOfflinePhase(
        request(
          Phase.PHASE_OFFLINE,
          tinySpec({ env: ANT, offline }),
          inputs('data/ant-defaults.hdf5'),
          'wm1',
        ),
        inProcessDeps(root),
      ),
      /^Error: inputs\.world_model: the world model was trained on rows of Ant-v5 \(contactCostWeight=0\), the run is on Ant-v5$/,
    );
    // On the options its rows were recorded on, the same model augments.
    const onW0 = tinySpec({ env: ANT, envOptions: W0, offline });
    const done = await runOfflinePhase(
      request(Phase.PHASE_OFFLINE, onW0, inputs('data/ant-w0.hdf5'), 'wm2'),
      inProcessDeps(root),
    );
    assert.ok(done.outputs.agent);
  });
});
