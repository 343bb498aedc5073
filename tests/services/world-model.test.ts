// The world-model service over real gRPC: predictions equal the in-process model's, concurrent callers
// are merged and each gets its own rows, bad input is refused with the right status and field, the
// queue bound holds, paths cannot escape the run root, Train works, and the process starts and stops
// cleanly. Tiny InvertedPendulum-v5 model (32-wide layers).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ServiceError, status } from '@grpc/grpc-js';
import type { PredictResponse } from '../../generated/proto/o2o/v1/world_model.js';
import { decodeFloatBatch, encodeFloatBatch } from '../../lib/services/float-batch.ts';
import type { SpanRecord } from '../../lib/telemetry/span-record.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import {
  RemoteWorldModel,
  RemoteWorldModelError,
  WorldModelServiceClient,
} from '../../services/world-model/client.ts';
import { type RunningServer, type ServerSettings, startServer } from '../../services/world-model/server.ts';
import {
  makeRunRoot,
  type RunRootFixture,
  SMALL_MODEL,
  spawnWorldModelService,
  testServerSettings,
} from './world-model-fixtures.ts';

const OBS = 4;
const ACT = 1;

function inputs(rows: number, seed: number): { states: Float32Array; actions: Float32Array } {
  const states = Float32Array.from({ length: rows * OBS }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 0.3);
  const actions = Float32Array.from({ length: rows * ACT }, (_, i) => Math.cos(seed * 3.3 + i * 1.1) * 2.5);
  return { states, actions };
}

async function expectStatus(p: Promise<unknown>, code: status, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    const err = e as RemoteWorldModelError | ServiceError;
    assert.equal(err.code, code, `expected ${status[code]}, got ${status[err.code ?? 2]}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('world-model service', function () {
  this.timeout(120_000);
  let fx: RunRootFixture;
  let local: NativeVaeWorldModel;
  const servers: RunningServer[] = [];
  const clients: { close(): void }[] = [];

  async function serve(overrides: Partial<ServerSettings> = {}): Promise<RunningServer> {
    const s = await startServer(testServerSettings(fx.root, fx.model, overrides));
    servers.push(s);
    return s;
  }

  function connect(address: string, options = {}): WorldModelServiceClient {
    const c = new WorldModelServiceClient(address, {
      callTimeoutMs: 10_000,
      retryTotalMs: 1_000,
      ...options,
    });
    clients.push(c);
    return c;
  }

  const rawPredict = (c: WorldModelServiceClient, req: unknown) =>
    c.unary<unknown, PredictResponse>('predict', req);

  before(async () => {
    fx = await makeRunRoot();
    local = NativeVaeWorldModel.load(join(fx.root, fx.model));
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.shutdown();
    rmSync(fx.root, { recursive: true, force: true });
  });

  it('answers deterministic Predict exactly as the in-process model, through RemoteWorldModel', async () => {
    const s = await serve();
    const remote = await RemoteWorldModel.connect(s.address, { callTimeoutMs: 10_000 });
    clients.push(remote);
    // What the model was trained for, as its file records it: the env and its options (the defaults).
    assert.deepEqual(remote.info, {
      implementation: 'grpc:native',
      obsDim: OBS,
      actDim: ACT,
      trainedFor: { envId: 'InvertedPendulum-v5', envOptions: {} },
    });
    assert.equal(remote.remote.envId, 'InvertedPendulum-v5');
    assert.equal(remote.remote.envOptionsJson, '');
    assert.equal(remote.remote.modelPath, fx.model);
    for (const rows of [1, 37, 300]) {
      const { states, actions } = inputs(rows, rows);
      const want = new Float32Array(rows * OBS);
      const got = new Float32Array(rows * OBS);
      await local.predictNextStates(states, actions, rows, want, { deterministic: true });
      await remote.predictNextStates(states, actions, rows, got, { deterministic: true });
      assert.deepEqual(got, want);
    }
    // Stochastic predictions differ from the deterministic ones but stay finite.
    const { states, actions } = inputs(64, 1);
    const det = new Float32Array(64 * OBS);
    const sto = new Float32Array(64 * OBS);
    await remote.predictNextStates(states, actions, 64, det, { deterministic: true });
    await remote.predictNextStates(states, actions, 64, sto);
    assert.ok(sto.every(Number.isFinite));
    assert.notDeepEqual(sto, det);
  });

  it('merges concurrent callers into one model call and gives each its own rows', async () => {
    const s = await serve({ maxWaitMs: 150 });
    const c = connect(s.address);
    const sizes = [3, 1, 17, 8, 5, 40, 2, 11];
    const before = s.state.batcher!.stats.batches;
    const answers = await Promise.all(
      sizes.map((rows, k) => {
        const { states, actions } = inputs(rows, 100 + k);
        return rawPredict(c, {
          states: encodeFloatBatch(states, rows, OBS),
          actions: encodeFloatBatch(actions, rows, ACT),
          deterministic: true,
        });
      }),
    );
    const batches = s.state.batcher!.stats.batches - before;
    assert.ok(batches < sizes.length, `${sizes.length} calls took ${batches} model calls`);
    assert.ok(Math.max(...answers.map((a) => a.mergedCallers)) > 1);
    for (const [k, rows] of sizes.entries()) {
      const { states, actions } = inputs(rows, 100 + k);
      const want = new Float32Array(rows * OBS);
      await local.predictNextStates(states, actions, rows, want, { deterministic: true });
      const a = answers[k]!;
      assert.equal(a.nextStates?.rows, rows);
      // A merged call runs the GEMMs at a different batch size, so BLAS may round differently in the
      // last bits: each caller's rows are checked to float32 precision, not bit for bit.
      const got = new Float32Array(new Uint8Array(a.nextStates!.data).buffer);
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++)
        assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `caller ${k} value ${i}`);
    }
  });

  it('does not merge deterministic and stochastic requests', async () => {
    const s = await serve({ maxWaitMs: 100 });
    const c = connect(s.address);
    const call = (rows: number, deterministic: boolean) => {
      const { states, actions } = inputs(rows, rows);
      return rawPredict(c, {
        states: encodeFloatBatch(states, rows, OBS),
        actions: encodeFloatBatch(actions, rows, ACT),
        deterministic,
      });
    };
    const [d1, s1, d2, s2] = await Promise.all([
      call(2, true),
      call(5, false),
      call(3, true),
      call(7, false),
    ]);
    assert.equal(d1!.batchRows, 5);
    assert.equal(d2!.batchRows, 5);
    assert.equal(s1!.batchRows, 12);
    assert.equal(s2!.batchRows, 12);
  });

  it('refuses wrong sizes, NaN and empty batches with INVALID_ARGUMENT naming the field', async () => {
    const s = await serve();
    const c = connect(s.address);
    const { states, actions } = inputs(4, 9);
    const ok = { states: encodeFloatBatch(states, 4, OBS), actions: encodeFloatBatch(actions, 4, ACT) };
    const bad = async (req: object, message: RegExp) =>
      await expectStatus(
        rawPredict(c, { ...ok, deterministic: true, ...req }),
        status.INVALID_ARGUMENT,
        message,
      );
    await bad({ states: encodeFloatBatch(states, 2, 8) }, /states: expected 4 columns, got 8/);
    await bad({ actions: encodeFloatBatch(actions, 2, 2) }, /actions: expected 1 columns, got 2/);
    await bad({ actions: encodeFloatBatch(actions, 3, 1) }, /actions: expected 4 rows, got 3/);
    await bad(
      { states: { rows: 4, cols: 4, data: Buffer.alloc(10) } },
      /states: 4×4 float32 needs 64 bytes, got 10/,
    );
    const nan = states.slice();
    nan[6] = Number.NaN;
    await bad({ states: encodeFloatBatch(nan, 4, OBS) }, /states: value at row 1, column 2 is NaN/);
    const inf = actions.slice();
    inf[3] = Number.POSITIVE_INFINITY;
    await bad({ actions: encodeFloatBatch(inf, 4, ACT) }, /actions: value at row 3, column 0 is Infinity/);
    await bad({ states: encodeFloatBatch(new Float32Array(0), 0, OBS) }, /states: empty batch/);
    await bad({ states: undefined }, /states: empty batch/);
    await bad({ actions: undefined }, /actions: missing/);
    // The server is still healthy afterwards.
    const r = await rawPredict(c, { ...ok, deterministic: true });
    assert.equal(r.nextStates?.rows, 4);
  });

  it('answers RESOURCE_EXHAUSTED when the queue is full', async () => {
    const s = await serve({ maxQueueRows: 8, maxWaitMs: 300 });
    const c = connect(s.address);
    const req = (rows: number) => {
      const { states, actions } = inputs(rows, 2);
      return {
        states: encodeFloatBatch(states, rows, OBS),
        actions: encodeFloatBatch(actions, rows, ACT),
        deterministic: true,
      };
    };
    const first = rawPredict(c, req(6));
    await new Promise((r) => setTimeout(r, 50));
    await expectStatus(
      rawPredict(c, req(6)),
      status.RESOURCE_EXHAUSTED,
      /queue is full: 6 rows waiting \+ 6 requested > limit 8/,
    );
    assert.equal((await first).nextStates?.rows, 6);
    await expectStatus(
      rawPredict(c, req(9)),
      status.INVALID_ARGUMENT,
      /states: 9 rows exceed O2O_WM_MAX_QUEUE/,
    );
  });

  it('refuses paths that escape the run root, and missing files', async () => {
    const s = await serve();
    const c = connect(s.address);
    await expectStatus(
      c.load('../outside.safetensors'),
      status.INVALID_ARGUMENT,
      /model_path: .*contains '\.\.'/,
    );
    await expectStatus(c.load('/etc/passwd'), status.INVALID_ARGUMENT, /model_path: .*is absolute/);
    await expectStatus(c.load('models/../../x'), status.INVALID_ARGUMENT, /model_path/);
    await expectStatus(
      c.load('models/none.safetensors'),
      status.NOT_FOUND,
      /model_path: 'models\/none.safetensors'/,
    );
    await expectStatus(
      c.train({ datasetPath: '../../etc/passwd', outputPath: 'out', epochs: 1 }),
      status.INVALID_ARGUMENT,
      /dataset_path: .*'\.\.'/,
    );
    await expectStatus(
      c.train({ datasetPath: fx.dataset, outputPath: '/tmp/escape', epochs: 1 }),
      status.INVALID_ARGUMENT,
      /output_path: .*absolute/,
    );
    await expectStatus(
      c.train({ datasetPath: fx.dataset, outputPath: 'out', epochs: 0 }),
      status.INVALID_ARGUMENT,
      /epochs: must be 1\.\.100000, got 0/,
    );
  });

  it('answers FAILED_PRECONDITION before a model is loaded, then serves the one Load names', async () => {
    const s = await serve({ model: undefined });
    const c = connect(s.address);
    const { states, actions } = inputs(2, 3);
    const req = { states: encodeFloatBatch(states, 2, OBS), actions: encodeFloatBatch(actions, 2, ACT) };
    await expectStatus(rawPredict(c, req), status.FAILED_PRECONDITION, /no world model loaded/);
    assert.equal((await c.info()).trained, false);
    const info = await c.load(fx.model);
    assert.equal(info.trained, true);
    assert.equal(info.modelPath, fx.model);
    assert.equal(info.envId, 'InvertedPendulum-v5');
    assert.equal((await rawPredict(c, req)).nextStates?.rows, 2);
  });

  it('Load with noise_seed restarts the stochastic stream: same samples as the native model with that seed', async () => {
    const s = await serve({ maxWaitMs: 0 });
    const c = connect(s.address);
    const info = await c.load(fx.model, 77);
    assert.equal(info.modelPath, fx.model);
    const remote = await RemoteWorldModel.connect(s.address);
    clients.push(remote);
    const { states, actions } = inputs(16, 4);
    const want = new Float32Array(16 * OBS);
    const got = new Float32Array(16 * OBS);
    const native = NativeVaeWorldModel.load(join(fx.root, fx.model));
    native.reseedNoise(77);
    await native.predictNextStates(states, actions, 16, want);
    await remote.predictNextStates(states, actions, 16, got);
    assert.deepEqual(got, want);
    await expectStatus(c.load(fx.model, 2 ** 40), status.INVALID_ARGUMENT, /noise_seed: must be 0..2\^31-2/);
  });

  it('a Predict with noise_seed is answered alone from that seed, whatever other callers send meanwhile', async () => {
    const s = await serve({ maxWaitMs: 20 });
    const c = connect(s.address);
    const { states, actions } = inputs(8, 5);
    const want = new Float32Array(8 * OBS);
    const native = NativeVaeWorldModel.load(join(fx.root, fx.model));
    native.reseedNoise(1234);
    await native.predictNextStates(states, actions, 8, want);
    const seeded = () =>
      rawPredict(c, {
        states: encodeFloatBatch(states, 8, OBS),
        actions: encodeFloatBatch(actions, 8, ACT),
        deterministic: false,
        noiseSeed: 1234,
      });
    const unseeded = () => {
      const other = inputs(3, 9);
      return rawPredict(c, {
        states: encodeFloatBatch(other.states, 3, OBS),
        actions: encodeFloatBatch(other.actions, 3, ACT),
        deterministic: false,
      });
    };
    // Interleaved with unseeded callers (which merge among themselves), twice: the same answer each time.
    const [, first, , second] = await Promise.all([unseeded(), seeded(), unseeded(), seeded()]);
    for (const r of [first!, second!]) {
      assert.equal(r.mergedCallers, 1, 'a seeded request is never merged');
      assert.deepEqual(decodeFloatBatch(r.nextStates, { name: 'next', cols: OBS }), want);
    }
    await expectStatus(
      rawPredict(c, {
        states: encodeFloatBatch(states, 8, OBS),
        actions: encodeFloatBatch(actions, 8, ACT),
        deterministic: true,
        noiseSeed: 1,
      }),
      status.INVALID_ARGUMENT,
      /noise_seed: only for stochastic predictions/,
    );
  });

  it('RemoteWorldModel.reseedNoise: the same seed repeats the same stream of predictions', async () => {
    const s = await serve({ maxWaitMs: 0 });
    const remote = await RemoteWorldModel.connect(s.address);
    clients.push(remote);
    const { states, actions } = inputs(6, 2);
    const stream = async () => {
      const outs: Float32Array[] = [];
      for (let k = 0; k < 3; k++) {
        const out = new Float32Array(6 * OBS);
        await remote.predictNextStates(states, actions, 6, out);
        outs.push(out);
      }
      return outs;
    };
    remote.reseedNoise(5);
    const a = await stream();
    remote.reseedNoise(5);
    const b = await stream();
    remote.reseedNoise(6);
    const c = await stream();
    assert.deepEqual(b, a);
    assert.notDeepEqual(a[1], a[0], 'each call draws new noise');
    assert.notDeepEqual(c[0], a[0], 'another seed, other noise');
  });

  it('trains with streamed progress in a worker thread, answering Predict meanwhile, then serves the new model', async () => {
    const s = await serve();
    const c = connect(s.address);
    const { states, actions } = inputs(8, 8);
    const req = {
      states: encodeFloatBatch(states, 8, OBS),
      actions: encodeFloatBatch(actions, 8, ACT),
      deterministic: true,
    };
    const epochs: number[] = [];
    let answeredDuringTraining = 0;
    let trainingDone = false;
    let firstEpoch: () => void = () => {};
    const started = new Promise<void>((r) => {
      firstEpoch = r;
    });
    const training = c
      .train(
        {
          datasetPath: fx.dataset,
          outputPath: 'trained',
          epochs: 30,
          seed: 5,
          batchSize: 64,
          latentDim: SMALL_MODEL.latentDim,
          encoderHidden: SMALL_MODEL.encoderHidden,
          decoderHidden: SMALL_MODEL.decoderHidden,
          transitionHidden: SMALL_MODEL.transitionHidden,
        },
        (p) => {
          if (!p.done) epochs.push(p.epoch);
          firstEpoch();
        },
      )
      .then((done) => {
        trainingDone = true;
        return done;
      });
    await started;
    while (!trainingDone && answeredDuringTraining < 5) {
      await rawPredict(c, req);
      if (!trainingDone) answeredDuringTraining++;
    }
    const done = await training;
    assert.ok(answeredDuringTraining >= 1, 'no Predict was answered while training ran');
    assert.ok(epochs.length >= 1 && epochs.every((e, i) => e === i + 1), `epochs ${epochs}`);
    assert.equal(done.modelPath, 'trained/world-model.safetensors');
    assert.ok(done.heldoutMse > 0 && Number.isFinite(done.heldoutMse));
    assert.ok(existsSync(join(fx.root, 'trained', 'world-model.safetensors')));
    assert.ok(existsSync(join(fx.root, 'trained', 'world-model-report.json')));
    const info = await c.info();
    assert.equal(info.modelPath, 'trained/world-model.safetensors');
    assert.equal(info.envId, 'InvertedPendulum-v5');
    const served = NativeVaeWorldModel.load(join(fx.root, 'trained', 'world-model.safetensors'));
    const want = new Float32Array(8 * OBS);
    await served.predictNextStates(states, actions, 8, want, { deterministic: true });
    const r = await rawPredict(c, req);
    assert.deepEqual(new Float32Array(new Uint8Array(r.nextStates!.data).buffer), want);
  });

  it('client gives up with a clear error after its retry budget when nothing listens', async () => {
    const c = connect('127.0.0.1:1', { retryTotalMs: 300, callTimeoutMs: 200, initialBackoffMs: 20 });
    const t0 = Date.now();
    await assert.rejects(c.info(), (e: unknown) => {
      assert.ok(e instanceof RemoteWorldModelError);
      assert.equal(e.code, status.UNAVAILABLE);
      assert.match(
        e.message,
        /world-model service at 127\.0\.0\.1:1: .*Info failed: UNAVAILABLE.*gave up after \d+ attempt/,
      );
      return true;
    });
    assert.ok(Date.now() - t0 < 5_000);
  });

  it('traces each merged model call as a span linked to every merged caller', async () => {
    const traceFile = join(fx.root, 'spans.jsonl');
    const svc = await spawnWorldModelService({
      O2O_RUN_ROOT: fx.root,
      O2O_WM_MODEL: fx.model,
      O2O_WM_MAX_WAIT_MS: '150',
      O2O_TRACE_FILE: traceFile,
    });
    const c = connect(svc.address);
    const answers = await Promise.all(
      [2, 3, 4].map((rows) => {
        const { states, actions } = inputs(rows, rows);
        return rawPredict(c, {
          states: encodeFloatBatch(states, rows, OBS),
          actions: encodeFloatBatch(actions, rows, ACT),
          deterministic: true,
        });
      }),
    );
    assert.equal(await svc.stop(), 0);
    const spans = readFileSync(traceFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SpanRecord);
    const merged = Math.max(...answers.map((a) => a.mergedCallers));
    const batch = spans.find(
      (sp) => sp.name === 'wm.predict_batch' && sp.attributes['o2o.wm.callers_merged'] === merged,
    );
    assert.ok(batch !== undefined && merged > 1, `no merged batch span among ${spans.map((sp) => sp.name)}`);
    assert.equal(
      batch.attributes['o2o.wm.rows'],
      answers.filter((a) => a.mergedCallers === merged).reduce((n, a) => n + a.nextStates!.rows, 0),
    );
    assert.equal(typeof batch.attributes['o2o.wm.queue_wait_ms_max'], 'number');
    const serverSpans = new Set(
      spans.filter((sp) => sp.name === 'o2o.v1.WorldModel/Predict').map((sp) => sp.spanId),
    );
    assert.equal(batch.links.length, merged);
    for (const link of batch.links)
      assert.ok(serverSpans.has(link.spanId), 'each link names a Predict server span');
  });

  it('runs as a process: ready line, loads O2O_WM_MODEL, exits 0 on SIGTERM; bad config names the variable', async () => {
    const svc = await spawnWorldModelService({ O2O_RUN_ROOT: fx.root, O2O_WM_MODEL: fx.model });
    const remote = await RemoteWorldModel.connect(svc.address);
    const { states, actions } = inputs(5, 5);
    const got = new Float32Array(5 * OBS);
    const want = new Float32Array(5 * OBS);
    await remote.predictNextStates(states, actions, 5, got, { deterministic: true });
    await local.predictNextStates(states, actions, 5, want, { deterministic: true });
    assert.deepEqual(got, want);
    remote.close();
    assert.equal(await svc.stop(), 0);
    assert.match(svc.stderr(), /\[world-model\] SIGTERM: draining/);
    await assert.rejects(
      spawnWorldModelService({ O2O_RUN_ROOT: fx.root, O2O_WM_MAX_BATCH: 'lots' }),
      /exited with 2[\s\S]*O2O_WM_MAX_BATCH='lots'/,
    );
  });
});
