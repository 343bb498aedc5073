// The dynamic batcher on its own, over a real (small, untrained) native VAE: batch-size limits, the
// wait window, oversize requests, the queue bound, drain on shutdown, and when a batch goes without waiting
// (full, or every caller of the previous batch is back).
import assert from 'node:assert/strict';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { StateNormalizer } from '../../lib/world-model/normalizer.ts';
import { Vae } from '../../lib/world-model/vae.ts';
import { BatcherClosedError, PredictBatcher, QueueFullError } from '../../services/world-model/batcher.ts';

const OBS = 3;
const ACT = 2;
const model = new NativeVaeWorldModel(
  new Vae(
    { obsDim: OBS, actDim: ACT, latentDim: 2, encoderHidden: [8], decoderHidden: [8], transitionHidden: [8] },
    3,
  ),
  new StateNormalizer(new Float32Array(OBS), new Float32Array(OBS).fill(1)),
);
const rowsOf = (n: number, seed: number) => ({
  s: Float32Array.from({ length: n * OBS }, (_, i) => Math.sin(seed + i)),
  a: Float32Array.from({ length: n * ACT }, (_, i) => Math.cos(seed + i)),
});

describe('world-model PredictBatcher', () => {
  it('never merges past maxBatchRows, runs an oversize request alone, and answers each caller', async () => {
    const b = new PredictBatcher(model, { maxBatchRows: 4, maxWaitMs: 20, maxQueueRows: 100 });
    const sizes = [3, 3, 1, 10];
    const results = await Promise.all(
      sizes.map((n, k) => {
        const { s, a } = rowsOf(n, k);
        return b.submit(s, a, n, true);
      }),
    );
    for (const r of results) assert.ok(r.batchRows <= 4 || r.mergedCallers === 1);
    // 3 + 3 > 4: the first 3 goes alone; then 3 + 1; then the 10-row request by itself.
    assert.deepEqual(
      results.map((r) => r.batchRows),
      [3, 4, 4, 10],
    );
    for (const [k, n] of sizes.entries()) {
      const { s, a } = rowsOf(n, k);
      const want = new Float32Array(n * OBS);
      model.predictNextStatesSync(s, a, n, want, { deterministic: true });
      const got = results[k]!.nextStates;
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5);
    }
    assert.equal(b.stats.batches, 3);
    assert.equal(b.stats.rows, 17);
  });

  it('rejects beyond maxQueueRows with QueueFullError and after drain with BatcherClosedError', async () => {
    const b = new PredictBatcher(model, { maxBatchRows: 64, maxWaitMs: 50, maxQueueRows: 5 });
    const { s, a } = rowsOf(4, 1);
    const first = b.submit(s, a, 4, false);
    await assert.rejects(b.submit(s, a, 4, false), QueueFullError);
    assert.equal(b.queueRows, 4);
    await b.drain(); // answers the queued request without waiting out the window
    assert.equal((await first).batchRows, 4);
    await assert.rejects(b.submit(s, a, 4, false), BatcherClosedError);
  });

  it('waits up to maxWaitMs for company, and not longer', async () => {
    const b = new PredictBatcher(model, { maxBatchRows: 64, maxWaitMs: 80, maxQueueRows: 64 });
    const { s, a } = rowsOf(2, 2);
    const t0 = performance.now();
    const p1 = b.submit(s, a, 2, true);
    await new Promise((r) => setTimeout(r, 20));
    const p2 = b.submit(s, a, 2, true);
    const [r1, r2] = await Promise.all([p1, p2]);
    const waited = performance.now() - t0;
    assert.equal(r1.mergedCallers, 2);
    assert.equal(r2.batchRows, 4);
    assert.ok(waited >= 75, `dispatched after ${waited} ms, before the window closed`);
  });

  it('dispatches a full batch without waiting out the window', async () => {
    const b = new PredictBatcher(model, { maxBatchRows: 4, maxWaitMs: 5000, maxQueueRows: 64 });
    const { s, a } = rowsOf(4, 4);
    const t0 = performance.now();
    const r = await b.submit(s, a, 4, true);
    const took = performance.now() - t0;
    assert.equal(r.batchRows, 4);
    assert.ok(took < 2500, `a full batch waited ${took} ms`);
    assert.deepEqual(b.stats.dispatched, { full: 1, 'callers-back': 0, waited: 0, drain: 0, seeded: 0 });
  });

  it('a lone caller waits for company once, then is answered without waiting', async () => {
    const maxWaitMs = 600;
    const b = new PredictBatcher(model, { maxBatchRows: 64, maxWaitMs, maxQueueRows: 64 });
    const { s, a } = rowsOf(2, 5);
    const t0 = performance.now();
    await b.submit(s, a, 2, true);
    const first = performance.now() - t0;
    assert.ok(first >= maxWaitMs - 5, `the first call was dispatched after ${first} ms`);
    const t1 = performance.now();
    for (let k = 0; k < 3; k++) assert.equal((await b.submit(s, a, 2, true)).mergedCallers, 1);
    const next = (performance.now() - t1) / 3;
    assert.ok(next < maxWaitMs / 2, `later calls of the lone caller took ${next} ms each`);
    assert.deepEqual(b.stats.dispatched, { full: 0, 'callers-back': 3, waited: 1, drain: 0, seeded: 0 });
  });

  it('merges requests received together even when the previous batch had one caller', async () => {
    const b = new PredictBatcher(model, { maxBatchRows: 64, maxWaitMs: 600, maxQueueRows: 64 });
    const { s, a } = rowsOf(1, 7);
    await b.submit(s, a, 1, true); // the lone caller: from now on one returning request is "all back"
    // Four requests in one tick, as when a model call that blocked the event loop ends and the requests
    // that arrived during it are read: they form one batch, not four.
    const results = await Promise.all([0, 1, 2, 3].map(() => b.submit(s, a, 1, true)));
    assert.deepEqual(
      results.map((r) => r.mergedCallers),
      [4, 4, 4, 4],
    );
    assert.equal(b.stats.batches, 2);
  });

  it('merges the previous batch’s callers as soon as all are back, and waits while some are missing', async () => {
    const maxWaitMs = 600;
    const b = new PredictBatcher(model, { maxBatchRows: 64, maxWaitMs, maxQueueRows: 64 });
    const { s, a } = rowsOf(1, 6);
    const round = async (callers: number, gapMs: number) => {
      const t0 = performance.now();
      const answers = [];
      for (let c = 0; c < callers; c++) {
        if (c > 0) await new Promise((r) => setTimeout(r, gapMs));
        answers.push(b.submit(s, a, 1, true));
      }
      const results = await Promise.all(answers);
      return { merged: results.map((r) => r.mergedCallers), ms: performance.now() - t0 };
    };
    // First round: nothing known about the callers, the window is waited out.
    assert.deepEqual((await round(3, 0)).merged, [3, 3, 3]);
    // All three back 20 ms apart: dispatched when the third arrives, long before the window closes.
    const back = await round(3, 20);
    assert.deepEqual(back.merged, [3, 3, 3]);
    assert.ok(back.ms < maxWaitMs - 100, `three returning callers took ${back.ms} ms`);
    // Only two of three come back: the window is waited out again, then the two are merged.
    const partial = await round(2, 0);
    assert.deepEqual(partial.merged, [2, 2]);
    assert.ok(partial.ms >= maxWaitMs - 5, `two of three callers were dispatched after ${partial.ms} ms`);
    assert.deepEqual(b.stats.dispatched, { full: 0, 'callers-back': 1, waited: 2, drain: 0, seeded: 0 });
  });
});

describe('world-model PredictBatcher: requests with a noise seed', () => {
  it('runs each alone, its noise restarted at its seed, next to merged unseeded requests', async () => {
    const b = new PredictBatcher(model, { maxBatchRows: 64, maxWaitMs: 20, maxQueueRows: 100 });
    const { s, a } = rowsOf(5, 1);
    const want = new Float32Array(5 * OBS);
    const reference = new NativeVaeWorldModel(model.vae, model.normalizer);
    reference.reseedNoise(42);
    reference.predictNextStatesSync(s, a, 5, want);
    const other = rowsOf(2, 7);
    const results = await Promise.all([
      b.submit(other.s, other.a, 2, false),
      b.submit(s, a, 5, false, 42),
      b.submit(other.s, other.a, 2, false),
      b.submit(s, a, 5, false, 42),
    ]);
    assert.deepEqual(results[1]!.nextStates, want);
    assert.deepEqual(results[3]!.nextStates, want);
    assert.equal(results[1]!.mergedCallers, 1);
    assert.equal(results[0]!.mergedCallers, 2, 'the unseeded ones still merge');
    assert.equal(b.stats.dispatched.seeded, 2);
    await assert.rejects(b.submit(s, a, 5, true, 42), /only for stochastic predictions/);
  });
});
