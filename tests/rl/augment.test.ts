import assert from 'node:assert/strict';
import { NextStateAugmenter } from '../../lib/rl/augment.ts';
import { allocateBatch } from '../../lib/rl/replay-buffer.ts';
import type { WorldModel } from '../../lib/world-model/types.ts';

/** A transparent stand-in for the world model: s' = s + 1000, so replaced rows are recognisable. */
const shiftModel: WorldModel = {
  info: { implementation: 'test-shift', obsDim: 2, actDim: 1 },
  async predictNextStates(states, _actions, count, out) {
    for (let i = 0; i < count * 2; i++) out[i] = states[i]! + 1000;
  },
};

function batch(size: number) {
  const b = allocateBatch(size, 2, 1);
  for (let r = 0; r < size; r++) {
    b.obs.set([r, -r], 2 * r);
    b.nextObs.set([r + 0.5, -r - 0.5], 2 * r);
    b.actions[r] = r / 100;
    b.rewards[r] = r;
    b.terminated[r] = r % 2;
  }
  return b;
}

describe('rl/NextStateAugmenter', () => {
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    it(`replaces exactly ⌊${p}·B⌋ next states with predictions and nothing else (B = 255)`, async () => {
      const b = batch(255);
      const before = {
        obs: b.obs.slice(),
        actions: b.actions.slice(),
        rewards: b.rewards.slice(),
        done: b.terminated.slice(),
      };
      const rows = await new NextStateAugmenter(shiftModel, p, 1).apply(b);
      assert.equal(rows.length, Math.floor(p * 255));
      assert.equal(new Set(rows).size, rows.length, 'rows are distinct');
      const replaced = new Set(rows);
      for (let r = 0; r < 255; r++) {
        const expected = replaced.has(r) ? [r + 1000, -r + 1000] : [r + 0.5, -r - 0.5];
        assert.deepEqual(Array.from(b.nextObs.subarray(2 * r, 2 * r + 2)), expected, `row ${r}`);
      }
      assert.deepEqual(b.obs, before.obs);
      assert.deepEqual(b.actions, before.actions);
      assert.deepEqual(b.rewards, before.rewards);
      assert.deepEqual(b.terminated, before.done);
    });
  }

  it('chooses rows reproducibly for a seed, and differently for another', async () => {
    const pick = async (seed: number) =>
      Array.from(await new NextStateAugmenter(shiftModel, 0.5, seed).apply(batch(64)));
    assert.deepEqual(await pick(3), await pick(3));
    assert.notDeepEqual(await pick(3), await pick(4));
  });

  it('rejects a fraction outside [0, 1] and a batch of other dimensions', async () => {
    assert.throws(() => new NextStateAugmenter(shiftModel, 1.5, 0), /fraction must be in \[0, 1\]/);
    const wrong = allocateBatch(4, 3, 1);
    await assert.rejects(
      new NextStateAugmenter(shiftModel, 0.5, 0).apply(wrong),
      /do not match the world model/,
    );
  });
});
