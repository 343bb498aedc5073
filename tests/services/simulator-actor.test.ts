// Actor mode through a real gRPC server on loopback: contiguous seqs, re-delivery of unacked batches
// after a reconnect, no acked batch ever again, stepping paused by a full window, and policy snapshots
// that act exactly like the learner's actor.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import {
  policySnapshotFromAgent,
  SimulatorClient,
  type Transitions,
} from '../../services/simulator/client.ts';
import { type RunningSimulator, startSimulatorServer } from '../../services/simulator/server.ts';

const WINDOW = 4;
const BATCH_STEPS = 5;
const NUM_ENVS = 2;

async function start(): Promise<{ sim: RunningSimulator; client: SimulatorClient }> {
  const sim = await startSimulatorServer(
    {
      envId: 'Hopper-v5',
      numEnvs: NUM_ENVS,
      simulatorId: 'actor-test',
      incarnation: 3,
      seed: 11,
      windowBatches: WINDOW,
      batchSteps: BATCH_STEPS,
    },
    '127.0.0.1:0',
  );
  return { sim, client: await SimulatorClient.connect(sim.address) };
}

/** Takes `count` batches from a fresh stream starting at `fromSeq`, then disconnects. */
async function take(client: SimulatorClient, fromSeq: number, count: number): Promise<Transitions[]> {
  const got: Transitions[] = [];
  if (count === 0) return got;
  for await (const batch of client.streamTransitions(fromSeq)) {
    got.push(batch);
    if (got.length === count) break;
  }
  return got;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('services/simulator actor mode', function () {
  this.timeout(60_000);

  it('streams contiguous seqs, re-sends unacked batches after a reconnect, never acked ones', async () => {
    const { sim, client } = await start();
    try {
      const first = await take(client, 0, 3);
      assert.deepEqual(
        first.map((b) => b.seq),
        [1, 2, 3],
      );
      for (const b of first) {
        assert.equal(b.simulatorId, 'actor-test');
        assert.equal(b.incarnation, 3);
        assert.equal(b.policyVersion, 0);
        assert.equal(b.rows, BATCH_STEPS * NUM_ENVS);
        assert.deepEqual(Array.from(b.envIndex.subarray(0, 2)), [0, 1]);
        for (const a of b.actions) assert.ok(a >= -1 && a <= 1, `random action ${a} out of bounds`);
      }
      // Consecutive transitions of one sub-env chain: next_obs of step t is obs of step t+1 (no episode end).
      const b1 = first[0]!;
      for (let t = 0; t + 1 < BATCH_STEPS; t++) {
        const row = t * NUM_ENVS;
        if (b1.terminated[row] || b1.truncated[row]) continue;
        assert.deepEqual(
          b1.nextObs.subarray(row * 11, row * 11 + 11),
          b1.obs.subarray((row + 2) * 11, (row + 2) * 11 + 11),
        );
      }
      // Ack only seq 1, then reconnect from 2: seqs 2 and 3 come again, identical.
      await client.ack(1);
      const again = await take(client, 2, 3);
      assert.deepEqual(
        again.map((b) => b.seq),
        [2, 3, 4],
      );
      assert.deepEqual(again[0]!.obs, first[1]!.obs);
      assert.deepEqual(again[1]!.rewards, first[2]!.rewards);
      // from_seq = 0 resumes at the oldest unacked: 2 again; after acking 4, it is 5.
      assert.equal((await take(client, 0, 1))[0]!.seq, 2);
      await client.ack(4);
      assert.equal((await take(client, 0, 1))[0]!.seq, 5);
      // Asking for an acked seq never returns it: the stream starts at the oldest still held.
      assert.equal((await take(client, 3, 1))[0]!.seq, 5);
      // max_batch_rows sizes the batches produced from then on (already buffered ones stay as they are).
      await assert.rejects(client.streamTransitions(0, { maxBatchRows: 1_000_000 }).next(), /max_batch_rows/);
      let small: Transitions | undefined;
      for await (const b of client.streamTransitions(0, { maxBatchRows: 5 })) {
        await client.ack(b.seq);
        if (b.rows !== BATCH_STEPS * NUM_ENVS) {
          small = b;
          break;
        }
      }
      assert.equal(small?.rows, 4, 'max_batch_rows 5 with 2 envs: 2 steps per batch');
      // Acks of unproduced seqs and from_seq far ahead are refused.
      await assert.rejects(client.ack(10_000), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
      await assert.rejects(take(client, 10_000, 1), /from_seq: 10000 is beyond/);
    } finally {
      client.close();
      await sim.shutdown();
    }
  });

  it('pauses stepping while the window is full and resumes on ack', async () => {
    const { sim, client } = await start();
    try {
      await take(client, 0, 1);
      const full = WINDOW * BATCH_STEPS;
      // Poll rather than sleep a fixed time: the machine may be busy.
      const stepsReach = async (target: number) => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const steps = (await client.info()).stepsTotal;
          if (steps >= target || Date.now() > deadline) return steps;
          await sleep(20);
        }
      };
      assert.equal(await stepsReach(full), full, 'should step exactly up to a full window');
      await sleep(300);
      assert.equal((await client.info()).stepsTotal, full, 'no stepping while full');
      const res = await client.ack(2);
      assert.equal(res.window, WINDOW);
      assert.equal(await stepsReach(full + 2 * BATCH_STEPS), full + 2 * BATCH_STEPS);
      await sleep(300);
      assert.equal((await client.info()).stepsTotal, full + 2 * BATCH_STEPS, 'full again after two batches');
    } finally {
      client.close();
      await sim.shutdown();
    }
  });

  it("acts with a snapshot exactly as the learner's actor does, and refuses bad snapshots", async () => {
    const { sim, client } = await start();
    try {
      const mean = Float32Array.from({ length: 11 }, (_, i) => 0.1 * i);
      const std = Float32Array.from({ length: 11 }, (_, i) => 1 + 0.05 * i);
      const agent = new Td3Agent(
        { obsDim: 11, actDim: 3, maxAction: 1, hidden: [16, 16], seed: 4 },
        new ObsNormalizer(mean, std),
      );
      const snapshot = policySnapshotFromAgent(agent, { policyVersion: 7, explorationNoise: 0, seed: 1 });
      const set = await client.setPolicy(snapshot);
      assert.equal(set.policyVersion, 7);
      assert.ok(set.effectiveFromSeq >= 1);
      let checked = 0;
      for await (const b of client.streamTransitions(0)) {
        await client.ack(b.seq);
        if (b.seq < set.effectiveFromSeq) {
          assert.equal(b.policyVersion, 0);
          continue;
        }
        assert.equal(b.policyVersion, 7);
        // The simulator acts on float64 observations; the batch carries them as float32, so compare
        // against the agent on the float32 copies with a float32-rounding tolerance.
        for (let r = 0; r < b.rows; r++) {
          const a = agent.act(b.obs.subarray(r * 11, r * 11 + 11));
          for (let j = 0; j < 3; j++) assert.ok(Math.abs(a[j]! - b.actions[r * 3 + j]!) < 1e-5, `row ${r}`);
        }
        if (++checked === 2) break;
      }
      // With noise the actions differ from the deterministic ones but stay in bounds.
      const noisy = policySnapshotFromAgent(agent, { policyVersion: 8, explorationNoise: 0.5, seed: 2 });
      const set8 = await client.setPolicy(noisy);
      for await (const b of client.streamTransitions(0)) {
        await client.ack(b.seq);
        if (b.seq < set8.effectiveFromSeq) continue;
        const a = agent.act(b.obs.subarray(0, 11));
        assert.ok(Math.abs(a[0]! - b.actions[0]!) > 1e-4, 'noise should move the action');
        for (const x of b.actions) assert.ok(x >= -1 && x <= 1);
        break;
      }

      const bad = async (patch: Record<string, unknown>, pattern: RegExp) => {
        await assert.rejects(
          client.setPolicy({ ...noisy, policyVersion: 9, ...patch }),
          (e: Error & { code: number }) => {
            assert.equal(e.code, status.INVALID_ARGUMENT, e.message);
            assert.match(e.message, pattern);
            return true;
          },
        );
      };
      await bad({ policyVersion: 8 }, /policy_version: 8 is not newer than the current 8/);
      await bad({ hidden: [16] }, /params: expected 4 tensors/);
      await bad({ obsStd: noisy.obsStd.slice(1) }, /obs_mean\/obs_std: expected 11/);
      await bad({ maxAction: 2 }, /max_action: 2 differs/);
      await bad({ explorationNoise: Number.NaN }, /exploration_noise/);
      const nanParams = noisy.params.map((p, i) =>
        i === 0
          ? { ...p, data: Buffer.from(new Float32Array(p.data.length / 4).fill(Number.NaN).buffer) }
          : p,
      );
      await bad({ params: nanParams }, /params\['layers.0.weight'\]: value 0 is NaN/);
      await bad({ params: noisy.params.map((p) => ({ ...p, data: p.data.subarray(4) })) }, /bytes, expected/);
      // Lockstep calls are refused in actor mode; the simulator keeps serving.
      await assert.rejects(client.reset(1), (e: { code: number }) => e.code === status.FAILED_PRECONDITION);
      assert.equal((await client.info()).policyVersion, 8);
    } finally {
      client.close();
      await sim.shutdown();
    }
  });

  it('delivers every batch once to a consumer that acks every 3rd, decoded intact across batches', async () => {
    const { sim, client } = await start();
    try {
      const batches: Transitions[] = [];
      for await (const batch of client.streamTransitions(0)) {
        batches.push(batch);
        // WINDOW is 4: a cumulative ack every 3rd batch keeps the simulator stepping.
        if (batch.seq % 3 === 0) await client.ack(batch.seq);
        if (batches.length === 12) break;
      }
      assert.deepEqual(
        batches.map((b) => b.seq),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      // Rows are step-major: a sub-env's next_obs is its obs one step later unless its episode ended,
      // also across batch boundaries, so decoded arrays (views of each message) hold the right bytes.
      const obsDim = client.meta.obsDim;
      let linked = 0;
      for (let k = 0; k < batches.length; k++) {
        const b = batches[k]!;
        assert.equal(b.obs.length, BATCH_STEPS * NUM_ENVS * obsDim);
        for (let r = 0; r < b.rows; r++) {
          if (b.terminated[r] === 1 || b.truncated[r] === 1) continue;
          const next =
            r + NUM_ENVS < b.rows
              ? { batch: b, row: r + NUM_ENVS }
              : { batch: batches[k + 1], row: r + NUM_ENVS - b.rows };
          if (next.batch === undefined) continue;
          const want = b.nextObs.subarray(r * obsDim, (r + 1) * obsDim);
          const got = next.batch.obs.subarray(next.row * obsDim, (next.row + 1) * obsDim);
          assert.deepEqual(Array.from(got), Array.from(want), `batch ${b.seq} row ${r}`);
          linked++;
        }
      }
      assert.ok(linked > 100, `only ${linked} rows checked`);
    } finally {
      client.close();
      await sim.shutdown();
    }
  });

  it('refuses an HTTP/2 receive window below the protocol minimum before dialling', async () => {
    await assert.rejects(SimulatorClient.connect('127.0.0.1:1', { flowControlWindowBytes: 1024 }), {
      name: 'RangeError',
      message: /flowControlWindowBytes must be 65535\.\.2\^31-1, got 1024/,
    });
  });
});
