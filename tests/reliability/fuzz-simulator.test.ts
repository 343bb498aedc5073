// Fuzzes every method of the simulator (Info, Reset, Step, Lockstep, SetPolicy, StreamTransitions, Ack)
// on two real processes, one in lockstep mode and one in actor mode: malformed batches, out-of-bound
// actions, seeds beyond 2^53, broken policy snapshots (shapes, NaN weights, absurd widths), sequence
// numbers never produced, garbage bytes, and calls of the other mode. Every one gets a client-error
// status with a message, both processes stay up and answer valid calls, and their memory stays bounded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type PolicySnapshot,
  PolicySnapshot as PolicySnapshotCodec,
  SimAckRequest,
  SimResetRequest,
  SimStepRequest,
  StreamTransitionsRequest,
} from '../../generated/proto/o2o/v1/simulator.js';
import { mlp } from '../../lib/nn/index.ts';
import { SimulatorClient } from '../../services/simulator/client.ts';
import { type SpawnedSimulator, spawnSimulator } from '../../services/simulator/spawn.ts';
import {
  badBatch,
  type FuzzCase,
  type FuzzReport,
  FuzzRng,
  formatReport,
  fuzzRequestCount,
  garbage,
  goodBatch,
  rawClient,
  rssKb,
  runFuzz,
  varintField,
} from './fuzz-harness.ts';

const M = (name: string) => `/o2o.v1.Simulator/${name}`;
const NUM_ENVS = 2;
const OBS = 4; // InvertedPendulum-v5
const ACT = 1;
const MAX_ACTION = 3;

const enc = {
  reset: (m: Partial<SimResetRequest>) =>
    Buffer.from(SimResetRequest.encode(SimResetRequest.fromPartial(m)).finish()),
  step: (m: SimStepRequest) => Buffer.from(SimStepRequest.encode(m).finish()),
  policy: (m: PolicySnapshot) => Buffer.from(PolicySnapshotCodec.encode(m).finish()),
  stream: (m: StreamTransitionsRequest) => Buffer.from(StreamTransitionsRequest.encode(m).finish()),
  ack: (seq: number) => Buffer.from(SimAckRequest.encode({ seq }).finish()),
};

/** A valid actor snapshot for InvertedPendulum (hidden [8]). */
function snapshot(version: number, seed = 1): PolicySnapshot {
  const net = mlp({
    inputs: OBS,
    hidden: [8],
    outputs: ACT,
    outputActivation: 'tanh',
    outputScale: MAX_ACTION,
    rng: seed,
  });
  return {
    policyVersion: version,
    hidden: [8],
    params: net
      .params()
      .map((p) => ({ name: p.name, shape: [...p.shape], data: Buffer.from(p.value.slice().buffer) })),
    obsMean: Array(OBS).fill(0),
    obsStd: Array(OBS).fill(1),
    maxAction: MAX_ACTION,
    explorationNoise: 0.1,
    seed,
  };
}

function actions(rng: FuzzRng): ReturnType<typeof goodBatch> {
  return goodBatch(rng, NUM_ENVS, ACT, 0.5);
}

/** One malformed Step request (shared by Step and the Lockstep stream). */
function badStep(rng: FuzzRng): { msg: Buffer; label: string } {
  if (rng.chance(0.25)) {
    const v = new Float32Array(NUM_ENVS * ACT);
    v[rng.int(0, v.length - 1)] = rng.pick([3.5, -3.01, 1e30, -1e30]);
    return {
      msg: enc.step({
        actions: { rows: NUM_ENVS, cols: ACT, data: Buffer.from(v.buffer) },
        exactObservations: false,
      }),
      label: 'action out of bounds',
    };
  }
  if (rng.chance(0.1))
    return { msg: enc.step({ actions: undefined, exactObservations: true }), label: 'actions missing' };
  const b = badBatch(rng, NUM_ENVS, ACT);
  return {
    msg: enc.step({ actions: b.batch, exactObservations: rng.chance(0.5) }),
    label: `actions ${b.label}`,
  };
}

function lockstepCases(rng: FuzzRng, n: number): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (let i = 0; cases.length < n; i++) {
    const k = i % 12;
    if (k < 3) {
      const s = badStep(rng);
      cases.push({ path: M('Step'), kind: 'unary', messages: [s.msg], label: s.label, mustFail: true });
    } else if (k < 5) {
      // A few good steps, then a bad one: the stream ends with the bad one's status.
      const good = Array.from({ length: rng.int(0, 2) }, () =>
        enc.step({ actions: actions(rng), exactObservations: false }),
      );
      const s = badStep(rng);
      cases.push({
        path: M('Lockstep'),
        kind: 'bidi',
        messages: [...good, s.msg],
        label: `stream: ${s.label}`,
        mustFail: true,
      });
    } else if (k === 5) {
      const seeds = rng.pick([[1], [1, 2, 3], Array(50).fill(7)]);
      cases.push({
        path: M('Reset'),
        kind: 'unary',
        messages: [enc.reset({ seed: 1, envSeeds: seeds })],
        label: `${seeds.length} env_seeds`,
        mustFail: true,
      });
    } else if (k === 6) {
      const big = rng.pick([2n ** 53n + 5n, 2n ** 64n - 1n]);
      const field = rng.chance(0.5) ? 1 : 2; // seed, or one env seed (packed-less varint is accepted too)
      cases.push({
        path: M('Reset'),
        kind: 'unary',
        messages: [varintField(field, big)],
        label: `seed ${big}`,
        mustFail: true,
      });
    } else if (k === 7) {
      // Actor-mode calls on a lockstep simulator.
      const which = rng.int(0, 2);
      const c: FuzzCase =
        which === 0
          ? {
              path: M('SetPolicy'),
              kind: 'unary',
              messages: [enc.policy(snapshot(5))],
              label: 'wrong mode',
              mustFail: true,
            }
          : which === 1
            ? {
                path: M('StreamTransitions'),
                kind: 'server-stream',
                messages: [enc.stream({ fromSeq: 0, maxBatchRows: 0 })],
                label: 'wrong mode',
                mustFail: true,
              }
            : { path: M('Ack'), kind: 'unary', messages: [enc.ack(1)], label: 'wrong mode', mustFail: true };
      cases.push(c);
    } else if (k < 10) {
      const g = garbage(rng, enc.step({ actions: actions(rng), exactObservations: false }));
      const path = rng.pick([M('Step'), M('Reset')]);
      // Flipped bytes may still be a valid step; truncated or random ones rarely are.
      cases.push({ path, kind: 'unary', messages: [g.bytes], label: g.label, mustFail: false });
    } else {
      const g = garbage(rng, Buffer.alloc(0));
      cases.push({ path: M('Info'), kind: 'unary', messages: [g.bytes], label: g.label, mustFail: false });
    }
  }
  return cases;
}

/** One snapshot wrong in one way (or not newer than the current version). */
function badSnapshot(rng: FuzzRng, version: number): { snap: PolicySnapshot; label: string } {
  const s = snapshot(version, rng.int(1, 5));
  const k = rng.int(0, 11);
  const first = s.params[0]!;
  switch (k) {
    case 0:
      return { snap: { ...s, policyVersion: 0 }, label: 'version 0' };
    case 1:
      return { snap: { ...s, hidden: rng.pick([[], [0], [8, 8]]) }, label: 'hidden does not match params' };
    case 2:
      return {
        snap: { ...s, hidden: rng.pick([[65536, 65536], [65536, 65536, 65536], Array(5000).fill(64)]) },
        label: 'absurd widths',
      };
    case 3:
      return {
        snap: { ...s, maxAction: rng.pick([0, -3, 1, Number.NaN, Number.POSITIVE_INFINITY]) },
        label: 'max_action',
      };
    case 4:
      return {
        snap: { ...s, explorationNoise: rng.pick([-0.1, 11, Number.NaN]) },
        label: 'exploration_noise',
      };
    case 5:
      return { snap: { ...s, obsMean: [0, 0] }, label: 'obs_mean length' };
    case 6:
      return { snap: { ...s, obsStd: [1, 0, 1, -1] }, label: 'obs_std not positive' };
    case 7:
      return { snap: { ...s, params: s.params.slice(1) }, label: 'tensor missing' };
    case 8:
      return {
        snap: {
          ...s,
          params: [{ ...first, shape: [first.shape[1]!, first.shape[0]!] }, ...s.params.slice(1)],
        },
        label: 'tensor shape',
      };
    case 9:
      return {
        snap: { ...s, params: [{ ...first, data: first.data.subarray(4) }, ...s.params.slice(1)] },
        label: 'tensor bytes',
      };
    case 10: {
      const v = new Float32Array(
        first.data.buffer.slice(first.data.byteOffset, first.data.byteOffset + first.data.length),
      );
      v[0] = Number.NaN;
      return {
        snap: { ...s, params: [{ ...first, data: Buffer.from(v.buffer) }, ...s.params.slice(1)] },
        label: 'NaN weight',
      };
    }
    default:
      return { snap: { ...s, policyVersion: rng.int(1, version) }, label: 'version not newer' };
  }
}

function actorCases(rng: FuzzRng, n: number, currentVersion: number): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (let i = 0; cases.length < n; i++) {
    const k = i % 10;
    if (k < 4) {
      const b = badSnapshot(rng, currentVersion);
      cases.push({
        path: M('SetPolicy'),
        kind: 'unary',
        messages: [enc.policy(b.snap)],
        label: b.label,
        mustFail: true,
      });
    } else if (k === 4) {
      const m = rng.pick([
        { fromSeq: 1_000_000, maxBatchRows: 0 },
        { fromSeq: 0, maxBatchRows: 16_385 },
        { fromSeq: 0, maxBatchRows: 0xffff_ffff },
      ]);
      cases.push({
        path: M('StreamTransitions'),
        kind: 'server-stream',
        messages: [enc.stream(m)],
        label: `from ${m.fromSeq} rows ${m.maxBatchRows}`,
        mustFail: true,
      });
    } else if (k === 5) {
      cases.push({
        path: M('StreamTransitions'),
        kind: 'server-stream',
        messages: [varintField(1, 2n ** 63n)],
        label: 'from_seq 2^63',
        mustFail: true,
      });
    } else if (k === 6) {
      const seq = rng.pick([0, 1_000_000, 2 ** 52]);
      cases.push({
        path: M('Ack'),
        kind: 'unary',
        messages: [enc.ack(seq)],
        label: `ack ${seq}`,
        mustFail: true,
      });
    } else if (k === 7) {
      // Lockstep calls on an actor simulator.
      const which = rng.int(0, 2);
      const step = enc.step({ actions: actions(rng), exactObservations: false });
      cases.push(
        which === 0
          ? {
              path: M('Reset'),
              kind: 'unary',
              messages: [enc.reset({ seed: 3 })],
              label: 'wrong mode',
              mustFail: true,
            }
          : which === 1
            ? { path: M('Step'), kind: 'unary', messages: [step], label: 'wrong mode', mustFail: true }
            : { path: M('Lockstep'), kind: 'bidi', messages: [step], label: 'wrong mode', mustFail: true },
      );
    } else {
      const g = garbage(rng, enc.policy(snapshot(currentVersion)));
      cases.push({
        path: M('SetPolicy'),
        kind: 'unary',
        messages: [g.bytes],
        label: g.label,
        mustFail: true,
      });
    }
  }
  return cases;
}

function merge(a: FuzzReport, b: FuzzReport): FuzzReport {
  const byMethod = new Map(a.byMethod);
  for (const [m, counts] of b.byMethod) {
    const into = new Map(byMethod.get(m) ?? []);
    for (const [s, n] of counts) into.set(s, (into.get(s) ?? 0) + n);
    byMethod.set(m, into);
  }
  return { requests: a.requests + b.requests, byMethod, violations: [...a.violations, ...b.violations] };
}

describe('fuzz: simulator gRPC (real processes, lockstep and actor)', function () {
  this.timeout(300_000);
  let root: string;
  let lock: SpawnedSimulator;
  let actor: SpawnedSimulator;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'o2o-fuzz-sim-'));
    const env = (id: string) => ({
      O2O_SIM_ENV: 'InvertedPendulum-v5',
      O2O_SIM_NUM_ENVS: String(NUM_ENVS),
      O2O_SIM_ID: id,
      O2O_SIM_WINDOW: '2',
      O2O_SIM_BATCH_STEPS: '4',
      O2O_NATS_URL: 'none',
      O2O_RUN_ROOT: root,
    });
    [lock, actor] = await Promise.all([spawnSimulator(env('fuzz-lock')), spawnSimulator(env('fuzz-actor'))]);
  });
  after(async () => {
    await Promise.all([lock?.stop(), actor?.stop()]);
    rmSync(root, { recursive: true, force: true });
  });

  it(`refuses ${fuzzRequestCount()} malformed requests to every method, stays up, memory bounded`, async () => {
    const total = fuzzRequestCount();
    const rng = new FuzzRng(3);
    const lc = rawClient(lock.address);
    const ac = rawClient(actor.address);
    try {
      // Wrong state: Step before any Reset.
      const early = await runFuzz(
        lc,
        Array.from({ length: 20 }, () => ({
          path: M('Step'),
          kind: 'unary' as const,
          messages: [enc.step({ actions: actions(rng), exactObservations: false })],
          label: 'before Reset',
          mustFail: true,
        })),
      );
      assert.deepEqual(early.violations, []);
      assert.deepEqual([...early.byMethod.get('Step')!.keys()], ['FAILED_PRECONDITION']);
      // Fix each process's mode with one valid call, then warm up.
      const sim = await SimulatorClient.connect(lock.address, { tls: null });
      await sim.reset({ seed: 1 });
      const act = await SimulatorClient.connect(actor.address, { tls: null });
      await act.setPolicy(snapshot(10));
      await runFuzz(lc, lockstepCases(rng, 40));
      await runFuzz(ac, actorCases(rng, 40, 10));

      const rssBefore = [rssKb(lock.pid), rssKb(actor.pid)];
      const half = Math.floor((total - early.requests) / 2);
      const report = merge(
        early,
        merge(
          await runFuzz(lc, lockstepCases(rng, half)),
          await runFuzz(ac, actorCases(rng, total - early.requests - half, 10)),
        ),
      );
      const rssAfter = [rssKb(lock.pid), rssKb(actor.pid)];
      console.log(
        `${formatReport('simulator', report)}\n  RSS lockstep ${rssBefore[0]} -> ${rssAfter[0]} kB, actor ${rssBefore[1]} -> ${rssAfter[1]} kB`,
      );
      assert.deepEqual(report.violations.slice(0, 20), []);
      for (const m of ['Info', 'Reset', 'Step', 'Lockstep', 'SetPolicy', 'StreamTransitions', 'Ack'])
        assert.ok(report.byMethod.has(m), `${m} fuzzed`);

      // Both still work: a lockstep step, and a newer policy accepted by the actor.
      await sim.reset({ seed: 2 });
      const step = await sim.step(new Float32Array(NUM_ENVS * ACT));
      assert.equal(step.observations.length, NUM_ENVS * OBS);
      assert.equal((await act.setPolicy(snapshot(11))).policyVersion, 11);
      sim.close();
      act.close();
      for (const i of [0, 1])
        assert.ok(rssAfter[i]! - rssBefore[i]! < 150_000, `RSS grew by ${rssAfter[i]! - rssBefore[i]!} kB`);
    } finally {
      lc.close();
      ac.close();
    }
  });
});
