import assert from 'node:assert/strict';
import { makeEnv } from '../../lib/envs/registry.ts';
import { evaluatePolicy } from '../../lib/rl/evaluate.ts';
import { discountedReturns } from '../../lib/rl/returns.ts';

describe('rl/evaluatePolicy', () => {
  it('runs whole episodes and is reproducible for a seed', () => {
    const env = makeEnv('InvertedPendulum-v5');
    const zero = () => [0];
    const a = evaluatePolicy(env, zero, 3, 5);
    const b = evaluatePolicy(env, zero, 3, 5);
    env.close();
    assert.deepEqual(a, b);
    assert.equal(a.returns.length, 3);
    // InvertedPendulum-v5 pays 1 per step except the terminating one, and a zero policy always falls.
    assert.deepEqual(
      a.returns,
      a.lengths.map((n) => n - 1),
    );
    assert.ok(a.meanLength >= 1 && a.meanLength < 1000);
  });

  it('records the episodes when asked, without changing the result', () => {
    const env = makeEnv('InvertedPendulum-v5');
    const policy = (o: Float64Array) => [o[1]! * 2];
    const plain = evaluatePolicy(env, policy, 2, 7);
    const recorded = evaluatePolicy(env, policy, 2, 7, { record: true });
    env.close();
    const { trajectories, ...summary } = recorded;
    assert.deepEqual(summary, plain);
    assert.equal(trajectories?.length, 2);
    trajectories!.forEach((t, e) => {
      assert.equal(t.rewards.length, plain.lengths[e]);
      assert.equal(t.obs.length, 4 * plain.lengths[e]!);
      assert.ok(Math.abs(t.rewards.reduce((a, b) => a + b, 0) - plain.returns[e]!) < 1e-6);
      assert.ok(Math.abs(t.actions[0]! - Math.fround(t.obs[1]! * 2)) < 1e-6, 'a_0 = π(s_0)');
      assert.equal(t.terminated, plain.lengths[e]! < 1000);
    });
  });

  it('rejects a non-positive episode count', () => {
    const env = makeEnv('InvertedPendulum-v5');
    assert.throws(() => evaluatePolicy(env, () => [0], 0, 1), /episodes must be a positive integer/);
    env.close();
  });
});

describe('rl/discountedReturns', () => {
  it('accumulates rewards backwards with the discount', () => {
    const { returns, complete } = discountedReturns([1, 2, 3], 0.5, true);
    assert.deepEqual(Array.from(returns), [1 + 0.5 * (2 + 0.5 * 3), 2 + 0.5 * 3, 3]);
    assert.equal(complete, true);
    assert.equal(discountedReturns([1], 0.99, false).complete, false);
    assert.throws(() => discountedReturns([1], 1.5, true), /gamma/);
  });
});
