// Observation layouts and dimensions, action spaces, and the velocity clipping of the observations.
import assert from 'node:assert/strict';
import { ENV_IDS, makeEnv } from '../../lib/envs/registry.ts';

const EXPECTED: Record<string, { obs: number; act: number; frameSkip: number; low: number; high: number }> = {
  'Hopper-v5': { obs: 11, act: 3, frameSkip: 4, low: -1, high: 1 },
  'Walker2d-v5': { obs: 17, act: 6, frameSkip: 4, low: -1, high: 1 },
  'HalfCheetah-v5': { obs: 17, act: 6, frameSkip: 5, low: -1, high: 1 },
  'Ant-v5': { obs: 105, act: 8, frameSkip: 5, low: -1, high: 1 },
  'InvertedPendulum-v5': { obs: 4, act: 1, frameSkip: 2, low: -3, high: 3 },
  'InvertedDoublePendulum-v5': { obs: 9, act: 1, frameSkip: 5, low: -1, high: 1 },
};

describe('envs/spaces and observations', () => {
  for (const id of ENV_IDS) {
    it(`${id}: dimensions, bounds and frame skip as Gymnasium v5`, () => {
      const want = EXPECTED[id]!;
      const env = makeEnv(id);
      assert.deepEqual(env.observationSpace.shape, [want.obs]);
      assert.ok(env.observationSpace.low.every((v) => v === Number.NEGATIVE_INFINITY));
      assert.ok(env.observationSpace.high.every((v) => v === Number.POSITIVE_INFINITY));
      assert.deepEqual(env.actionSpace.shape, [want.act]);
      assert.deepEqual([...env.actionSpace.low], new Array(want.act).fill(want.low));
      assert.deepEqual([...env.actionSpace.high], new Array(want.act).fill(want.high));
      assert.equal(env.frameSkip, want.frameSkip);
      assert.equal(env.maxEpisodeSteps, 1000);
      const { obs } = env.reset({ seed: 1 });
      assert.ok(obs instanceof Float64Array);
      assert.equal(obs.length, want.obs);
      const step = env.step(new Float32Array(want.act));
      assert.equal(step.obs.length, want.obs);
      env.close();
    });
  }

  it('Hopper and Walker2d: qpos without x, then qvel clipped to ±10', () => {
    for (const id of ['Hopper-v5', 'Walker2d-v5'] as const) {
      const env = makeEnv(id);
      env.reset({ seed: 0 });
      const nq = env.model.nq;
      const qpos = Float64Array.from({ length: nq }, (_, i) => (i === 1 ? 1.25 : 0.01 * i));
      qpos[0] = 7; // excluded from the observation
      const qvel = Float64Array.from({ length: env.model.nv }, (_, i) => [50, -50, 3, -10.5, 9.99][i % 5]!);
      env.setState(qpos, qvel);
      const obs = new Float64Array(env.obsDim);
      env.observe(obs, 0);
      assert.deepEqual([...obs.subarray(0, nq - 1)], [...qpos.subarray(1)], id);
      assert.deepEqual(
        [...obs.subarray(nq - 1)],
        [...qvel].map((v) => Math.min(Math.max(v, -10), 10)),
        id,
      );
      env.close();
    }
  });

  it('HalfCheetah: qpos without x, then unclipped qvel; x included on request', () => {
    const env = makeEnv('HalfCheetah-v5');
    const withX = makeEnv('HalfCheetah-v5', { excludeCurrentPositionsFromObservation: false });
    assert.equal(withX.obsDim, 18);
    for (const e of [env, withX]) {
      e.reset({ seed: 0 });
      const qpos = Float64Array.from({ length: 9 }, (_, i) => 0.1 * i + 0.3);
      const qvel = Float64Array.from({ length: 9 }, (_, i) => 20 * (i - 4));
      e.setState(qpos, qvel);
      const obs = new Float64Array(e.obsDim);
      e.observe(obs, 0);
      const skip = e === env ? 1 : 0;
      assert.deepEqual([...obs], [...qpos.subarray(skip), ...qvel]);
      e.close();
    }
  });

  it('Ant: qpos[2:] then qvel then 78 contact forces; options change the layout', () => {
    const env = makeEnv('Ant-v5');
    env.reset({ seed: 0 });
    const qpos = Float64Array.from(env.model.qpos0 as Float64Array);
    qpos[0] = 3;
    qpos[1] = -2;
    const qvel = Float64Array.from({ length: 14 }, (_, i) => i - 7);
    env.setState(qpos, qvel);
    const obs = new Float64Array(105);
    env.observe(obs, 0);
    assert.deepEqual([...obs.subarray(0, 13)], [...qpos.subarray(2)]);
    assert.deepEqual([...obs.subarray(13, 27)], [...qvel]);
    env.close();
    for (const [options, dim] of [
      [{ includeCfrcExtInObservation: false }, 27],
      [{ excludeCurrentPositionsFromObservation: false }, 107],
    ] as const) {
      const variant = makeEnv('Ant-v5', options);
      assert.equal(variant.obsDim, dim);
      variant.close();
    }
  });

  it('InvertedDoublePendulum: x, sin, cos of the hinges, clipped qvel and constraint force', () => {
    const env = makeEnv('InvertedDoublePendulum-v5');
    env.reset({ seed: 0 });
    env.setState([0.2, 0.3, -0.4], [1, 20, -30]);
    const obs = new Float64Array(9);
    env.observe(obs, 0);
    assert.deepEqual(
      [...obs.subarray(0, 8)],
      [0.2, Math.sin(0.3), Math.sin(-0.4), Math.cos(0.3), Math.cos(-0.4), 1, 10, -10],
    );
    assert.ok(Math.abs(obs[8]!) <= 10);
    env.close();
  });

  it('reset info carries the positions; step info carries every reward term', () => {
    const hopper = makeEnv('Hopper-v5');
    assert.deepEqual(Object.keys(hopper.reset({ seed: 0 }).info).sort(), [
      'x_position',
      'z_distance_from_origin',
    ]);
    assert.deepEqual(Object.keys(hopper.step([0, 0, 0]).info).sort(), [
      'reward_ctrl',
      'reward_forward',
      'reward_survive',
      'x_position',
      'x_velocity',
      'z_distance_from_origin',
    ]);
    const ant = makeEnv('Ant-v5');
    ant.reset({ seed: 0 });
    assert.deepEqual(Object.keys(ant.step(new Array(8).fill(0)).info).sort(), [
      'distance_from_origin',
      'reward_contact',
      'reward_ctrl',
      'reward_forward',
      'reward_survive',
      'x_position',
      'x_velocity',
      'y_position',
      'y_velocity',
    ]);
    hopper.close();
    ant.close();
  });
});
