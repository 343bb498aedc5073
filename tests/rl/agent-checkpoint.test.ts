import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgent, saveAgent } from '../../lib/rl/agent-checkpoint.ts';
import { ObsNormalizer } from '../../lib/rl/normalizer.ts';
import { allocateBatch } from '../../lib/rl/replay-buffer.ts';
import { Td3Agent } from '../../lib/rl/td3.ts';

function batch(seed: number) {
  const b = allocateBatch(8, 2, 1);
  for (let i = 0; i < 16; i++) {
    b.obs[i] = Math.sin(seed + i);
    b.nextObs[i] = Math.cos(seed + i);
  }
  for (let i = 0; i < 8; i++) {
    b.actions[i] = Math.sin(seed * i) * 0.9;
    b.rewards[i] = i / 8;
  }
  return b;
}

describe('rl/agent checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-agent-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const criticLayerNorm of [false, true]) {
    it(`reloads an agent that acts and keeps training exactly like the original (critic LayerNorm ${criticLayerNorm})`, () => {
      const norm = new ObsNormalizer(Float32Array.from([0.5, -1]), Float32Array.from([2, 0.25]));
      const a = new Td3Agent(
        { obsDim: 2, actDim: 1, maxAction: 1, hidden: [8], bcAlpha: 2.5, seed: 4, criticLayerNorm },
        norm,
      );
      // The LayerNorm's own parameters are saved too: the critic has 2 more tensors with it.
      assert.equal(a.q1.params().length, criticLayerNorm ? 6 : 4);
      for (let i = 0; i < 5; i++) a.update(batch(i));
      const path = join(dir, 'agent.safetensors');
      saveAgent(path, a, { phase: 'offline' });
      const { agent: b, metadata } = loadAgent(path);
      assert.equal(metadata['phase'], 'offline');
      assert.equal(b.updates, 5);
      assert.deepEqual(b.config, a.config);
      assert.deepEqual(Array.from(b.act([0.3, 0.7])), Array.from(a.act([0.3, 0.7])));
      for (let i = 5; i < 9; i++) assert.deepEqual(b.update(batch(i)), a.update(batch(i)));
      assert.deepEqual(
        b.actor.params().map((p) => Array.from(p.value)),
        a.actor.params().map((p) => Array.from(p.value)),
      );
      assert.deepEqual(
        b.q1.params().map((p) => Array.from(p.value)),
        a.q1.params().map((p) => Array.from(p.value)),
      );
    });
  }

  it('refuses a file that is not an agent checkpoint, naming what is missing', () => {
    const path = join(dir, 'junk.safetensors');
    writeFileSync(path, 'not a checkpoint');
    assert.throws(() => loadAgent(path), /junk\.safetensors/);
  });
});
