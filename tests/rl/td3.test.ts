import assert from 'node:assert/strict';
import { Matrix } from '../../lib/nn/index.ts';
import { allocateBatch, type TransitionBatch } from '../../lib/rl/replay-buffer.ts';
import { Td3Agent, type Td3Config } from '../../lib/rl/td3.ts';

const OBS = 3;
const ACT = 2;
const B = 16;
const MAX = 2;

function batchFor(seed: number): TransitionBatch {
  const b = allocateBatch(B, OBS, ACT);
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  };
  for (let i = 0; i < b.obs.length; i++) b.obs[i] = 2 * next();
  for (let i = 0; i < b.nextObs.length; i++) b.nextObs[i] = 2 * next();
  for (let i = 0; i < b.actions.length; i++) b.actions[i] = MAX * next();
  for (let i = 0; i < B; i++) b.rewards[i] = next();
  for (let i = 0; i < B; i++) b.terminated[i] = i % 4 === 0 ? 1 : 0;
  return b;
}

function agent(extra: Partial<Td3Config> = {}): Td3Agent {
  return new Td3Agent({ obsDim: OBS, actDim: ACT, maxAction: MAX, hidden: [8, 8], seed: 3, ...extra });
}

/** Q(s, a) of a critic for raw rows (the agent's normaliser is the identity here). */
function q(net: Td3Agent['q1'], obs: Float32Array, actions: Float32Array): Float32Array {
  const sa = new Matrix(B, OBS + ACT);
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < OBS; j++) sa.set(r, j, obs[r * OBS + j]!);
    for (let j = 0; j < ACT; j++) sa.set(r, OBS + j, actions[r * ACT + j]!);
  }
  return net.predict(sa).data.slice();
}

function expectedCriticLoss(a: Td3Agent, b: TransitionBatch): number {
  const nextAction = a.actorTarget.predict(new Matrix(B, OBS, b.nextObs.slice())).data.slice();
  const t1 = q(a.q1Target, b.nextObs, nextAction);
  const t2 = q(a.q2Target, b.nextObs, nextAction);
  const q1 = q(a.q1, b.obs, b.actions);
  const q2 = q(a.q2, b.obs, b.actions);
  let l1 = 0;
  let l2 = 0;
  for (let i = 0; i < B; i++) {
    const y = b.rewards[i]! + (1 - b.terminated[i]!) * 0.99 * Math.min(t1[i]!, t2[i]!);
    l1 += (q1[i]! - y) ** 2;
    l2 += (q2[i]! - y) ** 2;
  }
  return l1 / B + l2 / B;
}

describe('rl/Td3Agent', () => {
  it('computes the critic target as r + γ(1 − terminated)·min of the twin targets', () => {
    const a = agent({ policyNoise: 0 });
    const b = batchFor(1);
    const expected = expectedCriticLoss(a, b);
    const got = a.update(b).criticLoss;
    assert.ok(Math.abs(got - expected) <= 1e-5 * Math.max(1, expected), `${got} vs ${expected}`);
  });

  it('clips the target smoothing noise: noiseClip 0 makes any noise level vanish', () => {
    const a = agent({ policyNoise: 0 });
    const c = agent({ policyNoise: 50, noiseClip: 0 });
    const b = batchFor(2);
    assert.equal(a.update(b).criticLoss, c.update(b).criticLoss);
    const d = agent({ policyNoise: 50, noiseClip: 0.5 });
    assert.notEqual(d.update(b).criticLoss, a.update(batchFor(2)).criticLoss);
  });

  it('masks the bootstrap of terminated transitions', () => {
    const b = batchFor(3);
    const allTerminal = batchFor(3);
    allTerminal.terminated.fill(1);
    const a = agent({ policyNoise: 0 });
    const q1 = q(a.q1, b.obs, b.actions);
    const q2 = q(a.q2, b.obs, b.actions);
    let expected = 0;
    for (let i = 0; i < B; i++)
      expected += ((q1[i]! - b.rewards[i]!) ** 2 + (q2[i]! - b.rewards[i]!) ** 2) / B;
    const got = a.update(allTerminal).criticLoss;
    assert.ok(Math.abs(got - expected) <= 1e-5 * Math.max(1, expected), `${got} vs ${expected}`);
  });

  it('trains the actor every policyFreq updates, with TD3+BC λ = α / mean|Q| and the BC term', () => {
    // A negligible critic learning rate keeps Q as it was, so λ and the losses can be computed up front.
    const a = agent({ bcAlpha: 2.5, policyFreq: 2, criticLr: 1e-30 });
    const b = batchFor(4);
    assert.equal(a.update(b).actorLoss, undefined);
    const pi = a.actor.predict(new Matrix(B, OBS, b.obs.slice())).data.slice();
    const qPi = q(a.q1, b.obs, pi);
    const meanAbsQ = qPi.reduce((s, v) => s + Math.abs(v), 0) / B;
    const meanQ = qPi.reduce((s, v) => s + v, 0) / B;
    let bc = 0;
    for (let i = 0; i < pi.length; i++) bc += (pi[i]! - b.actions[i]!) ** 2;
    bc /= pi.length;
    const m = a.update(b);
    const lambda = 2.5 / meanAbsQ;
    assert.ok(Math.abs(m.lambda! - lambda) <= 1e-5 * lambda, `λ ${m.lambda} vs ${lambda}`);
    assert.ok(Math.abs(m.bcLoss! - bc) <= 1e-5, `bc ${m.bcLoss} vs ${bc}`);
    assert.ok(Math.abs(m.actorLoss! - (-lambda * meanQ + bc)) <= 1e-4, `actor loss ${m.actorLoss}`);
  });

  it('is bit-identical for the same seed and differs for another', () => {
    const run = (seed: number) => {
      const a = agent({ seed });
      for (let i = 0; i < 6; i++) a.update(batchFor(10 + i));
      return a.actor.params().map((p) => Array.from(p.value));
    };
    assert.deepEqual(run(5), run(5));
    assert.notDeepEqual(run(5), run(6));
  });

  it('rejects a bad config naming the field, and observations of the wrong length', () => {
    assert.throws(() => agent({ gamma: 2 } as Partial<Td3Config>), /gamma/);
    assert.throws(() => agent().act([1, 2]), /observation has length 2, expected 3/);
  });
});

describe('rl/Td3Agent.fineTuneFrom', () => {
  const pretrained = () => {
    const a = agent({ bcAlpha: 2.5 });
    for (let i = 0; i < 4; i++) a.update(batchFor(20 + i));
    return a;
  };
  const values = (m: { params(): { value: Float32Array }[] }) => m.params().map((p) => Array.from(p.value));

  it('carries actor, critics, targets and optimiser states, and drops the BC term', () => {
    const p = pretrained();
    const f = Td3Agent.fineTuneFrom(p, { actor: true, critic: true }, 99);
    assert.equal(f.config.bcAlpha, undefined);
    assert.equal(f.normalizer, p.normalizer);
    for (const k of ['actor', 'actorTarget', 'q1', 'q2', 'q1Target', 'q2Target'] as const) {
      assert.deepEqual(values(f[k]), values(p[k]), k);
    }
    assert.equal(f.criticOpt.stepCount, p.criticOpt.stepCount);
    assert.deepEqual(
      f.actorOpt.expAvgSq.map((v) => Array.from(v)),
      p.actorOpt.expAvgSq.map((v) => Array.from(v)),
    );
    assert.equal(f.update(batchFor(30)).lambda, undefined);
  });

  it('starts the part not asked for afresh (actor-only and critic-only ablations)', () => {
    const p = pretrained();
    const actorOnly = Td3Agent.fineTuneFrom(p, { actor: true, critic: false }, 99);
    assert.deepEqual(values(actorOnly.actor), values(p.actor));
    assert.notDeepEqual(values(actorOnly.q1), values(p.q1));
    assert.equal(actorOnly.criticOpt.stepCount, 0);
    const criticOnly = Td3Agent.fineTuneFrom(p, { actor: false, critic: true }, 99);
    assert.deepEqual(values(criticOnly.q2Target), values(p.q2Target));
    assert.notDeepEqual(values(criticOnly.actor), values(p.actor));
  });
});
