// The dynamic batcher on its own, over a real (small, untrained) native VAE: batch-size limits, the
// wait window, oversize requests, the queue bound, and drain on shutdown.
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
});
