// The tfjs port of the VAE prediction pass loads the native model's weights and predicts the same next
// states (within 1e-4 relative), deterministically and, with the same noise seed, stochastically.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { TfjsVaeWorldModel } from '../../lib/world-model/tfjs-vae-world-model.ts';
import { RemoteWorldModel } from '../../services/world-model/client.ts';
import { startServer } from '../../services/world-model/server.ts';
import { makeRunRoot, type RunRootFixture, testServerSettings } from './world-model-fixtures.ts';

function assertClose(got: Float32Array, want: Float32Array, rel: number, what: string): void {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3);
    worst = Math.max(worst, err);
  }
  assert.ok(worst <= rel, `${what}: worst relative error ${worst} > ${rel}`);
}

describe('world model on tfjs', function () {
  this.timeout(120_000);
  let fx: RunRootFixture;
  before(async () => {
    fx = await makeRunRoot('o2o-wm-tfjs-');
  });
  after(() => rmSync(fx.root, { recursive: true, force: true }));

  it('predicts as the native model within 1e-4 relative (deterministic and same-seed stochastic)', async () => {
    const path = join(fx.root, fx.model);
    const native = NativeVaeWorldModel.load(path);
    const tfjs = await TfjsVaeWorldModel.load(path, { seed: 11 });
    try {
      assert.match(tfjs.backend, /^(tensorflow|wasm|cpu)$/);
      const rows = 257;
      const states = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i * 0.7) * 0.4);
      const actions = Float32Array.from({ length: rows }, (_, i) => Math.cos(i * 1.3) * 3);
      const want = new Float32Array(rows * 4);
      const got = new Float32Array(rows * 4);
      await native.predictNextStates(states, actions, rows, want, { deterministic: true });
      await tfjs.predictNextStates(states, actions, rows, got, { deterministic: true });
      assertClose(got, want, 1e-4, 'deterministic');
      native.reseedNoise(11);
      await native.predictNextStates(states, actions, rows, want);
      await tfjs.predictNextStates(states, actions, rows, got);
      assertClose(got, want, 1e-4, 'stochastic, same noise stream');
    } finally {
      tfjs.dispose();
    }
  });

  it('refuses malformed batches exactly as the native model does (same errors, naming row and column)', async () => {
    const path = join(fx.root, fx.model);
    const native = NativeVaeWorldModel.load(path);
    const tfjs = await TfjsVaeWorldModel.load(path, { seed: 11 });
    try {
      const rows = 6;
      const ok = () => ({
        states: new Float32Array(rows * 4),
        actions: new Float32Array(rows),
        out: new Float32Array(rows * 4),
      });
      const withNaN = ok();
      withNaN.actions[3] = Number.NaN;
      const withInf = ok();
      withInf.states[9] = Number.POSITIVE_INFINITY;
      const cases: [
        string,
        { states: Float32Array; actions: Float32Array; out: Float32Array },
        number,
        RegExp,
      ][] = [
        ['count 0', ok(), 0, /count must be a positive integer, got 0/],
        ['short states', { ...ok(), states: new Float32Array(rows * 4 - 1) }, rows, /states has 23 values/],
        ['NaN action', withNaN, rows, /actions\[row 3, col 0\] is NaN/],
        ['infinite state', withInf, rows, /states\[row 2, col 1\] is Infinity/],
        ['plain array', { ...ok(), out: [] as unknown as Float32Array }, rows, /out must be a Float32Array/],
      ];
      for (const [what, b, count, message] of cases) {
        const errorOf = async (wm: NativeVaeWorldModel | TfjsVaeWorldModel) =>
          wm.predictNextStates(b.states, b.actions, count, b.out).then(
            () => assert.fail(`${what}: ${wm.info.implementation} accepted it`),
            (e: Error) => e.message,
          );
        const fromNative = await errorOf(native);
        assert.match(fromNative, message, what);
        assert.equal(await errorOf(tfjs), fromNative, what);
      }
    } finally {
      tfjs.dispose();
    }
  });

  it('serves through the service with O2O_WM_IMPL=tfjs and reports the backend in Info', async () => {
    const s = await startServer(testServerSettings(fx.root, fx.model, { impl: 'tfjs' }));
    const remote = await RemoteWorldModel.connect(s.address);
    try {
      assert.equal(remote.remote.implementation, 'tfjs');
      assert.match(
        remote.remote.version,
        /^tfjs \d+\.\d+\.\d+, backend (tensorflow|wasm|cpu); training runs natively$/,
      );
      const native = NativeVaeWorldModel.load(join(fx.root, fx.model));
      const states = Float32Array.from({ length: 12 }, (_, i) => i * 0.01);
      const actions = Float32Array.from([0.5, -1, 2]);
      const want = new Float32Array(12);
      const got = new Float32Array(12);
      await native.predictNextStates(states, actions, 3, want, { deterministic: true });
      await remote.predictNextStates(states, actions, 3, got, { deterministic: true });
      assertClose(got, want, 1e-4, 'over gRPC');
    } finally {
      remote.close();
      await s.shutdown();
    }
  });
});
