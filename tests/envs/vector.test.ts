// VectorEnv: packed stepping equals individual envs seeded with the derived seeds, including auto-reset.
import assert from 'node:assert/strict';
import { makeEnv } from '../../lib/envs/registry.ts';
import { deriveSeed, Rng } from '../../lib/envs/rng.ts';
import { VectorEnv } from '../../lib/envs/vector.ts';

describe('envs/VectorEnv', () => {
  it('steps N=3 Hopper envs exactly as three single envs with deriveSeed(seed, i), auto-resetting', () => {
    const n = 3;
    const seed = 21;
    const venv = new VectorEnv('Hopper-v5', { numEnvs: n });
    const singles = Array.from({ length: n }, () => makeEnv('Hopper-v5'));
    const obsDim = venv.obsDim;
    const actDim = venv.actDim;
    const obs = venv.reset({ seed });
    singles.forEach((env, i) => {
      assert.deepEqual(
        [...obs.subarray(i * obsDim, (i + 1) * obsDim)],
        [...env.reset({ seed: deriveSeed(seed, i) }).obs],
      );
    });
    const policy = new Rng(5);
    const actions = new Float32Array(n * actDim);
    let finished = 0;
    for (let t = 0; t < 120; t++) {
      for (let k = 0; k < actions.length; k++) actions[k] = policy.uniform(-1, 1);
      const r = venv.step(actions);
      for (let i = 0; i < n; i++) {
        const single = singles[i]!.step(actions.subarray(i * actDim, (i + 1) * actDim));
        const row = (a: Float64Array) => [...a.subarray(i * obsDim, (i + 1) * obsDim)];
        assert.equal(r.rewards[i], single.reward, `reward env ${i} step ${t}`);
        assert.equal(r.terminated[i], single.terminated ? 1 : 0);
        assert.equal(r.truncated[i], single.truncated ? 1 : 0);
        if (single.terminated || single.truncated) {
          finished++;
          assert.deepEqual(row(r.finalObservations), [...single.obs], `final obs env ${i} step ${t}`);
          assert.deepEqual(row(r.observations), [...singles[i]!.reset().obs], `reset obs env ${i} step ${t}`);
        } else {
          assert.deepEqual(row(r.observations), [...single.obs], `obs env ${i} step ${t}`);
          assert.ok(row(r.finalObservations).every(Number.isNaN));
        }
      }
    }
    assert.ok(finished >= 3, `random Hopper episodes end within 120 steps (${finished} ended)`);
    venv.close();
    for (const env of singles) env.close();
  });

  it('reuses its result arrays between calls', () => {
    const venv = new VectorEnv('InvertedPendulum-v5', { numEnvs: 2 });
    venv.reset({ seed: 0 });
    const a = venv.step(new Float64Array(2));
    const b = venv.step(new Float64Array(2));
    assert.equal(a.observations, b.observations);
    assert.equal(a.rewards, b.rewards);
    assert.equal(a.finalObservations, b.finalObservations);
    venv.close();
  });

  it('rejects bad batches before moving any sub-env', () => {
    const venv = new VectorEnv('Hopper-v5', { numEnvs: 2 });
    assert.throws(() => venv.step(new Float64Array(6)), /step\(\) before reset\(\)/);
    venv.reset({ seed: 1 });
    const before = Float64Array.from(venv.step(new Float64Array(6)).observations);
    assert.throws(
      () => venv.step(new Float64Array(5)),
      /actions must have length numEnvs·actDim = 2·3 = 6, got 5/,
    );
    const bad = new Float64Array(6);
    bad[4] = Number.NaN;
    assert.throws(() => venv.step(bad), /actions\[4\] \(sub-env 1, action index 1\) is NaN/);
    assert.throws(
      () => venv.step([0, 0, 0, 0, 0, 0] as unknown as Float64Array),
      /Float32Array or Float64Array/,
    );
    assert.equal(venv.env(0).episodeSteps, 1);
    assert.equal(venv.env(1).episodeSteps, 1);
    assert.notDeepEqual(venv.step(new Float64Array(6)).observations, before);
    assert.throws(() => new VectorEnv('Hopper-v5', { numEnvs: 0 }), /numEnvs must be a positive integer/);
    assert.throws(() => new VectorEnv('Nope-v0', { numEnvs: 2 }), /unknown environment id/);
    venv.close();
  });
});
