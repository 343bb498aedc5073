// Lockstep mode through a real gRPC server on loopback: transitions equal an in-process VectorEnv's bit
// for bit (as float32), TD3 through RemoteEnv reproduces the in-process run exactly, and malformed
// requests are refused with INVALID_ARGUMENT / FAILED_PRECONDITION while the server stays up.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Rng, VectorEnv } from '../../lib/envs/index.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import { type OnlineConfig, trainOnline } from '../../lib/rl/online.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import { SimulatorClient } from '../../services/simulator/client.ts';
import { RemoteEnv } from '../../services/simulator/remote-env.ts';
import { type RunningSimulator, startSimulatorServer } from '../../services/simulator/server.ts';

async function start(
  envId: string,
  numEnvs: number,
): Promise<{ sim: RunningSimulator; client: SimulatorClient }> {
  const sim = await startSimulatorServer(
    { envId, numEnvs, simulatorId: 'test-sim', incarnation: 1, seed: 0, windowBatches: 4, batchSteps: 4 },
    '127.0.0.1:0',
  );
  const client = await SimulatorClient.connect(sim.address, { deadlineMs: 10_000 });
  return { sim, client };
}

async function rejects(promise: Promise<unknown>, code: status, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: { code?: number; message: string }) => {
    assert.equal(err.code, code, `expected ${status[code]}, got ${err.code}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('services/simulator lockstep', function () {
  this.timeout(120_000);

  it('steps exactly as an in-process VectorEnv with the same seed (autoresets included)', async () => {
    const numEnvs = 3;
    const { sim, client } = await start('Hopper-v5', numEnvs);
    const local = new VectorEnv('Hopper-v5', { numEnvs });
    try {
      const { obsDim, actDim } = client.meta;
      assert.deepEqual([obsDim, actDim, client.meta.maxEpisodeSteps], [11, 3, 1000]);
      const remoteObs = await client.reset(42);
      assert.deepEqual(remoteObs, Float32Array.from(local.reset({ seed: 42 })));
      const rng = new Rng(7);
      const actions = new Float32Array(numEnvs * actDim);
      let finished = 0;
      for (let t = 0; t < 300; t++) {
        for (let k = 0; k < actions.length; k++) actions[k] = rng.uniform(-1, 1);
        const exact = t % 2 === 1;
        const remote = await client.step(actions, exact);
        const want = local.step(actions);
        if (exact) {
          assert.deepEqual(remote.observationsF64, want.observations, `float64 observations at step ${t}`);
          assert.deepEqual(remote.finalObservationsF64, want.finalObservations);
        } else assert.equal(remote.observationsF64, undefined);
        assert.deepEqual(
          remote.observations,
          Float32Array.from(want.observations),
          `observations at step ${t}`,
        );
        assert.deepEqual(remote.rewards, want.rewards, `rewards at step ${t}`);
        assert.deepEqual(remote.terminated, want.terminated);
        assert.deepEqual(remote.truncated, want.truncated);
        // NaN rows for running sub-envs on both sides: deepEqual treats NaN as equal to NaN.
        assert.deepEqual(remote.finalObservations, Float32Array.from(want.finalObservations));
        for (let i = 0; i < numEnvs; i++) finished += want.terminated[i]! | want.truncated[i]!;
      }
      assert.ok(finished >= 3, `random Hopper episodes should end within 300 steps (ended ${finished})`);
      assert.equal((await client.info()).stepsTotal, 300);
    } finally {
      local.close();
      client.close();
      await sim.shutdown();
    }
  });

  it('trainOnline through RemoteEnv gives the in-process evaluation returns (unary and streamed)', async () => {
    const config: OnlineConfig = {
      totalSteps: 3000,
      startSteps: 1000,
      warmupSteps: 0,
      explorationNoise: 0.1,
      batchSize: 64,
      replayCapacity: 10_000,
      evalEvery: 1000,
      evalEpisodes: 2,
      seed: 3,
    };
    // A normaliser that is not the identity, as when fine-tuning a TD3+BC agent: float32-rounded
    // observations would change normalised inputs in the last bit, so this needs the float64 ones.
    const normalizer = new ObsNormalizer(
      Float32Array.from([0.01, -0.02, 0.03, 0.1]),
      Float32Array.from([0.3, 0.7, 1.3, 2.9]),
    );
    const makeAgent = () =>
      new Td3Agent({ obsDim: 4, actDim: 1, maxAction: 3, hidden: [32, 32], seed: 5 }, normalizer);
    const returnsOf = (r: Awaited<ReturnType<typeof trainOnline>>) =>
      r.evaluations.map((e) => [e.step, e.result.meanReturn, r.episodes]);

    const env = makeEnv('InvertedPendulum-v5');
    const evalEnv = makeEnv('InvertedPendulum-v5');
    // Evaluation returns of InvertedPendulum are episode lengths, which hide tiny differences: compare
    // the trained actors' weights bit for bit as well.
    const weights = (agent: Td3Agent) => agent.actor.params().map((p) => p.value);
    const reference = makeAgent();
    const inProcess = returnsOf(await trainOnline(env, evalEnv, reference, config));
    env.close();

    const { sim, client } = await start('InvertedPendulum-v5', 1);
    try {
      const agent = makeAgent();
      const remote = returnsOf(
        await trainOnline(new RemoteEnv(client, { useStream: false }), evalEnv, agent, config),
      );
      assert.deepEqual(remote, inProcess);
      assert.deepEqual(weights(agent), weights(reference));
      // Training must have done something, or equality would prove little.
      assert.ok(new Set(inProcess.map((r) => r[1])).size > 1, `evaluations all equal: ${inProcess}`);
    } finally {
      client.close();
      await sim.shutdown();
    }

    const again = await start('InvertedPendulum-v5', 1);
    const streamed = new RemoteEnv(again.client, { useStream: true });
    try {
      const agent = makeAgent();
      const remote = returnsOf(await trainOnline(streamed, evalEnv, agent, config));
      assert.deepEqual(remote, inProcess);
      assert.deepEqual(weights(agent), weights(reference));
    } finally {
      streamed.close();
      again.client.close();
      await again.sim.shutdown();
      evalEnv.close();
    }
  });

  it('refuses malformed requests with a status naming the problem and keeps serving', async () => {
    const { sim, client } = await start('Hopper-v5', 2);
    const raw = (
      client as unknown as { grpc: import('../../generated/proto/o2o/v1/simulator.js').SimulatorClient }
    ).grpc;
    const rawStep = (actions: { rows: number; cols: number; data: Buffer } | undefined) =>
      new Promise((resolve, reject) =>
        raw.step({ actions, exactObservations: false }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    try {
      await rejects(client.step(new Float32Array(6)), status.FAILED_PRECONDITION, /Reset first/);
      await client.reset(1);
      await rejects(rawStep(undefined), status.INVALID_ARGUMENT, /actions: missing/);
      await rejects(
        rawStep({ rows: 0, cols: 3, data: Buffer.alloc(0) }),
        status.INVALID_ARGUMENT,
        /expected 2 rows/,
      );
      await rejects(
        rawStep({ rows: 2, cols: 2, data: Buffer.alloc(16) }),
        status.INVALID_ARGUMENT,
        /3 columns/,
      );
      await rejects(
        rawStep({ rows: 2, cols: 3, data: Buffer.alloc(20) }),
        status.INVALID_ARGUMENT,
        /24 bytes/,
      );
      const nan = new Float32Array(6);
      nan[4] = Number.NaN;
      await rejects(client.step(nan), status.INVALID_ARGUMENT, /row 1, column 1 is NaN/);
      const big = new Float32Array(6);
      big[2] = 1.5;
      await rejects(client.step(big), status.INVALID_ARGUMENT, /outside \[-1, 1\]/);
      await rejects(client.reset({ envSeeds: [1] }), status.INVALID_ARGUMENT, /env_seeds: expected 2/);
      await rejects(client.ack(1), status.FAILED_PRECONDITION, /not in actor mode/);
      const actor = client.streamTransitions(0);
      await rejects(actor.next(), status.FAILED_PRECONDITION, /lockstep mode/);
      // Still serving, and the rejected steps moved nothing.
      assert.equal((await client.info()).stepsTotal, 0);
      const ok = await client.step(new Float32Array(6));
      assert.equal(ok.rewards.length, 2);
    } finally {
      client.close();
      await sim.shutdown();
    }
  });
});
