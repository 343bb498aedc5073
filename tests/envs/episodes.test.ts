// Seeding, episode boundaries (time limit, termination) and the reset noise distributions.
import assert from 'node:assert/strict';
import { makeEnv } from '../../lib/envs/registry.ts';
import { Rng } from '../../lib/envs/rng.ts';

function rollout(id: string, seed: number, steps: number) {
  const env = makeEnv(id);
  const policy = new Rng(99);
  const first = env.reset({ seed }).obs;
  const observations = [first];
  const rewards: number[] = [];
  for (let t = 0; t < steps; t++) {
    const r = env.step(Array.from({ length: env.actDim }, () => policy.uniform(-1, 1)));
    observations.push(r.obs);
    rewards.push(r.reward);
    if (r.terminated || r.truncated) break;
  }
  env.close();
  return { observations, rewards };
}

describe('envs/episodes', () => {
  it('same seed gives an identical episode; a different seed a different one', () => {
    for (const id of ['Hopper-v5', 'Ant-v5']) {
      const a = rollout(id, 11, 50);
      const b = rollout(id, 11, 50);
      const c = rollout(id, 12, 50);
      assert.deepEqual(a, b, id);
      assert.notDeepEqual(a.observations[0], c.observations[0], id);
    }
  });

  it('reset without a seed continues the stream; reseeding repeats it', () => {
    const env = makeEnv('HalfCheetah-v5');
    const first = env.reset({ seed: 4 }).obs;
    const second = env.reset().obs;
    assert.notDeepEqual(first, second);
    assert.deepEqual(env.reset({ seed: 4 }).obs, first);
    assert.deepEqual(env.reset().obs, second);
    env.close();
  });

  it('draws qpos noise uniformly in ±scale and (HalfCheetah) qvel noise as scale·N(0,1)', () => {
    const env = makeEnv('HalfCheetah-v5');
    env.reset({ seed: 0 });
    let maxQpos = 0;
    let sumSq = 0;
    let count = 0;
    for (let k = 0; k < 200; k++) {
      env.reset();
      const s = env.stateVector();
      const qpos0 = env.model.qpos0 as Float64Array;
      for (let i = 0; i < 9; i++) maxQpos = Math.max(maxQpos, Math.abs(s[i]! - qpos0[i]!));
      for (let i = 9; i < 18; i++) {
        sumSq += s[i]! ** 2;
        count++;
      }
    }
    assert.ok(maxQpos <= 0.1 && maxQpos > 0.09, `qpos noise within U(-0.1, 0.1), max ${maxQpos}`);
    const std = Math.sqrt(sumSq / count);
    // 1800 draws: the sample std of 0.1·N(0,1) is within a few percent of 0.1; a uniform would give 0.058.
    assert.ok(Math.abs(std - 0.1) < 0.01, `qvel noise std ${std}`);
    env.close();
  });

  it('truncates exactly at step 1000 (HalfCheetah never terminates) and then refuses to step', () => {
    const env = makeEnv('HalfCheetah-v5');
    env.reset({ seed: 0 });
    const zero = new Float64Array(6);
    for (let t = 1; t < 1000; t++) {
      const r = env.step(zero);
      assert.equal(r.truncated, false, `step ${t}`);
      assert.equal(r.terminated, false);
    }
    const last = env.step(zero);
    assert.equal(last.truncated, true);
    assert.equal(last.terminated, false);
    assert.throws(() => env.step(zero), /truncated at the time limit after 1000 steps; call reset\(\)/);
    env.reset();
    assert.equal(env.step(zero).truncated, false);
    env.close();
  });

  it('reports terminated and truncated together when both happen on the same step', () => {
    const env = makeEnv('Hopper-v5', { maxEpisodeSteps: 1 });
    env.reset({ seed: 0 });
    env.setState([0, 0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
    const r = env.step([0, 0, 0]);
    assert.equal(r.terminated, true);
    assert.equal(r.truncated, true);
    assert.throws(() => env.step([0, 0, 0]), /terminated after 1 steps/);
    env.close();
  });
});
