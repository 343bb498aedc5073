// Bad input at the boundary: clear errors, no state change, the env stays usable.
import assert from 'node:assert/strict';
import { HopperEnv } from '../../lib/envs/hopper.ts';
import { makeEnv } from '../../lib/envs/registry.ts';

describe('envs/bad input', () => {
  it('rejects a wrong action length, naming expected and received lengths', () => {
    const env = makeEnv('Hopper-v5');
    env.reset({ seed: 0 });
    assert.throws(() => env.step([0, 0]), /Hopper-v5: action must have length 3, got length 2/);
    assert.throws(() => env.step(new Float32Array(4)), /must have length 3, got length 4/);
    env.close();
  });

  it('rejects NaN and ±Inf naming the index, and leaves the env usable and unchanged', () => {
    const env = makeEnv('Hopper-v5');
    const twin = makeEnv('Hopper-v5');
    env.reset({ seed: 3 });
    twin.reset({ seed: 3 });
    assert.throws(() => env.step([0, Number.NaN, 0]), /action\[1\] is NaN/);
    assert.throws(() => env.step([Number.POSITIVE_INFINITY, 0, 0]), /action\[0\] is Infinity/);
    assert.throws(
      () => env.step(new Float64Array([0, 0, Number.NEGATIVE_INFINITY])),
      /action\[2\] is -Infinity/,
    );
    assert.throws(() => env.step(['a', 0, 0] as unknown as number[]), /action\[0\] is a/);
    // The rejected calls did not advance anything: the next step equals the twin's.
    assert.deepEqual(env.step([0.1, 0.2, 0.3]), twin.step([0.1, 0.2, 0.3]));
    assert.equal(env.episodeSteps, 1);
    env.close();
    twin.close();
  });

  it('refuses to step before reset and after close', () => {
    const env = makeEnv('InvertedPendulum-v5');
    assert.throws(() => env.step([0]), /step\(\) before reset\(\)/);
    env.reset({ seed: 0 });
    env.close();
    assert.throws(() => env.step([0]), /closed/);
    assert.throws(() => env.reset(), /closed/);
  });

  it('rejects invalid seeds', () => {
    const env = makeEnv('InvertedPendulum-v5');
    assert.throws(() => env.reset({ seed: -1 }), /seed must be a non-negative integer/);
    assert.throws(() => env.reset({ seed: 0.5 }), /seed must be a non-negative integer/);
    env.reset({ seed: 1 });
    env.close();
  });

  it('rejects an unknown env id, listing the known ids', () => {
    assert.throws(
      () => makeEnv('Hopper-v4'),
      /unknown environment id 'Hopper-v4'; known ids: Hopper-v5, Walker2d-v5, HalfCheetah-v5, Ant-v5, InvertedPendulum-v5, InvertedDoublePendulum-v5/,
    );
  });

  it('rejects bad options with a message naming the option', () => {
    assert.throws(
      () => makeEnv('Hopper-v5', { ctrlCostWieght: 1 }),
      /invalid options for Hopper-v5: unknown option\(s\) 'ctrlCostWieght'/,
    );
    assert.throws(() => makeEnv('Hopper-v5', { ctrlCostWeight: 'big' }), /option 'ctrlCostWeight'/);
    assert.throws(
      () => makeEnv('Walker2d-v5', { healthyZRange: [2, 0.8] }),
      /option 'healthyZRange': expected \[min, max\]/,
    );
    assert.throws(() => makeEnv('Ant-v5', { frameSkip: 0 }), /option 'frameSkip'/);
    assert.throws(
      () => makeEnv('Ant-v5', { mainBody: 'nose' }),
      /mainBody 'nose' is not a body of the model/,
    );
    assert.throws(() => new HopperEnv({ resetNoiseScale: -1 }), /option 'resetNoiseScale'/);
    // Gymnasium's infinite bound is accepted.
    makeEnv('Hopper-v5', { healthyZRange: [0.5, Number.POSITIVE_INFINITY] }).close();
    const named = makeEnv('Ant-v5', { mainBody: 'torso' });
    assert.equal(named.obsDim, 105);
    named.close();
  });
});
