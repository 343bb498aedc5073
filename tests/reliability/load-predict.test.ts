// A lean run of bench/predict-load.ts: a real world-model service under 1, 16 and 64 concurrent Predict
// callers with a small queue bound. The only error allowed is RESOURCE_EXHAUSTED (the bounded queue
// refusing work), every level still completes calls, and the server's memory does not grow with the
// load. (Whether the queue overflows depends on timing: the batcher dispatches as soon as the previous
// batch's callers are back, so with a fast model requests rarely pile up; tests/services/world-model
// checks the RESOURCE_EXHAUSTED answer itself.)
import assert from 'node:assert/strict';
import { formatPredictLoad, runPredictLoad } from '../../bench/predict-load.ts';

describe('load: concurrent Predict callers against a real world-model service', function () {
  this.timeout(180_000);

  it('answers every caller or refuses with RESOURCE_EXHAUSTED, nothing else, memory bounded', async () => {
    const r = await runPredictLoad({
      callerCounts: [1, 16, 64],
      secondsPerLevel: 1.5,
      rowsPerCall: 64,
      // Four calls' worth of queue.
      maxQueueRows: 256,
      obsDim: 4,
      actDim: 1,
      vae: { latentDim: 4, encoderHidden: [32, 32], decoderHidden: [32, 32], transitionHidden: [32, 32] },
    });
    console.log(formatPredictLoad(r));
    for (const l of r.levels) {
      assert.deepEqual(l.errors, {}, `${l.callers} callers: statuses other than RESOURCE_EXHAUSTED`);
      assert.ok(l.ok > 0, `${l.callers} callers: no call succeeded`);
      assert.ok(l.rssMaxMb - r.rssBaselineMb < 150, `${l.callers} callers: RSS rose to ${l.rssMaxMb} MB`);
    }
    assert.equal(r.levels[0]!.rejected, 0, 'one caller never overflows the queue');
    assert.ok(r.rssFinalMb - r.rssBaselineMb < 100, `RSS ${r.rssBaselineMb} -> ${r.rssFinalMb} MB`);
  });
});
