// Transitions recorded on Ant-v5's defaults, rewritten for other options, against the same episodes
// stepped on an Ant-v5 built with those options: observations equal, rewards equal to float32 rounding.
import assert from 'node:assert/strict';
import { AntEnv, type AntOptions } from '../../lib/envs/ant.ts';
import {
  checkRewritable,
  rewriteTransitions,
  type TransitionColumns,
} from '../../lib/envs/derive-transitions.ts';
import { Rng } from '../../lib/envs/rng.ts';

/** `steps` transitions of seeded random actions (resetting at episode ends), as a dataset stores them. */
function record(options: AntOptions | undefined, steps: number): TransitionColumns {
  const env = new AntEnv(options);
  try {
    const obsDim = env.observationSpace.shape[0]!;
    const out: TransitionColumns = {
      obsDim,
      observations: new Float32Array(steps * obsDim),
      nextObservations: new Float32Array(steps * obsDim),
      rewards: new Float32Array(steps),
    };
    const rng = new Rng(7);
    let obs = env.reset({ seed: 3 }).obs;
    let episode = 0;
    for (let t = 0; t < steps; t++) {
      const action = Array.from({ length: 8 }, () => rng.uniform(-1, 1));
      const r = env.step(action);
      out.observations.set(obs, t * obsDim);
      out.nextObservations.set(r.obs, t * obsDim);
      out.rewards[t] = r.reward;
      obs = r.terminated || r.truncated ? env.reset({ seed: 3 + ++episode }).obs : r.obs;
    }
    return out;
  } finally {
    env.close();
  }
}

function assertRewardsClose(actual: Float32Array, expected: Float32Array): void {
  for (let i = 0; i < expected.length; i++)
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)),
      `reward ${i}: ${actual[i]} vs ${expected[i]}`,
    );
}

describe('envs/derive-transitions: Ant-v5 rows recorded on the defaults, rewritten for other options', () => {
  const steps = 400;
  let defaults: TransitionColumns;
  before(() => {
    defaults = record(undefined, steps);
  });

  it('without contact forces and contact cost: equal to rows stepped on that env', () => {
    const options = { includeCfrcExtInObservation: false, contactCostWeight: 0 };
    const expected = record(options, steps);
    const derived = rewriteTransitions('Ant-v5', options, defaults, 'test');
    assert.equal(derived.obsDim, 27);
    assert.deepEqual(derived.observations, expected.observations);
    assert.deepEqual(derived.nextObservations, expected.nextObservations);
    assertRewardsClose(derived.rewards, expected.rewards);
    // The rows do touch the ground: the contact cost changed some rewards.
    let changed = 0;
    for (let i = 0; i < steps; i++)
      if (Math.abs(derived.rewards[i]! - defaults.rewards[i]!) > 1e-4) changed++;
    assert.ok(changed > steps / 10, `${changed} rewards changed`);
  });

  it('reweighs the contact cost alone, keeping the observations', () => {
    const options = { contactCostWeight: 2e-3 };
    const expected = record(options, steps);
    const derived = rewriteTransitions('Ant-v5', options, defaults, 'test');
    assert.equal(derived.obsDim, 105);
    assert.deepEqual(derived.observations, defaults.observations);
    assertRewardsClose(derived.rewards, expected.rewards);
  });

  it('refuses options it cannot derive, other envs, and rows not recorded on the defaults', () => {
    assert.throws(
      () => checkRewritable('Ant-v5', { healthyReward: 2 }, 'run x'),
      /run x: option 'healthyReward' of Ant-v5 cannot be derived .*derivable: includeCfrcExtInObservation, contactCostWeight/,
    );
    assert.throws(
      () => checkRewritable('Ant-v5', { contactCostWeight: 'none' }, 'run x'),
      /contactCostWeight/,
    );
    assert.throws(
      () => checkRewritable('Hopper-v5', { ctrlCostWeight: 0 }, 'run y'),
      /run y: .*Hopper-v5.*only Ant-v5/,
    );
    const narrow = rewriteTransitions('Ant-v5', { includeCfrcExtInObservation: false }, defaults, 'test');
    assert.throws(
      () => rewriteTransitions('Ant-v5', { contactCostWeight: 0 }, narrow, 'dataset d.hdf5'),
      /dataset d\.hdf5: observations have 27 values; .*105/,
    );
    checkRewritable(
      'Ant-v5',
      { includeCfrcExtInObservation: false, contactCostWeight: 0, frameSkip: 5 },
      'ok',
    );
  });
});
