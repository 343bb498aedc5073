// Learning, not just arithmetic: TD3 from scratch must solve InvertedPendulum-v5 within a fixed budget.
// Budget (documented): 64×64 networks instead of 256×256 to fit CI, 10,000 uniformly random start steps,
// then one update per step, evaluation every 5,000 steps over 5 episodes, success at a mean evaluation
// return ≥ 950 within 70,000 steps. Seed 0 solved it at 45,000 steps when this test was written.
import assert from 'node:assert/strict';
import { makeEnv } from '../../lib/envs/registry.ts';
import { trainOnline } from '../../lib/rl/online.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';

describe('rl/learning', function () {
  this.timeout(300_000);

  it('TD3 from scratch solves InvertedPendulum-v5 (evaluation return ≥ 950) within 70k steps', async () => {
    const env = makeEnv('InvertedPendulum-v5');
    const evalEnv = makeEnv('InvertedPendulum-v5');
    const agent = new Td3Agent({ obsDim: 4, actDim: 1, maxAction: 3, hidden: [64, 64], seed: 0 });
    const result = await trainOnline(
      env,
      evalEnv,
      agent,
      {
        totalSteps: 70_000,
        startSteps: 10_000,
        warmupSteps: 0,
        explorationNoise: 0.1,
        batchSize: 256,
        replayCapacity: 100_000,
        evalEvery: 5_000,
        evalEpisodes: 5,
        seed: 1,
      },
      { stopAfter: (_step, r) => r.meanReturn >= 950 },
    );
    env.close();
    evalEnv.close();
    const best = Math.max(...result.evaluations.map((e) => e.result.meanReturn));
    const curve = result.evaluations.map((e) => `${e.step}:${e.result.meanReturn.toFixed(0)}`).join(' ');
    assert.ok(best >= 950, `best evaluation return ${best} < 950; curve ${curve}`);
  });
});
