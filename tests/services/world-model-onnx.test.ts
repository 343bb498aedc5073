// The ONNX export of the VAE's prediction pass: the file parses back as an ONNX model with the expected
// graph (opset, inputs, outputs, Gemm per linear layer, initializers), and a small interpreter of its
// operators (float64) reproduces the native model's predictions, deterministic and stochastic with the
// same noise. ONNX Runtime itself predicts as the native model: onnxruntime-web (always installed) always,
// onnxruntime-node when installed (optional), directly and through the service.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type GraphProto, ModelProto, type TensorProto } from '../../generated/proto/onnx/onnx-subset.js';
import { NnRng } from '../../lib/nn/index.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { exportVaeOnnx, ONNX_OPSET } from '../../lib/world-model/onnx-export.ts';
import {
  loadOnnxRuntime,
  ONNX_RUNTIMES,
  OnnxRuntimeMissingError,
  OnnxVaeWorldModel,
} from '../../lib/world-model/onnx-runtime-world-model.ts';
import { RemoteWorldModel } from '../../services/world-model/client.ts';
import { startServer } from '../../services/world-model/server.ts';
import { makeRunRoot, type RunRootFixture, testServerSettings } from './world-model-fixtures.ts';

interface Value {
  dims: number[];
  data: Float64Array;
}

function fromTensor(t: TensorProto): Value {
  assert.equal(t.dataType, 1, `${t.name}: float tensor`);
  const copy = new Uint8Array(t.rawData);
  return { dims: t.dims, data: Float64Array.from(new Float32Array(copy.buffer, 0, copy.byteLength / 4)) };
}

/** Evaluates the operators the exporter uses (Gemm transB=1, Relu, Add/Sub/Mul/Div with broadcasting of a trailing vector or scalar, Exp, Concat axis 1). */
function interpret(graph: GraphProto, feeds: Record<string, Value>): Record<string, Value> {
  const env = new Map<string, Value>(Object.entries(feeds));
  for (const t of graph.initializer) env.set(t.name, fromTensor(t));
  const get = (n: string): Value => {
    const v = env.get(n);
    assert.ok(v !== undefined, `value '${n}' used before it is defined`);
    return v;
  };
  const binary = (a: Value, b: Value, f: (x: number, y: number) => number): Value => {
    const out = new Float64Array(a.data.length);
    const bl = b.data.length;
    assert.ok(bl === a.data.length || bl === (a.dims.at(-1) ?? 1) || bl === 1, 'broadcastable');
    for (let i = 0; i < out.length; i++) out[i] = f(a.data[i]!, b.data[bl === a.data.length ? i : i % bl]!);
    return { dims: a.dims, data: out };
  };
  for (const node of graph.node) {
    const ins = node.input.map(get);
    const attr = (name: string) => node.attribute.find((a) => a.name === name)?.i ?? 0;
    let out: Value;
    switch (node.opType) {
      case 'Gemm': {
        assert.equal(attr('transB'), 1);
        const [x, w, b] = ins as [Value, Value, Value];
        const [n, k] = x.dims as [number, number];
        const [m, k2] = w.dims as [number, number];
        assert.equal(k, k2, `${node.name}: inner dims`);
        const data = new Float64Array(n * m);
        for (let r = 0; r < n; r++)
          for (let j = 0; j < m; j++) {
            let s = b.data[j]!;
            for (let q = 0; q < k; q++) s += x.data[r * k + q]! * w.data[j * k + q]!;
            data[r * m + j] = s;
          }
        out = { dims: [n, m], data };
        break;
      }
      case 'Relu':
        out = { dims: ins[0]!.dims, data: ins[0]!.data.map((v) => Math.max(0, v)) };
        break;
      case 'Exp':
        out = { dims: ins[0]!.dims, data: ins[0]!.data.map(Math.exp) };
        break;
      case 'Add':
        out = binary(ins[0]!, ins[1]!, (x, y) => x + y);
        break;
      case 'Sub':
        out = binary(ins[0]!, ins[1]!, (x, y) => x - y);
        break;
      case 'Mul':
        out = binary(ins[0]!, ins[1]!, (x, y) => x * y);
        break;
      case 'Div':
        out = binary(ins[0]!, ins[1]!, (x, y) => x / y);
        break;
      case 'Concat': {
        assert.equal(attr('axis'), 1);
        const [a, b] = ins as [Value, Value];
        const [n, ca] = a.dims as [number, number];
        const cb = b.dims[1]!;
        const data = new Float64Array(n * (ca + cb));
        for (let r = 0; r < n; r++) {
          data.set(a.data.subarray(r * ca, (r + 1) * ca), r * (ca + cb));
          data.set(b.data.subarray(r * cb, (r + 1) * cb), r * (ca + cb) + ca);
        }
        out = { dims: [n, ca + cb], data };
        break;
      }
      default:
        assert.fail(`unexpected operator ${node.opType}`);
    }
    env.set(node.output[0]!, out);
  }
  return Object.fromEntries(graph.output.map((o) => [o.name, get(o.name)]));
}

function assertClose(got: ArrayLike<number>, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3);
    assert.ok(err <= 1e-4, `${what}[${i}]: ${got[i]} vs ${want[i]} (relative ${err})`);
  }
}

describe('world model exported to ONNX', function () {
  this.timeout(120_000);
  let fx: RunRootFixture;
  let native: NativeVaeWorldModel;
  const rows = 33;
  const states = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i * 0.9) * 0.3);
  const actions = Float32Array.from({ length: rows }, (_, i) => Math.cos(i * 0.4) * 3);
  const feeds = (extra: Record<string, Value> = {}): Record<string, Value> => ({
    states: { dims: [rows, 4], data: Float64Array.from(states) },
    actions: { dims: [rows, 1], data: Float64Array.from(actions) },
    ...extra,
  });

  before(async () => {
    fx = await makeRunRoot('o2o-wm-onnx-');
    native = NativeVaeWorldModel.load(join(fx.root, fx.model));
  });
  after(() => rmSync(fx.root, { recursive: true, force: true }));

  it('writes an ONNX model with the expected graph that computes the native predictions', async () => {
    const path = join(fx.root, 'wm.onnx');
    const size = exportVaeOnnx(native, path);
    const model = ModelProto.decode(readFileSync(path));
    assert.equal(size, readFileSync(path).length);
    assert.equal(model.irVersion, 8);
    assert.deepEqual(model.opsetImport, [{ domain: '', version: ONNX_OPSET }]);
    const g = model.graph!;
    assert.deepEqual(
      g.input.map((i) => i.name),
      ['states', 'actions'],
    );
    assert.deepEqual(
      g.output.map((o) => o.name),
      ['next_states'],
    );
    const dims = g.input[0]!.type?.value?.value.shape?.dim.map((d) => d.value?.value);
    assert.deepEqual(dims, ['N', 4]);
    // 2 trunk + 1 mean head + 3 transition + 3 decoder linear layers (32-wide small model).
    assert.equal(g.node.filter((n) => n.opType === 'Gemm').length, 9);
    assert.equal(g.node.filter((n) => n.opType === 'Concat').length, 1);
    assert.equal(
      g.node.some((n) => n.opType === 'Exp'),
      false,
      'no sampling in the deterministic graph',
    );
    const w0 = g.initializer.find((t) => t.name === 'encoder.trunk.0.weight')!;
    assert.deepEqual(w0.dims, [32, 4]);
    assert.equal(w0.rawData.length, 32 * 4 * 4);

    const want = new Float32Array(rows * 4);
    await native.predictNextStates(states, actions, rows, want, { deterministic: true });
    assertClose(interpret(g, feeds())['next_states']!.data, want, 'deterministic graph');
  });

  it('exports a stochastic graph taking the noise as an input', async () => {
    const path = join(fx.root, 'wm-stochastic.onnx');
    exportVaeOnnx(native, path, { stochastic: true });
    const g = ModelProto.decode(readFileSync(path)).graph!;
    assert.deepEqual(
      g.input.map((i) => i.name),
      ['states', 'actions', 'noise'],
    );
    const noise = new Float32Array(rows * 4);
    new NnRng(21).fillNormal(noise);
    native.reseedNoise(21);
    const want = new Float32Array(rows * 4);
    await native.predictNextStates(states, actions, rows, want);
    const got = interpret(g, feeds({ noise: { dims: [rows, 4], data: Float64Array.from(noise) } }));
    assertClose(got['next_states']!.data, want, 'stochastic graph, same noise');
  });

  it('predicts as the native model on each installed runtime (onnxruntime-web always), same-seed noise too', async () => {
    const served: string[] = [];
    for (const runtime of ONNX_RUNTIMES) {
      let onnx: OnnxVaeWorldModel;
      try {
        onnx = await OnnxVaeWorldModel.fromSafetensors(join(fx.root, fx.model), {
          seed: 5,
          runtimes: [runtime],
        });
      } catch (e) {
        // onnxruntime-node is optional (npm skips it where its install step cannot download binaries).
        if (runtime === 'onnxruntime-node' && e instanceof OnnxRuntimeMissingError) continue;
        throw e;
      }
      try {
        assert.match(onnx.runtime, new RegExp(`^${runtime} \\d+\\.\\d+\\.\\d+$`));
        const want = new Float32Array(rows * 4);
        const got = new Float32Array(rows * 4);
        await native.predictNextStates(states, actions, rows, want, { deterministic: true });
        await onnx.predictNextStates(states, actions, rows, got, { deterministic: true });
        assertClose(got, want, `${runtime}, deterministic`);
        native.reseedNoise(5);
        await native.predictNextStates(states, actions, rows, want);
        await onnx.predictNextStates(states, actions, rows, got);
        assertClose(got, want, `${runtime}, stochastic with the same seed`);
        served.push(runtime);
      } finally {
        onnx.dispose();
      }
    }
    assert.ok(served.includes('onnxruntime-web'), 'onnxruntime-web installs everywhere');
  });

  it('serves through the service with O2O_WM_IMPL=onnx and reports the runtime in Info', async () => {
    const s = await startServer(testServerSettings(fx.root, fx.model, { impl: 'onnx' }));
    const remote = await RemoteWorldModel.connect(s.address);
    try {
      assert.equal(remote.remote.implementation, 'onnx');
      assert.match(remote.remote.version, /^onnxruntime-(node|web) \d+\.\d+\.\d+; training runs natively$/);
      const want = new Float32Array(rows * 4);
      const got = new Float32Array(rows * 4);
      await native.predictNextStates(states, actions, rows, want, { deterministic: true });
      await remote.predictNextStates(states, actions, rows, got, { deterministic: true });
      assertClose(got, want, 'over gRPC');
    } finally {
      remote.close();
      await s.shutdown();
    }
  });

  it('without an ONNX Runtime fails with a message naming each one tried', async () => {
    const runtimes = ['o2o-no-such-runtime', 'o2o-nor-this-one'];
    await assert.rejects(loadOnnxRuntime(runtimes), (e: Error) => {
      assert.ok(e instanceof OnnxRuntimeMissingError);
      assert.match(
        e.message,
        /no ONNX Runtime is installed \(o2o-no-such-runtime: .*; o2o-nor-this-one: .*\)/,
      );
      assert.match(e.message, /npm ci.*O2O_WM_IMPL=native\|tfjs/);
      return true;
    });
    await assert.rejects(
      OnnxVaeWorldModel.fromSafetensors(join(fx.root, fx.model), { runtimes }),
      OnnxRuntimeMissingError,
    );
  });
});
