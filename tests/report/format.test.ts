import assert from 'node:assert/strict';
import { formatCount, formatSpeedup } from '../../lib/report/format.ts';

describe('report number formatting', () => {
  it('counts read as k and M', () => {
    assert.equal(formatCount(45000), '45k');
    assert.equal(formatCount(7500), '7.5k');
    assert.equal(formatCount(1250000), '1.25M');
    assert.equal(formatCount(800), '800');
  });

  it('a speed-up is the inverse ratio, and a ratio of 0 says the threshold was met at step 0', () => {
    assert.equal(formatSpeedup(0.3), '3.3×');
    assert.equal(formatSpeedup(1), '1.0×');
    // The pre-trained policy met scratch's final return before any online step: no finite factor.
    assert.equal(formatSpeedup(0), 'at step 0');
  });
});
