// The observation standardisation every TD3 / TD3+BC update applies twice (states and next states).
import assert from 'node:assert/strict';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';

describe('ObsNormalizer', () => {
  const mean = Float32Array.from([1, -2, 0.5]);
  const std = Float32Array.from([2, 0.25, 3]);
  const normalizer = new ObsNormalizer(mean, std);

  it('standardises every whole row, whatever array type the rows come in', () => {
    const rows = [3, -2, 0.5, 1, -1.75, -2.5, -1, 0, 6.5];
    const expected = Float32Array.from(rows, (v, i) => (v - mean[i % 3]!) / std[i % 3]!);
    for (const obs of [Float32Array.from(rows), Float64Array.from(rows), rows]) {
      const out = new Float32Array(rows.length);
      normalizer.normalizeInto(obs, out);
      assert.deepEqual(out, expected);
    }
    assert.deepEqual([...expected.slice(0, 3)], [1, 0, 0]);
  });

  it('refuses a partial row or a too-short output, naming the sizes', () => {
    assert.throws(
      () => normalizer.normalizeInto(new Float32Array(4), new Float32Array(4)),
      /4 values into 4 are not whole rows of 3/,
    );
    assert.throws(
      () => normalizer.normalizeInto(new Float32Array(6), new Float32Array(3)),
      /6 values into 3 are not whole rows of 3/,
    );
  });

  it('fits the population mean and std plus eps', () => {
    const fitted = ObsNormalizer.fit(Float32Array.from([0, 10, 2, 10]), 2, 1e-3);
    assert.deepEqual([...fitted.mean], [1, 10]);
    assert.deepEqual([...fitted.std], [Math.fround(1 + 1e-3), Math.fround(1e-3)]);
  });
});
