// The control world models behind the augmentation: least squares recovers linear dynamics; both it and
// copying the state use the VAE's training split, predict deterministically and round-trip through a file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyStateWorldModel } from '../../lib/world-model/copy-state-world-model.ts';
import { LinearWorldModel } from '../../lib/world-model/linear-world-model.ts';
import { trainWorldModel } from '../../lib/world-model/train.ts';
import { trainedForMetadata, WM_ENV_ID_KEY } from '../../lib/world-model/trained-for.ts';
import { syntheticTransitions } from './synthetic.ts';

describe('linear world model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-linear-wm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const data = syntheticTransitions(2_000, 3);

  it("recovers s′ = 0.9 s + 0.5 a to the data's noise and predicts without noise", async () => {
    const { model } = LinearWorldModel.fit(data, 0);
    assert.deepEqual(model.info, { implementation: 'linear-lsq', obsDim: 4, actDim: 2 });
    const states = new Float32Array([1, -2, 0.5, 3]);
    const actions = new Float32Array([0.2, -0.4]);
    const out = new Float32Array(4);
    await model.predictNextStates(states, actions, 1, out);
    const expected = [
      0.9 * 1 + 0.5 * 0.2,
      0.9 * -2 + 0.5 * -0.4,
      0.9 * 0.5 + 0.5 * 0.2,
      0.9 * 3 + 0.5 * -0.4,
    ];
    for (const [k, v] of out.entries()) {
      assert.ok(Math.abs(v - expected[k]!) < 0.01, `dim ${k}: ${v} vs ${expected[k]}`);
    }
    const again = new Float32Array(4);
    model.reseedNoise(99);
    await model.predictNextStates(states, actions, 1, again);
    assert.deepEqual(again, out, 'deterministic, whatever the noise seed');
    await assert.rejects(model.predictNextStates(states, actions, 2, out), /states has 4 values, expected/);
  });

  it('fits on the training split the VAE trains on (same seed, same held-out rows)', () => {
    const { split } = LinearWorldModel.fit(data, 5);
    const small = { encoderHidden: [8], decoderHidden: [8], transitionHidden: [8], latentDim: 2 };
    const vae = trainWorldModel(data, { seed: 5, epochs: 1, batchSize: 512, model: small });
    assert.deepEqual(split.train, vae.split.train);
    assert.deepEqual(split.heldOut, vae.split.heldOut);
  });

  it('round-trips through its file exactly, and names what is wrong with a bad one', async () => {
    const { model } = LinearWorldModel.fit(data, 0);
    const path = join(dir, 'linear.json');
    model.save(path);
    const loaded = LinearWorldModel.load(path);
    assert.deepEqual(loaded.dynamics.coefficients, model.dynamics.coefficients);
    assert.equal(loaded.info.trainedFor, undefined, 'no metadata given, nothing recorded');
    model.save(path, trainedForMetadata('Hopper-v5', undefined));
    assert.deepEqual(LinearWorldModel.load(path).info.trainedFor, { envId: 'Hopper-v5', envOptions: {} });
    writeFileSync(
      path,
      JSON.stringify({ format: 'linear-lsq/1', obsDim: 4, actDim: 2, coefficients: [[1, 2]] }),
    );
    assert.throws(
      () => LinearWorldModel.load(path),
      /linear\.json: LinearDynamics: 1 coefficient vectors for 4 state dims/,
    );
    writeFileSync(path, JSON.stringify({ format: 'vae-native/1' }));
    assert.throws(() => LinearWorldModel.load(path), /linear\.json: not a linear world model: format/);
    writeFileSync(path, '{');
    assert.throws(() => LinearWorldModel.load(path), /linear\.json: not a linear world model \(/);
  });
});

describe('copy-state world model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-copy-wm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('predicts the state itself, on the VAE split, and round-trips through its file', async () => {
    const data = syntheticTransitions(500, 4);
    const { model, split } = CopyStateWorldModel.fit(data, 5);
    assert.deepEqual(split, LinearWorldModel.fit(data, 5).split, 'the same held-out rows');
    const states = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = new Float32Array(8);
    await model.predictNextStates(states, new Float32Array(4), 2, out);
    assert.deepEqual(out, states);
    const path = join(dir, 'copy.json');
    model.save(path);
    assert.deepEqual(CopyStateWorldModel.load(path).info, model.info);
    assert.ok(!('metadata' in JSON.parse(readFileSync(path, 'utf8'))), 'no metadata given, none written');
    // What it was fitted for, recorded as the VAE records it, and a malformed record named.
    model.save(path, trainedForMetadata('Ant-v5', { contactCostWeight: 0 }));
    assert.deepEqual(CopyStateWorldModel.load(path).info.trainedFor, {
      envId: 'Ant-v5',
      envOptions: { contactCostWeight: 0 },
    });
    const recorded = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...recorded, metadata: { [WM_ENV_ID_KEY]: 3 } }));
    assert.throws(
      () => CopyStateWorldModel.load(path),
      /copy\.json: not a copy-state world model: metadata\.o2o\.world_model\.env_id:/,
    );
    writeFileSync(path, JSON.stringify({ format: 'copy-state/1', obsDim: 0, actDim: 2 }));
    assert.throws(() => CopyStateWorldModel.load(path), /copy\.json: not a copy-state world model: obsDim/);
  });
});
