// Long runs must not grow memory: the wasm heap not at all, the JS heap and RSS within noise.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { wasmHeapBytes } from '../../lib/envs/mujoco.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { Rng } from '../../lib/envs/rng.ts';
import { VectorEnv } from '../../lib/envs/vector.ts';

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('envs/memory', () => {
  it('100k HalfCheetah steps (100 episodes) plus 20k VectorEnv steps keep memory flat', function () {
    this.timeout(120_000);
    const env = makeEnv('HalfCheetah-v5');
    const venv = new VectorEnv('Hopper-v5', { numEnvs: 4 });
    const rng = new Rng(1);
    const action = new Float64Array(6);
    const packed = new Float64Array(4 * 3);
    const run = (steps: number) => {
      for (let t = 0; t < steps; t++) {
        for (let k = 0; k < 6; k++) action[k] = rng.uniform(-1, 1);
        const r = env.step(action);
        if (r.truncated) env.reset();
        if (t % 5 === 0) {
          for (let k = 0; k < packed.length; k++) packed[k] = rng.uniform(-1, 1);
          venv.step(packed);
        }
      }
    };
    env.reset({ seed: 0 });
    venv.reset({ seed: 0 });
    run(10_000); // warm-up: JIT, allocator and V8 heap reach their working size
    gc();
    const before = {
      wasm: wasmHeapBytes(env.data),
      heap: process.memoryUsage().heapUsed,
      rss: process.memoryUsage().rss,
    };
    run(100_000);
    gc();
    const after = {
      wasm: wasmHeapBytes(env.data),
      heap: process.memoryUsage().heapUsed,
      rss: process.memoryUsage().rss,
    };
    env.close();
    venv.close();
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    // MuJoCo preallocates its arena per MjData, so the wasm heap must not grow by a single page.
    assert.equal(after.wasm, before.wasm, `wasm heap ${mib(before.wasm)} -> ${mib(after.wasm)}`);
    // After a full GC nothing per-step may survive: retaining even 40 bytes per step would add 4.6 MB.
    assert.ok(after.heap - before.heap < 4 * 2 ** 20, `JS heap ${mib(before.heap)} -> ${mib(after.heap)}`);
    // RSS is coarser (allocator caching, V8 semi-spaces, code space), so allow 32 MiB; a leak of one
    // small typed array (~400 bytes with its backing store) per step would exceed it.
    assert.ok(after.rss - before.rss < 32 * 2 ** 20, `RSS ${mib(before.rss)} -> ${mib(after.rss)}`);
  });
});

describe('envs/wasm memory growth', () => {
  it('keeps stepping correctly after the wasm memory grows under the cached views', () => {
    // The expected results, computed before any growth.
    const reference = makeEnv('Hopper-v5');
    reference.reset({ seed: 2 });
    reference.step([0.1, 0.2, 0.3]);
    const expected = Array.from({ length: 5 }, () => reference.step([0.3, -0.2, 0.1]));
    reference.close();

    const env = makeEnv('Hopper-v5');
    env.reset({ seed: 2 });
    env.step([0.1, 0.2, 0.3]);
    const start = wasmHeapBytes(env.data);
    // Allocate models until the wasm memory grows, which detaches every view taken before.
    const filler = [];
    while (wasmHeapBytes(env.data) === start && filler.length < 500) filler.push(makeEnv('Ant-v5'));
    assert.ok(wasmHeapBytes(env.data) > start, 'the wasm memory grew');
    for (const f of filler) f.close();
    for (const want of expected) {
      const got = env.step([0.3, -0.2, 0.1]);
      assert.ok(got.obs.every(Number.isFinite));
      assert.deepEqual(got, want);
    }
    env.close();
  });
});
