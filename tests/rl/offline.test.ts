import assert from 'node:assert/strict';
import { makeEnv } from '../../lib/envs/registry.ts';
import { Rng } from '../../lib/envs/rng.ts';
import { NextStateAugmenter } from '../../lib/rl/augment.ts';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import { pretrainOffline } from '../../lib/rl/offline.ts';
import { ReplayBuffer } from '../../lib/rl/replay-buffer.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';
import type { WorldModel } from '../../lib/world-model/types.ts';

/** Random-policy transitions of InvertedPendulum-v5, as an offline dataset. */
function randomData(n: number): ReplayBuffer {
  const env = makeEnv('InvertedPendulum-v5');
  const rng = new Rng(9);
  const buffer = new ReplayBuffer({ obsDim: 4, actDim: 1, capacity: n, seed: 2 });
  let obs = env.reset({ seed: 4 }).obs;
  while (buffer.size < n) {
    const a = [rng.uniform(-3, 3)];
    const t = env.step(a);
    buffer.add(obs, a, t.reward, t.obs, t.terminated);
    obs = t.terminated || t.truncated ? env.reset().obs : t.obs;
  }
  env.close();
  return buffer;
}

/** Counts calls and rows; predicts "next state = current state". */
function copyModel() {
  const calls: number[] = [];
  const model: WorldModel = {
    info: { implementation: 'test-copy', obsDim: 4, actDim: 1 },
    async predictNextStates(states, _a, count, out) {
      calls.push(count);
      out.set(states.subarray(0, count * 4));
    },
  };
  return { model, calls };
}

describe('rl/pretrainOffline', () => {
  const data = randomData(2000);
  const config = { updates: 40, batchSize: 64, evalEvery: 20, evalEpisodes: 2, seed: 1 };
  const newAgent = () =>
    new Td3Agent(
      { obsDim: 4, actDim: 1, maxAction: 3, hidden: [16, 16], bcAlpha: 2.5, seed: 5 },
      ObsNormalizer.identity(4),
    );

  it('asks the world model for ⌊p·B⌋ predictions on every update and evaluates on schedule', async () => {
    const { model, calls } = copyModel();
    const env = makeEnv('InvertedPendulum-v5');
    const r = await pretrainOffline(newAgent(), data, env, config, new NextStateAugmenter(model, 0.5, 3));
    env.close();
    assert.deepEqual(calls, new Array(40).fill(32));
    assert.deepEqual(
      r.evaluations.map((e) => e.update),
      [20, 40],
    );
  });

  it('trains differently with augmentation than without, and identically for the same seed', async () => {
    const weights = async (augment: boolean) => {
      const agent = newAgent();
      const aug = augment ? new NextStateAugmenter(copyModel().model, 0.5, 3) : undefined;
      await pretrainOffline(agent, randomData(500), undefined, config, aug);
      return agent.q1.params().map((p) => Array.from(p.value));
    };
    assert.deepEqual(await weights(true), await weights(true));
    assert.notDeepEqual(await weights(true), await weights(false));
  });

  it('refuses an agent without TD3+BC and a dataset of other dimensions', async () => {
    const td3 = new Td3Agent({ obsDim: 4, actDim: 1, maxAction: 3, hidden: [8], seed: 0 });
    await assert.rejects(pretrainOffline(td3, data, undefined, config), /offline pre-training is TD3\+BC/);
    const other = new ReplayBuffer({ obsDim: 3, actDim: 1, capacity: 4, seed: 0 });
    other.add([0, 0, 0], [0], 0, [0, 0, 0], false);
    await assert.rejects(pretrainOffline(newAgent(), other, undefined, config), /dataset dims 3\/1/);
  });
});
