// D4RL's Ant rows (Gym's Ant-v2: 111 values, the world's contact forces first, the healthy reward paid on
// the terminal step too) as no-contact Ant-v5 records them. No Ant-v2 file is at hand, so the test makes
// Ant-v2's rows by its definition from Ant-v5 stepped on its defaults (same body, same forces), and
// compares the rewrite with the same episodes stepped on no-contact Ant-v5: observations equal, rewards
// to float32 rounding. A narrower healthy range (in both envs) makes episodes end, so terminal rows count.
import assert from 'node:assert/strict';
import { AntEnv, type AntOptions } from '../../lib/envs/ant.ts';
import { ANT_V2_AS_ANT_V5_OPTIONS, ANT_V2_OBS_DIM, antV2RowsAsAntV5 } from '../../lib/envs/ant-v2-rows.ts';
import type { TransitionColumns } from '../../lib/envs/derive-transitions.ts';
import { Rng } from '../../lib/envs/rng.ts';

type Rows = TransitionColumns & { terminals: Uint8Array };

const HEALTHY: AntOptions = { healthyZRange: [0.5, 1.0] };

function record(options: AntOptions, steps: number): Rows {
  const env = new AntEnv(options);
  try {
    const obsDim = env.observationSpace.shape[0]!;
    const rows: Rows = {
      obsDim,
      observations: new Float32Array(steps * obsDim),
      nextObservations: new Float32Array(steps * obsDim),
      rewards: new Float32Array(steps),
      terminals: new Uint8Array(steps),
    };
    const rng = new Rng(11);
    let obs = env.reset({ seed: 5 }).obs;
    let episode = 0;
    for (let t = 0; t < steps; t++) {
      const r = env.step(Array.from({ length: 8 }, () => rng.uniform(-1, 1)));
      rows.observations.set(obs, t * obsDim);
      rows.nextObservations.set(r.obs, t * obsDim);
      rows.rewards[t] = r.reward;
      rows.terminals[t] = r.terminated ? 1 : 0;
      obs = r.terminated || r.truncated ? env.reset({ seed: 5 + ++episode }).obs : r.obs;
    }
    return rows;
  } finally {
    env.close();
  }
}

/** Ant-v2's rows by its definition: 6 zeros (the world's forces) before the bodies', +1 on terminal rows. */
function asAntV2(v5: Rows): Rows {
  const rows = v5.rewards.length;
  const widen = (all: Float32Array) => {
    const out = new Float32Array(rows * ANT_V2_OBS_DIM);
    for (let r = 0; r < rows; r++) {
      out.set(all.subarray(r * 105, r * 105 + 27), r * ANT_V2_OBS_DIM);
      out.set(all.subarray(r * 105 + 27, (r + 1) * 105), r * ANT_V2_OBS_DIM + 33);
    }
    return out;
  };
  return {
    obsDim: ANT_V2_OBS_DIM,
    observations: widen(v5.observations),
    nextObservations: widen(v5.nextObservations),
    rewards: v5.rewards.map((reward, r) => reward + v5.terminals[r]!),
    terminals: v5.terminals,
  };
}

describe("envs/ant-v2-rows: D4RL's Ant rows as no-contact Ant-v5", () => {
  it('equal the same episodes stepped on Ant-v5 without contact forces and contact cost', () => {
    const steps = 600;
    const v2 = asAntV2(record(HEALTHY, steps));
    const expected = record({ ...HEALTHY, ...ANT_V2_AS_ANT_V5_OPTIONS } as AntOptions, steps);
    assert.ok(expected.terminals.reduce((a, b) => a + b, 0) >= 2, 'some episodes end');
    const derived = antV2RowsAsAntV5(v2, 'test');
    assert.equal(derived.obsDim, 27);
    assert.deepEqual(derived.observations, expected.observations);
    assert.deepEqual(derived.nextObservations, expected.nextObservations);
    let contact = 0;
    for (let i = 0; i < expected.rewards.length; i++) {
      assert.ok(
        Math.abs(derived.rewards[i]! - expected.rewards[i]!) <=
          1e-5 * Math.max(1, Math.abs(expected.rewards[i]!)),
        `reward ${i}: ${derived.rewards[i]} vs ${expected.rewards[i]}`,
      );
      contact += Math.abs(v2.rewards[i]! - expected.rewards[i]! - v2.terminals[i]!);
    }
    assert.ok(contact > 1e-3, 'the rows carry a contact cost to add back (MuJoCo 3 computes the forces)');
  });

  it('refuses rows that are not 111 values wide, naming where', () => {
    const v5 = record(HEALTHY, 5);
    assert.throws(
      () => antV2RowsAsAntV5(v5, 'file x.hdf5'),
      /file x\.hdf5: observations have 105 values.* 111/,
    );
  });
});
