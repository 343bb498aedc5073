// The progress line's rate: steps per second, or seconds per step when a step takes longer than a second.
import assert from 'node:assert/strict';
import { formatProgress, formatRate } from '../../cli/progress.ts';

describe('cli progress line', () => {
  it('shows fast steps per second and slow ones in seconds each', () => {
    assert.equal(formatRate(271.4), '271/s');
    assert.equal(formatRate(0.05), '20.0 s each');
    assert.equal(formatRate(0), '?/s');
    assert.equal(formatRate(Number.NaN), '?/s');
    assert.equal(
      formatProgress('world model', 3, 40, 0.05, '', 8),
      '[world model] [#.......]   8% 3/40  20.0 s each  eta 12m20s',
    );
  });
});
