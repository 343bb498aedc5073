import assert from 'node:assert/strict';
import {
  criticTrainVsHeldOut,
  criticVsReturns,
  distribution,
  drawHeldOutCheck,
  type EpisodeColumns,
  type HeldOutCheckSide,
  monteCarloTargets,
  onPolicyCriticVsReturns,
  targetShift,
} from '../../lib/rl/critic-diagnostics.ts';
import type { Trajectory } from '../../lib/rl/evaluate.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import type { WorldModel } from '../../lib/world-model/types.ts';

/** Two episodes over obs dim 1, act dim 1: rows 0-2 terminate, rows 3-4 are cut by a time limit. */
const data: EpisodeColumns = {
  obsDim: 1,
  actDim: 1,
  observations: Float32Array.from([0, 1, 2, 3, 4]),
  actions: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]),
  rewards: Float32Array.from([1, 2, 3, 4, 5]),
  nextObservations: Float32Array.from([1, 2, 2.5, 4, 5]),
  terminals: Uint8Array.from([0, 0, 1, 0, 0]),
  episodeEnds: Uint32Array.from([3, 5]),
};

describe('rl/critic diagnostics', () => {
  it('computes Monte-Carlo returns per episode and marks which are exact', () => {
    const t = monteCarloTargets(data, 0.5);
    assert.deepEqual(Array.from(t.returns), [1 + 0.5 * (2 + 0.5 * 3), 2 + 0.5 * 3, 3, 4 + 0.5 * 5, 5]);
    assert.deepEqual(Array.from(t.complete), [1, 1, 1, 0, 0]);
  });

  it('sets Q1 against the returns on complete episodes only', () => {
    const agent = new Td3Agent({ obsDim: 1, actDim: 1, maxAction: 1, hidden: [4], seed: 0 });
    const targets = monteCarloTargets(data, 0.5);
    const r = criticVsReturns(agent, data, targets, 50, 1);
    assert.ok(r.monteCarlo.p95 <= 3.5 && r.monteCarlo.p05 >= 2.75, 'only rows 0-2 (returns 2.75, 3.5, 3)');
    assert.ok(Math.abs(r.overestimation.mean - (r.q.mean - r.monteCarlo.mean)) < 1e-5);
  });

  it('sets Q1 against source returns on training rows and held-out rows apart', () => {
    const agent = new Td3Agent({ obsDim: 1, actDim: 1, maxAction: 1, hidden: [4], seed: 0 });
    // Rows 0 and 2 trained on; the cut episode (rows 3-4) counts only with 1 step of horizon: row 3.
    const r = criticTrainVsHeldOut(agent, data, Uint32Array.from([0, 2]), {
      gamma: 0.5,
      samples: 10,
      seed: 3,
      horizon: 1,
    });
    assert.deepEqual([r.train.eligible, r.heldOut.eligible], [2, 2], 'held out: rows 1 and 3');
    const { q1 } = agent.qValues(data.observations, data.actions, 5);
    const g = [2.75, 3.5, 3, 4 + 0.5 * 5];
    const expect = (rows: number[]) => ({
      mean: rows.reduce((s, k) => s + q1[k]! - g[k]!, 0) / rows.length,
      abs: rows.reduce((s, k) => s + Math.abs(q1[k]! - g[k]!), 0) / rows.length,
    });
    for (const [side, rows] of [
      [r.train, [0, 2]],
      [r.heldOut, [1, 3]],
    ] as const) {
      assert.equal(side.vsReturns!.samples, 2, 'fewer rows than samples: all of them, once each');
      assert.ok(Math.abs(side.vsReturns!.overestimation.mean - expect([...rows]).mean) < 1e-5);
      assert.ok(Math.abs(side.meanAbsError! - expect([...rows]).abs) < 1e-5);
    }
    // The drawn rows, gathered: states (here equal to the row index) with their returns.
    const check = drawHeldOutCheck(data, Uint32Array.from([0, 2]), {
      gamma: 0.5,
      samples: 10,
      seed: 3,
      horizon: 1,
    });
    const gathered = (side: HeldOutCheckSide) =>
      Array.from(side.observations, (o, k) => [o, side.returns[k]!]).sort((a, b) => a[0]! - b[0]!);
    assert.deepEqual(gathered(check.train), [
      [0, 2.75],
      [2, 3],
    ]);
    assert.deepEqual(gathered(check.heldOut), [
      [1, 3.5],
      [3, 6.5],
    ]);
    assert.deepEqual(Array.from(check.heldOut.actions).sort(), [0.2, 0.4].map(Math.fround));
    const none = criticTrainVsHeldOut(agent, data, Uint32Array.from([0, 1, 2, 3, 4]), {
      gamma: 0.5,
      samples: 10,
      seed: 3,
    });
    assert.deepEqual(none.heldOut, { eligible: 0, vsReturns: null, meanAbsError: null });
    assert.throws(
      () => criticTrainVsHeldOut(agent, data, Uint32Array.from([7]), { gamma: 0.5, samples: 1, seed: 0 }),
      /training row 7 is outside the 5-row source/,
    );
  });

  it('reports zero target shift and zero error for a model that predicts the real next state', async () => {
    const oracle: WorldModel = {
      info: { implementation: 'oracle', obsDim: 1, actDim: 1 },
      async predictNextStates(states, _a, count, out) {
        for (let k = 0; k < count; k++)
          out[k] = data.nextObservations[data.observations.indexOf(states[k]!)]!;
      },
    };
    const agent = new Td3Agent({ obsDim: 1, actDim: 1, maxAction: 1, hidden: [4], seed: 0 });
    const s = await targetShift(agent, oracle, data, 20, 2);
    assert.deepEqual(Array.from(s.qDifference), new Array(20).fill(0));
    assert.deepEqual(Array.from(s.predictionError), new Array(20).fill(0));
  });

  it('sets Q1 against on-policy returns: whole terminated episodes, truncated ones minus the horizon', () => {
    const agent = new Td3Agent({ obsDim: 1, actDim: 1, maxAction: 1, hidden: [4], seed: 0 });
    const episode = (rewards: number[], terminated: boolean): Trajectory => ({
      obs: Float32Array.from(rewards.map((_, t) => t)),
      actions: Float32Array.from(rewards.map(() => 0.5)),
      rewards: Float32Array.from(rewards),
      terminated,
    });
    // Terminated [1, 1] at γ = 0.5 → returns 1.5, 1; truncated [2, 2, 2] with horizon 2 keeps its first step only.
    const r = onPolicyCriticVsReturns(agent, [episode([1, 1], true), episode([2, 2, 2], false)], 0.5, 2);
    assert.ok(r !== null);
    assert.equal(r.samples, 3);
    const g = [1.5, 1, 2 + 0.5 * (2 + 0.5 * 2)];
    assert.ok(Math.abs(r.monteCarlo.mean - (g[0]! + g[1]! + g[2]!) / 3) < 1e-6);
    const q = agent.qValues(Float32Array.from([0, 1, 0]), Float32Array.from([0.5, 0.5, 0.5]), 3).q1;
    assert.ok(Math.abs(r.q.mean - (q[0]! + q[1]! + q[2]!) / 3) < 1e-6);
    assert.equal(onPolicyCriticVsReturns(agent, [episode([2, 2], false)], 0.5, 2), null, 'nothing usable');
  });

  it('summarises a distribution by mean and quantiles', () => {
    const d = distribution(Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(d, { mean: 49.5, p05: 5, p50: 50, p95: 95 });
  });
});
