// Fuzzes every method of the world-model service (Info, Predict, Load, Train) on a real process with
// malformed requests: wrong sizes, NaN/±Inf, empty and oversized batches, rows beyond the queue, path
// traversal, missing and corrupt model files, out-of-range training settings, garbage bytes, and
// Predict before any model is loaded. Every one gets a client-error status with a message, the service
// stays up and still predicts, and its memory stays bounded.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadRequest, PredictRequest, TrainRequest } from '../../generated/proto/o2o/v1/world_model.js';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';
import { RemoteWorldModel, WorldModelServiceClient } from '../../services/world-model/client.ts';
import { makeRunRoot, type RunRootFixture } from '../services/world-model-fixtures.ts';
import {
  badBatch,
  type FuzzCase,
  FuzzRng,
  formatReport,
  fuzzRequestCount,
  garbage,
  goodBatch,
  rawClient,
  rssKb,
  runFuzz,
  varintField,
} from './fuzz-harness.ts';

const M = (name: string) => `/o2o.v1.WorldModel/${name}`;
const MAX_QUEUE = 512;
const MAX_MESSAGE = 1 << 20;
const BAD_PATHS = [
  '',
  '../escape.safetensors',
  '/etc/passwd',
  'a/../../b',
  'x\0y',
  'models/../../wm',
  'C:\\x',
];

interface Dims {
  obs: number;
  act: number;
}

function predict(rng: FuzzRng, d: Dims, n: number): FuzzCase {
  const rows = rng.int(1, 16);
  const states = goodBatch(rng, rows, d.obs);
  const actions = goodBatch(rng, rows, d.act);
  const enc = (m: PredictRequest) => Buffer.from(PredictRequest.encode(m).finish());
  const k = n % 8;
  const deterministic = rng.chance(0.5);
  if (k === 0) {
    const b = badBatch(rng, rows, d.obs);
    return {
      path: M('Predict'),
      kind: 'unary',
      messages: [enc({ states: b.batch, actions, deterministic })],
      label: `states ${b.label}`,
      mustFail: true,
    };
  }
  if (k === 1) {
    const b = badBatch(rng, rows, d.act);
    return {
      path: M('Predict'),
      kind: 'unary',
      messages: [enc({ states, actions: b.batch, deterministic })],
      label: `actions ${b.label}`,
      mustFail: true,
    };
  }
  if (k === 2) {
    const other = goodBatch(rng, rows + rng.int(1, 3), d.act);
    return {
      path: M('Predict'),
      kind: 'unary',
      messages: [enc({ states, actions: other, deterministic })],
      label: 'rows differ',
      mustFail: true,
    };
  }
  if (k === 3) {
    const r = MAX_QUEUE + rng.int(1, 200);
    const msg = enc({ states: goodBatch(rng, r, d.obs), actions: goodBatch(rng, r, d.act), deterministic });
    return { path: M('Predict'), kind: 'unary', messages: [msg], label: `${r} rows > queue`, mustFail: true };
  }
  if (k === 4) {
    const which = rng.pick(['states', 'actions', 'both']);
    const m: PredictRequest = {
      states: which === 'states' || which === 'both' ? undefined : states,
      actions: which === 'actions' || which === 'both' ? undefined : actions,
      deterministic,
    };
    return {
      path: M('Predict'),
      kind: 'unary',
      messages: [enc(m)],
      label: `${which} missing`,
      mustFail: true,
    };
  }
  const g = garbage(rng, enc({ states, actions, deterministic }));
  return {
    path: M('Predict'),
    kind: 'unary',
    messages: [g.bytes],
    label: g.label,
    mustFail: g.label !== 'bytes flipped',
  };
}

function load(rng: FuzzRng, fx: RunRootFixture): FuzzCase {
  const enc = (m: LoadRequest) => Buffer.from(LoadRequest.encode(m).finish());
  const k = rng.int(0, 5);
  if (k === 0)
    return {
      path: M('Load'),
      kind: 'unary',
      messages: [enc({ modelPath: rng.pick(BAD_PATHS) })],
      label: 'path traversal',
      mustFail: true,
    };
  if (k === 1)
    return {
      path: M('Load'),
      kind: 'unary',
      messages: [enc({ modelPath: rng.pick(['models/none.safetensors', 'data', 'models']) })],
      label: 'missing file',
      mustFail: true,
    };
  if (k === 2)
    return {
      path: M('Load'),
      kind: 'unary',
      messages: [enc({ modelPath: rng.pick(['junk.safetensors', 'notes.txt', fx.dataset]) })],
      label: 'not a model',
      mustFail: true,
    };
  if (k === 3) {
    const seed = rng.pick([2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER]);
    return {
      path: M('Load'),
      kind: 'unary',
      messages: [enc({ modelPath: fx.model, noiseSeed: seed })],
      label: `noise_seed ${seed}`,
      mustFail: true,
    };
  }
  if (k === 4) {
    const msg = Buffer.concat([
      Buffer.from([0x0a, fx.model.length]),
      Buffer.from(fx.model),
      varintField(2, 2n ** 64n - 1n),
    ]);
    return { path: M('Load'), kind: 'unary', messages: [msg], label: 'noise_seed 2^64-1', mustFail: true };
  }
  const g = garbage(rng, enc({ modelPath: 'models/none.safetensors' }));
  return { path: M('Load'), kind: 'unary', messages: [g.bytes], label: g.label, mustFail: true };
}

function train(rng: FuzzRng, fx: RunRootFixture): FuzzCase {
  const base: TrainRequest = {
    datasetPath: fx.dataset,
    envId: 'InvertedPendulum-v5',
    epochs: 2,
    seed: 1,
    outputPath: 'out/wm.safetensors',
    batchSize: 64,
    learningRate: 1e-3,
    latentDim: 4,
    encoderHidden: [8],
    decoderHidden: [8],
    transitionHidden: [8],
  };
  // Exactly one field is wrong, so no case can start a real training run.
  const wrong: [string, Partial<TrainRequest>][] = [
    ['dataset_path traversal', { datasetPath: rng.pick(BAD_PATHS) }],
    ['dataset missing', { datasetPath: 'data/none.hdf5' }],
    ['output_path traversal', { outputPath: rng.pick(BAD_PATHS) }],
    ['epochs', { epochs: rng.pick([0, 100_001, 0xffff_ffff]) }],
    ['seed', { seed: rng.pick([2 ** 31, 2 ** 50]) }],
    ['batch_size', { batchSize: rng.pick([(1 << 20) + 1, 0xffff_ffff]) }],
    ['learning_rate', { learningRate: rng.pick([-1, 1, 5, Number.NaN, Number.POSITIVE_INFINITY]) }],
    ['latent_dim', { latentDim: rng.pick([1025, 0xffff_ffff]) }],
    ['encoder_hidden', { encoderHidden: rng.pick([[0], [9000], Array(17).fill(4)]) }],
    ['transition_hidden', { transitionHidden: [8, 0xffff_ffff] }],
    ['env_id', { envId: rng.pick(['no spaces allowed', 'x'.repeat(200), '../../etc']) }],
  ];
  const [label, patch] = rng.pick(wrong);
  return {
    path: M('Train'),
    kind: 'server-stream',
    messages: [Buffer.from(TrainRequest.encode({ ...base, ...patch }).finish())],
    label,
    mustFail: true,
  };
}

describe('fuzz: world-model gRPC (real process)', function () {
  this.timeout(300_000);
  let fx: RunRootFixture;
  let wm: SpawnedService;

  before(async () => {
    fx = await makeRunRoot('o2o-fuzz-wm-');
    writeFileSync(join(fx.root, 'junk.safetensors'), new FuzzRng(5).bytes(4096));
    writeFileSync(join(fx.root, 'notes.txt'), 'not a model\n');
    wm = await spawnService({
      name: 'world-model',
      main: fileURLToPath(new URL('../../services/world-model/main.ts', import.meta.url)),
      env: {
        O2O_NATS_URL: 'none',
        O2O_WM_PHASE_WORKER: 'false',
        O2O_RUN_ROOT: fx.root,
        O2O_WM_MAX_QUEUE: String(MAX_QUEUE),
        O2O_WM_MAX_MESSAGE_BYTES: String(MAX_MESSAGE),
      },
      readyTimeoutMs: 60_000,
      stopGraceMs: 10_000,
    });
  });
  after(async () => {
    await wm?.stop();
    if (fx !== undefined) rmSync(fx.root, { recursive: true, force: true });
  });

  it(`refuses ${fuzzRequestCount()} malformed requests to every method, stays up, memory bounded`, async () => {
    const client = rawClient(wm.address);
    const admin = new WorldModelServiceClient(wm.address, { tls: null, callTimeoutMs: 20_000 });
    const rng = new FuzzRng(2);
    const total = fuzzRequestCount();
    try {
      // Wrong state: no model loaded yet, so even well-formed predictions are FAILED_PRECONDITION.
      const early: FuzzCase[] = Array.from({ length: 30 }, () => {
        const msg = PredictRequest.encode({
          states: goodBatch(rng, 2, 4),
          actions: goodBatch(rng, 2, 1),
          deterministic: true,
        }).finish();
        return {
          path: M('Predict'),
          kind: 'unary',
          messages: [Buffer.from(msg)],
          label: 'no model loaded',
          mustFail: true,
        };
      });
      const first = await runFuzz(client, early);
      assert.deepEqual(first.violations, []);
      assert.deepEqual([...first.byMethod.get('Predict')!.keys()], ['FAILED_PRECONDITION']);

      const info = await admin.load(fx.model);
      const dims = { obs: info.obsDim, act: info.actDim };
      const oversized = PredictRequest.encode({
        states: goodBatch(rng, (MAX_MESSAGE / 16) | 0, 4),
        actions: goodBatch(rng, (MAX_MESSAGE / 16) | 0, 1),
        deterministic: true,
      }).finish();
      const make = (count: number): FuzzCase[] => {
        const cases: FuzzCase[] = [
          {
            path: M('Predict'),
            kind: 'unary',
            messages: [Buffer.from(oversized)],
            label: 'oversized message',
            mustFail: true,
          },
        ];
        for (let i = 0; cases.length < count; i++) {
          const k = i % 10;
          if (k < 6) cases.push(predict(rng, dims, i));
          else if (k < 8) cases.push(load(rng, fx));
          else if (k < 9) cases.push(train(rng, fx));
          else {
            const g = garbage(rng, Buffer.alloc(0));
            cases.push({
              path: M('Info'),
              kind: 'unary',
              messages: [g.bytes],
              label: g.label,
              mustFail: false,
            });
          }
        }
        return cases;
      };
      await runFuzz(client, make(60)); // warm-up: lazily loaded code and buffers in the baseline
      const before = rssKb(wm.pid);
      const report = await runFuzz(client, make(total - 30));
      const after = rssKb(wm.pid);
      report.requests += first.requests;
      report.byMethod
        .get('Predict')!
        .set(
          'FAILED_PRECONDITION',
          (report.byMethod.get('Predict')!.get('FAILED_PRECONDITION') ?? 0) + first.requests,
        );
      console.log(`${formatReport('world-model', report)}\n  RSS ${before} kB -> ${after} kB`);
      assert.deepEqual(report.violations.slice(0, 20), []);
      for (const m of ['Info', 'Predict', 'Load', 'Train']) assert.ok(report.byMethod.has(m), `${m} fuzzed`);

      // Still serving the model it had: a valid prediction works.
      const remote = await RemoteWorldModel.connect(wm.address, { tls: null });
      try {
        const out = new Float32Array(3 * dims.obs);
        await remote.predictNextStates(
          new Float32Array(3 * dims.obs),
          new Float32Array(3 * dims.act),
          3,
          out,
          { deterministic: true },
        );
        assert.ok(out.every(Number.isFinite));
        assert.equal((await admin.info()).modelPath, fx.model);
      } finally {
        remote.close();
      }
      assert.ok(after - before < 150_000, `RSS grew by ${after - before} kB`);
    } finally {
      client.close();
      admin.close();
    }
  });
});
