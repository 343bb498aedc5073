import assert from 'node:assert/strict';
import { ReplayBuffer } from '../../lib/rl/replay-buffer.ts';

function filled(capacity: number, n: number, seed = 1): ReplayBuffer {
  const buffer = new ReplayBuffer({ obsDim: 2, actDim: 1, capacity, seed });
  // Transition i is recognisable from every column: obs (i, -i), action i/10, reward i, next obs (i+1, ...).
  for (let i = 0; i < n; i++) buffer.add([i, -i], [i / 10], i, [i + 1, -i - 1], i % 3 === 0);
  return buffer;
}

describe('rl/ReplayBuffer', () => {
  it('keeps the columns of each transition together when sampled', () => {
    const batch = filled(100, 50).sample(64);
    for (let r = 0; r < batch.size; r++) {
      const i = batch.rewards[r]!;
      assert.equal(batch.obs[2 * r], i);
      assert.equal(batch.obs[2 * r + 1], -i);
      assert.equal(batch.actions[r], Math.fround(i / 10));
      assert.equal(batch.nextObs[2 * r], i + 1);
      assert.equal(batch.terminated[r], i % 3 === 0 ? 1 : 0);
    }
  });

  it('overwrites the oldest transitions once full', () => {
    const buffer = filled(10, 25);
    assert.equal(buffer.size, 10);
    const seen = new Set<number>();
    const batch = buffer.sample(500);
    for (const r of batch.rewards) seen.add(r);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
    );
  });

  it('samples the same indices for the same seed and different ones for another', () => {
    const a = Array.from(filled(100, 100, 7).sample(32).rewards);
    const b = Array.from(filled(100, 100, 7).sample(32).rewards);
    const c = Array.from(filled(100, 100, 8).sample(32).rewards);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('reuses its batch between calls of the same size', () => {
    const buffer = filled(10, 10);
    assert.equal(buffer.sample(4), buffer.sample(4));
  });

  it('rejects rows of the wrong length, non-finite rewards and sampling an empty buffer', () => {
    const buffer = new ReplayBuffer({ obsDim: 2, actDim: 1, capacity: 4, seed: 0 });
    assert.throws(() => buffer.sample(1), /empty/);
    assert.throws(() => buffer.add([1], [0], 0, [1, 2], false), /obs has length 1, expected 2/);
    assert.throws(() => buffer.add([1, 2], [0, 0], 0, [1, 2], false), /action has length 2, expected 1/);
    assert.throws(() => buffer.add([1, 2], [0], Number.NaN, [1, 2], false), /reward is NaN/);
    assert.throws(() => new ReplayBuffer({ obsDim: 0, actDim: 1, capacity: 4, seed: 0 }), /obsDim/);
  });
});
