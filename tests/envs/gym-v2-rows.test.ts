// D4RL's rows (Gym's v2 envs) as our v5 envs record them. No v2 file is at hand, so the test makes v2's
// rows by v2's definition from v5 envs stepped on the same seeds and actions, and compares the rewrite with
// the v5 rows: observations equal, rewards to float32 rounding. Ant-v2 (111 values, the world's contact
// forces first, the healthy reward paid on the terminal step too) from Ant-v5 on its defaults (same body,
// same forces) against no-contact Ant-v5, with a narrower healthy range in both so that episodes end.
import assert from 'node:assert/strict';
import type { AntOptions } from '../../lib/envs/ant.ts';
import { gymV2RowsAsV5, gymV2Target, type RecordedRows as Rows } from '../../lib/envs/gym-v2-rows.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { Rng } from '../../lib/envs/rng.ts';

const ANT_V2_OBS_DIM = 111;
const NO_CONTACT = gymV2Target('Ant-v2').options as AntOptions;

const HEALTHY: AntOptions = { healthyZRange: [0.5, 1.0] };

function record(envId: string, options: Record<string, unknown>, steps: number): Rows {
  const env = makeEnv(envId, options);
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
      const actDim = env.actionSpace.shape[0]!;
      const r = env.step(Array.from({ length: actDim }, () => rng.uniform(-1, 1)));
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

describe("envs/gym-v2-rows: D4RL's rows (Gym's v2 envs) as our v5 envs record them", () => {
  it('Ant-v2: equal the same episodes stepped on Ant-v5 without contact forces and contact cost', () => {
    const steps = 600;
    const v2 = asAntV2(record('Ant-v5', HEALTHY, steps));
    const expected = record('Ant-v5', { ...HEALTHY, ...NO_CONTACT }, steps);
    assert.ok(expected.terminals.reduce((a, b) => a + b, 0) >= 2, 'some episodes end');
    const derived = gymV2RowsAsV5('Ant-v2', v2, 'test');
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

  it('Hopper-v2 and Walker2d-v2: terminal rows lose the healthy reward v5 does not pay; HalfCheetah-v2 rows are v5 rows', () => {
    for (const [v2Id, v5Id, lost] of [
      ['Hopper-v2', 'Hopper-v5', 1],
      ['Walker2d-v2', 'Walker2d-v5', 1],
      ['HalfCheetah-v2', 'HalfCheetah-v5', 0],
    ] as const) {
      assert.equal(gymV2Target(v2Id).env, v5Id);
      const v5 = record(v5Id, {}, 300);
      if (lost > 0)
        assert.ok(
          v5.terminals.some((t) => t === 1),
          `${v5Id}: some episodes end`,
        );
      const v2: Rows = { ...v5, rewards: v5.rewards.map((reward, r) => reward + lost * v5.terminals[r]!) };
      const derived = gymV2RowsAsV5(v2Id, v2, 'test');
      assert.deepEqual(derived.observations, v5.observations, v2Id);
      for (let i = 0; i < v5.rewards.length; i++)
        assert.ok(
          Math.abs(derived.rewards[i]! - v5.rewards[i]!) <= 1e-5 * Math.max(1, Math.abs(v5.rewards[i]!)),
          `${v2Id} ${i}`,
        );
    }
  });

  it('refuses rows of another width and ids it does not know, naming where', () => {
    const v5 = record('Ant-v5', HEALTHY, 5);
    assert.throws(
      () => gymV2RowsAsV5('Ant-v2', v5, 'file x.hdf5'),
      /file x\.hdf5: observations have 105 values.*Ant-v2.* 111/,
    );
    assert.throws(
      () => gymV2Target('Humanoid-v2'),
      /'Humanoid-v2' is not one of Hopper-v2, Walker2d-v2, HalfCheetah-v2, Ant-v2/,
    );
  });
});
