// Reward terms and termination rules of each env against values computed here from the MuJoCo state,
// on states constructed with setState (qpos/qvel, then mj_forward).
import assert from 'node:assert/strict';
import { AntEnv } from '../../lib/envs/ant.ts';
import { HalfCheetahEnv } from '../../lib/envs/half_cheetah.ts';
import { HopperEnv } from '../../lib/envs/hopper.ts';
import { InvertedDoublePendulumEnv } from '../../lib/envs/inverted_double_pendulum.ts';
import { InvertedPendulumEnv } from '../../lib/envs/inverted_pendulum.ts';
import type { MujocoEnv } from '../../lib/envs/mujoco-env.ts';
import { Walker2dEnv } from '../../lib/envs/walker2d.ts';

function qposOf(env: MujocoEnv): Float64Array {
  return Float64Array.from(env.data.qpos as Float64Array);
}

/** The env's initial pose (model qpos0) with some coordinates replaced, and zero velocities. */
function poseWith(env: MujocoEnv, changes: Record<number, number>, qvelChanges: Record<number, number> = {}) {
  const qpos = Float64Array.from(env.model.qpos0 as Float64Array);
  const qvel = new Float64Array(env.model.nv);
  for (const [i, v] of Object.entries(changes)) qpos[Number(i)] = v;
  for (const [i, v] of Object.entries(qvelChanges)) qvel[Number(i)] = v;
  return [qpos, qvel] as const;
}

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

describe('envs/rewards and termination', () => {
  describe('Hopper-v5', () => {
    const env = new HopperEnv();
    after(() => env.close());

    it('pays forward (dx/dt), control (1e-3·|a|²) and healthy (1) terms', () => {
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, {}));
      const xBefore = qposOf(env)[0]!;
      const action = [0.5, -0.5, 1];
      const r = env.step(action);
      const xAfter = qposOf(env)[0]!;
      const dt = 0.002 * 4;
      close(r.info['x_velocity']!, (xAfter - xBefore) / dt, 'x_velocity');
      close(r.info['reward_forward']!, (xAfter - xBefore) / dt, 'reward_forward');
      close(r.info['reward_ctrl']!, -1e-3 * (0.25 + 0.25 + 1), 'reward_ctrl');
      assert.equal(r.info['reward_survive'], 1);
      close(r.reward, r.info['reward_forward']! + 1 - 1e-3 * 1.5, 'reward');
      assert.equal(r.info['x_position'], xAfter);
      close(r.info['z_distance_from_origin']!, qposOf(env)[1]! - 1.25, 'z_distance_from_origin');
      assert.equal(r.terminated, false);
    });

    it('is unhealthy below z 0.7, beyond |angle| 0.2, or with any |state_vector()[2:]| >= 100', () => {
      env.reset({ seed: 0 });
      const cases: [string, Record<number, number>, Record<number, number>, boolean][] = [
        ['standing', {}, {}, true],
        ['z 0.71', { 1: 0.71 }, {}, true],
        ['z 0.69', { 1: 0.69 }, {}, false],
        ['angle 0.19', { 2: 0.19 }, {}, true],
        ['angle 0.21', { 2: 0.21 }, {}, false],
        ['angle -0.21', { 2: -0.21 }, {}, false],
        ['thigh qpos 100.5', { 3: 100.5 }, {}, false],
        ['x velocity 150', {}, { 0: 150 }, false],
        ['foot velocity -99', {}, { 5: -99 }, true],
        ['foot velocity -101', {}, { 5: -101 }, false],
        ['x position 1000 (not in the check)', { 0: 1000 }, {}, true],
      ];
      for (const [name, q, v, healthy] of cases) {
        env.setState(...poseWith(env, q, v));
        assert.equal(env.isHealthy(), healthy, name);
      }
    });

    it('terminates on an unhealthy step with no healthy reward', () => {
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, { 1: 0.6 }));
      const r = env.step([0, 0, 0]);
      assert.equal(r.terminated, true);
      assert.equal(r.truncated, false);
      assert.equal(r.info['reward_survive'], 0);
      close(r.reward, r.info['reward_forward']!, 'reward');
    });

    it('with terminateWhenUnhealthy false, keeps going but pays no healthy reward', () => {
      const lenient = new HopperEnv({ terminateWhenUnhealthy: false });
      lenient.reset({ seed: 0 });
      lenient.setState(...poseWith(lenient, { 2: 0.5 }));
      const r = lenient.step([0, 0, 0]);
      assert.equal(r.terminated, false);
      assert.equal(r.info['reward_survive'], 0);
      lenient.close();
    });

    it('clips finite out-of-range actions for the physics but charges the control cost on the raw action', () => {
      const a = new HopperEnv();
      const b = new HopperEnv();
      a.reset({ seed: 5 });
      b.reset({ seed: 5 });
      const ra = a.step([2, -3, 5]);
      const rb = b.step([1, -1, 1]);
      assert.deepEqual(ra.obs, rb.obs);
      close(ra.info['reward_ctrl']!, -1e-3 * (4 + 9 + 25), 'raw control cost');
      close(rb.info['reward_ctrl']!, -1e-3 * 3, 'in-range control cost');
      a.close();
      b.close();
    });
  });

  describe('Walker2d-v5', () => {
    const env = new Walker2dEnv();
    after(() => env.close());

    it('is healthy only for 0.8 < z < 2 and -1 < angle < 1', () => {
      env.reset({ seed: 0 });
      const cases: [string, Record<number, number>, boolean][] = [
        ['standing', {}, true],
        ['z 0.79', { 1: 0.79 }, false],
        ['z 0.81', { 1: 0.81 }, true],
        ['z 2.01', { 1: 2.01 }, false],
        ['angle 0.99', { 2: 0.99 }, true],
        ['angle 1.01', { 2: 1.01 }, false],
        ['angle -1.01', { 2: -1.01 }, false],
      ];
      for (const [name, q, healthy] of cases) {
        env.setState(...poseWith(env, q));
        assert.equal(env.isHealthy(), healthy, name);
      }
    });

    it('pays forward, control and healthy terms, and terminates when unhealthy', () => {
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, {}));
      const action = [0.1, 0.2, 0.3, -0.4, -0.5, -0.6];
      const r = env.step(action);
      close(r.info['reward_forward']!, qposOf(env)[0]! / 0.008, 'reward_forward');
      close(r.info['reward_ctrl']!, -1e-3 * 0.91, 'reward_ctrl');
      assert.equal(r.info['reward_survive'], 1);
      close(r.reward, r.info['reward_forward']! + 1 - 1e-3 * 0.91, 'reward');
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, { 2: 1.2 }));
      const down = env.step(action);
      assert.equal(down.terminated, true);
      assert.equal(down.info['reward_survive'], 0);
    });
  });

  describe('HalfCheetah-v5', () => {
    it('pays w·dx/dt with dt = 0.05 minus 0.1·|a|², and never terminates', () => {
      const env = new HalfCheetahEnv();
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, { 0: 0.25 }, { 0: 3 }));
      const action = [1, -1, 0.5, -0.5, 0, 0.25];
      const r = env.step(action);
      const ctrl = 0.1 * (1 + 1 + 0.25 + 0.25 + 0 + 0.0625);
      close(r.info['reward_forward']!, (qposOf(env)[0]! - 0.25) / 0.05, 'reward_forward');
      close(r.info['reward_ctrl']!, -ctrl, 'reward_ctrl');
      close(r.reward, r.info['reward_forward']! - ctrl, 'reward');
      assert.ok(r.info['reward_forward']! > 1, 'moving forward at 3 m/s gives a forward reward');
      // Upside down with wild velocities: still not terminated.
      env.setState(...poseWith(env, { 1: -5, 2: 3 }, { 2: 50 }));
      assert.equal(env.step(action).terminated, false);
      env.close();
    });

    it('honours forwardRewardWeight and ctrlCostWeight', () => {
      const env = new HalfCheetahEnv({ forwardRewardWeight: 2, ctrlCostWeight: 0 });
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, {}, { 0: 1 }));
      const r = env.step([1, 1, 1, 1, 1, 1]);
      close(r.info['reward_forward']!, (2 * qposOf(env)[0]!) / 0.05, 'weighted forward');
      assert.equal(r.info['reward_ctrl'], -0);
      env.close();
    });
  });

  describe('Ant-v5', () => {
    const env = new AntEnv();
    after(() => env.close());

    it('is healthy for finite states with 0.2 <= z <= 1 (closed interval)', () => {
      env.reset({ seed: 0 });
      const cases: [string, Record<number, number>, Record<number, number>, boolean][] = [
        ['initial', {}, {}, true],
        ['z 0.2', { 2: 0.2 }, {}, true],
        ['z 0.19', { 2: 0.19 }, {}, false],
        ['z 1.0', { 2: 1.0 }, {}, true],
        ['z 1.01', { 2: 1.01 }, {}, false],
      ];
      for (const [name, q, v, healthy] of cases) {
        env.setState(...poseWith(env, q, v));
        assert.equal(env.isHealthy(), healthy, name);
      }
      const [qpos, qvel] = poseWith(env, {});
      qvel[3] = Number.NaN;
      (env.data.qpos as Float64Array).set(qpos);
      (env.data.qvel as Float64Array).set(qvel);
      assert.equal(env.isHealthy(), false, 'NaN velocity');
    });

    it('pays forward from the torso xpos, control 0.5·|a|², contact from clipped cfrc_ext, healthy 1', () => {
      env.reset({ seed: 0 });
      // The ant starts in the air; after 10 steps it stands on the floor with its feet in contact.
      for (let t = 0; t < 10; t++) env.step([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
      const xpos = env.data.xpos as Float64Array;
      const [xBefore, yBefore] = [xpos[3]!, xpos[4]!];
      const action = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.5];
      const r = env.step(action);
      const xposAfter = env.data.xpos as Float64Array;
      close(r.info['x_velocity']!, (xposAfter[3]! - xBefore) / 0.05, 'x_velocity');
      close(r.info['y_velocity']!, (xposAfter[4]! - yBefore) / 0.05, 'y_velocity');
      close(r.info['reward_forward']!, r.info['x_velocity']!, 'reward_forward');
      close(r.info['reward_ctrl']!, -0.5 * 2, 'reward_ctrl');
      const cfrc = env.data.cfrc_ext as Float64Array;
      assert.equal(cfrc.length, 14 * 6);
      let clippedSq = 0;
      let beyondRange = 0;
      for (const f of cfrc) {
        const c = Math.min(Math.max(f, -1), 1);
        clippedSq += c * c;
        if (Math.abs(f) > 1) beyondRange++;
      }
      assert.ok(beyondRange > 0, 'the state has contact forces beyond the clip range');
      close(r.info['reward_contact']!, -5e-4 * clippedSq, 'reward_contact');
      assert.equal(r.info['reward_survive'], 1);
      close(r.reward, r.info['reward_forward']! + 1 - 1 - 5e-4 * clippedSq, 'reward');
      // The observation ends with the clipped cfrc_ext of every body but the world.
      const tail = r.obs.subarray(27);
      assert.equal(tail.length, 78);
      for (let i = 0; i < 78; i++) assert.equal(tail[i], Math.min(Math.max(cfrc[6 + i]!, -1), 1));
      assert.equal(r.info['x_position'], (env.data.qpos as Float64Array)[0]);
      close(
        r.info['distance_from_origin']!,
        Math.hypot(r.info['x_position']!, r.info['y_position']!),
        'distance',
      );
    });

    it('uses contactForceRange for both the cost and the observation', () => {
      const narrow = new AntEnv({ contactForceRange: [-0.1, 0.1] });
      narrow.reset({ seed: 0 });
      for (let t = 0; t < 10; t++) narrow.step(new Array(8).fill(0.5));
      const r = narrow.step(new Array(8).fill(0));
      assert.ok(narrow.data.ncon > 0, 'feet on the floor');
      for (const v of r.obs.subarray(27)) assert.ok(Math.abs(v) <= 0.1);
      let sq = 0;
      for (const f of narrow.data.cfrc_ext as Float64Array) sq += Math.min(Math.max(f, -0.1), 0.1) ** 2;
      close(r.info['reward_contact']!, -5e-4 * sq, 'narrow contact cost');
      narrow.close();
    });

    it('terminates when the torso leaves the z range', () => {
      env.reset({ seed: 0 });
      env.setState(...poseWith(env, { 2: 1.5 }));
      const r = env.step(new Array(8).fill(0));
      assert.equal(r.terminated, true);
      assert.equal(r.info['reward_survive'], 0);
    });
  });

  describe('InvertedPendulum-v5', () => {
    it('pays 1 per upright step and terminates (paying 0) once |angle| > 0.2', () => {
      const env = new InvertedPendulumEnv();
      env.reset({ seed: 0 });
      const upright = env.step([0]);
      assert.equal(upright.reward, 1);
      assert.equal(upright.info['reward_survive'], 1);
      assert.equal(upright.terminated, false);
      env.setState([0, 0.25], [0, 0]);
      const fallen = env.step([0]);
      assert.equal(fallen.terminated, true);
      assert.equal(fallen.reward, 0);
      env.reset({ seed: 0 });
      env.setState([0, -0.19], [0, 0]);
      // Falling the other way but still within 0.2 after one 0.04 s step.
      const r = env.step([0]);
      assert.ok(Math.abs(r.obs[1]!) <= 0.2);
      assert.equal(r.terminated, false);
      env.close();
    });
  });

  describe('InvertedDoublePendulum-v5', () => {
    it('pays 10 − distance − velocity penalties from the tip site, terminating when its z <= 1', () => {
      const env = new InvertedDoublePendulumEnv();
      env.reset({ seed: 0 });
      const r = env.step([0]);
      const site = env.data.site_xpos as Float64Array;
      const qvel = env.data.qvel as Float64Array;
      const dist = 0.01 * site[0]! ** 2 + (site[2]! - 2) ** 2;
      const vel = 1e-3 * qvel[1]! ** 2 + 5e-3 * qvel[2]! ** 2;
      close(r.info['distance_penalty']!, -dist, 'distance_penalty');
      close(r.info['velocity_penalty']!, -vel, 'velocity_penalty');
      assert.equal(r.info['reward_survive'], 10);
      close(r.reward, 10 - dist - vel, 'reward');
      env.setState([0, Math.PI, 0], [0, 0, 0]);
      const down = env.step([0]);
      assert.equal(down.terminated, true);
      assert.equal(down.info['reward_survive'], 0);
      env.close();
    });
  });
});
