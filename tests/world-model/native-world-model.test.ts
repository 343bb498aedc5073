// The 'vae-native' WorldModel: raw units in and out, input validation, and the safetensors round trip
// (weights, normalisation statistics, configuration) predicting identically after reload.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, readSafetensors, saveCheckpoint, writeSafetensors } from '../../lib/nn/index.ts';
import { gatherRows } from '../../lib/world-model/data.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { trainWorldModel } from '../../lib/world-model/train.ts';
import {
  checkTrainedFor,
  trainedForMetadata,
  WM_ENV_ID_KEY,
  WM_ENV_OPTIONS_KEY,
} from '../../lib/world-model/trained-for.ts';
import { syntheticTransitions } from './synthetic.ts';

describe("world model 'vae-native'", () => {
  let dir: string;
  const data = syntheticTransitions(400, 9);
  const trained = trainWorldModel(data, {
    seed: 3,
    epochs: 4,
    batchSize: 64,
    model: {
      encoderHidden: [16],
      decoderHidden: [16, 8],
      transitionHidden: [16],
      latentDim: 3,
      transitionMode: 'direct',
    },
  });
  const count = 20;
  const rows = trained.split.heldOut.slice(0, count);
  const states = gatherRows(data.observations, 4, rows, 0, rows.length, new Float32Array(rows.length * 4));
  const actions = gatherRows(data.actions, 2, rows, 0, rows.length, new Float32Array(rows.length * 2));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-wm-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('predicts raw next states: denormalised decoder output of the normalised input', async () => {
    assert.equal(rows.length, count);
    const wm = new NativeVaeWorldModel(trained.vae, trained.normalizer);
    assert.deepEqual(wm.info, { implementation: 'vae-native', obsDim: 4, actDim: 2 });
    const out = new Float32Array(count * 4);
    await wm.predictNextStates(states, actions, count, out, { deterministic: true });
    // Raw targets are around 0.9·N(1, 2): a prediction in standardised units would sit near 0.
    const meanAbs = out.reduce((s, v) => s + Math.abs(v), 0) / out.length;
    assert.ok(meanAbs > 0.5, `raw scale ${meanAbs}`);
    const n = trained.normalizer;
    const z = n.normalize(states, new Float32Array(states.length));
    const norm = trained.vae.predictNormalized(
      new Matrix(count, 4, z),
      new Matrix(count, 2, actions),
      true,
      new Matrix(count, 4),
    );
    assert.deepEqual(out, n.denormalize(norm.data, new Float32Array(count * 4)));
  });

  it('save → load predicts identically (deterministic and, reseeded, stochastic); stats and config travel', async () => {
    const wm = new NativeVaeWorldModel(trained.vae, trained.normalizer, 77);
    const path = join(dir, 'wm.safetensors');
    wm.save(path, { 'o2o.note': 'test' });
    const file = readSafetensors(path);
    for (const name of [
      'encoder.trunk.layers.0.weight',
      'encoder.mean.layers.0.bias',
      'encoder.log_var.layers.0.weight',
      'decoder.layers.4.weight',
      'transition.layers.2.bias',
      'normalizer.state_mean',
      'normalizer.state_std',
    ]) {
      assert.ok(file.tensors.has(name), `tensor ${name}`);
    }
    assert.equal(file.metadata['o2o.note'], 'test');
    assert.deepEqual(file.tensors.get('normalizer.state_mean')!.data, trained.normalizer.mean);

    const loaded = NativeVaeWorldModel.load(path);
    assert.deepEqual(loaded.vae.config, trained.vae.config);
    assert.equal(loaded.vae.config.transitionMode, 'direct');
    assert.equal(loaded.normalizer.eps, trained.normalizer.eps);
    for (const deterministic of [true, false]) {
      wm.reseedNoise(5);
      loaded.reseedNoise(5);
      const a = new Float32Array(count * 4);
      const b = new Float32Array(count * 4);
      await wm.predictNextStates(states, actions, count, a, { deterministic });
      await loaded.predictNextStates(states, actions, count, b, { deterministic });
      assert.deepEqual(a, b, `deterministic=${deterministic}`);
    }
    // The saved noise seed restarts the stream identically.
    const fresh = [NativeVaeWorldModel.load(path), NativeVaeWorldModel.load(path)];
    const outs = fresh.map(() => new Float32Array(count * 4));
    for (const [i, m] of fresh.entries()) await m.predictNextStates(states, actions, count, outs[i]!);
    assert.deepEqual(outs[0], outs[1]);
  });

  it('a checkpoint without normalisation statistics or config is rejected by name', () => {
    const path = join(dir, 'weights-only.safetensors');
    saveCheckpoint(path, { modules: trained.vae.modules() }, { 'o2o.world_model.format': 'vae-native/1' });
    assert.throws(() => NativeVaeWorldModel.load(path), /o2o.world_model.config/);
    const wm = new NativeVaeWorldModel(trained.vae, trained.normalizer);
    const full = join(dir, 'full.safetensors');
    wm.save(full);
    const { tensors, metadata } = readSafetensors(full);
    tensors.delete('normalizer.state_std');
    const stripped = join(dir, 'no-std.safetensors');
    writeSafetensors(stripped, [...tensors], metadata);
    assert.throws(() => NativeVaeWorldModel.load(stripped), /tensor 'normalizer.state_std' is missing/);
    saveCheckpoint(join(dir, 'other.safetensors'), { modules: trained.vae.modules() });
    assert.throws(
      () => NativeVaeWorldModel.load(join(dir, 'other.safetensors')),
      /not a vae-native\/1 world model/,
    );
  });

  it('rejects wrong lengths, non-finite inputs and bad counts with what and where', async () => {
    const wm = new NativeVaeWorldModel(trained.vae, trained.normalizer);
    const out = new Float32Array(count * 4);
    await assert.rejects(
      wm.predictNextStates(states.subarray(4), actions, count, out),
      /states has 76 values, expected count·dim = 20·4 = 80/,
    );
    await assert.rejects(wm.predictNextStates(states, actions, count, out.subarray(1)), /out has 79 values/);
    await assert.rejects(wm.predictNextStates(states, actions, 0, out), /count must be a positive integer/);
    const nan = actions.slice();
    nan[2 * 3 + 1] = Number.NaN;
    await assert.rejects(wm.predictNextStates(states, nan, count, out), /actions\[row 3, col 1\] is NaN/);
    const inf = states.slice();
    inf[4 * 5] = Number.POSITIVE_INFINITY;
    await assert.rejects(
      wm.predictNextStates(inf, actions, count, out),
      /states\[row 5, col 0\] is Infinity/,
    );
  });

  it('records the env and options it was trained for; a file without them says nothing', () => {
    const wm = new NativeVaeWorldModel(trained.vae, trained.normalizer);
    const options = join(dir, 'options.safetensors');
    wm.save(
      options,
      trainedForMetadata('Ant-v5', { includeCfrcExtInObservation: false, contactCostWeight: 0 }),
    );
    const loaded = NativeVaeWorldModel.load(options).info.trainedFor;
    assert.deepEqual(loaded, {
      envId: 'Ant-v5',
      envOptions: { contactCostWeight: 0, includeCfrcExtInObservation: false },
    });
    // Options are compared whatever their keys' order; another env or other options are refused by name.
    checkTrainedFor(loaded, 'Ant-v5', { includeCfrcExtInObservation: false, contactCostWeight: 0 }, 'w');
    assert.throws(
      () => checkTrainedFor(loaded, 'Hopper-v5', undefined, 'inputs.world_model'),
      /^Error: inputs\.world_model: the world model was trained for Ant-v5, the run is on Hopper-v5$/,
    );
    assert.throws(
      () => checkTrainedFor(loaded, 'Ant-v5', undefined, 'w'),
      /trained on rows of Ant-v5 \(contactCostWeight=0, includeCfrcExtInObservation=false\), the run is on Ant-v5$/,
    );
    // The defaults are recorded as such: {} is the defaults, and a run on options is refused.
    const defaults = join(dir, 'defaults.safetensors');
    wm.save(defaults, trainedForMetadata('Ant-v5', undefined));
    const onDefaults = NativeVaeWorldModel.load(defaults).info.trainedFor;
    assert.deepEqual(onDefaults, { envId: 'Ant-v5', envOptions: {} });
    checkTrainedFor(onDefaults, 'Ant-v5', {}, 'w');
    assert.throws(
      () => checkTrainedFor(onDefaults, 'Ant-v5', { contactCostWeight: 0 }, 'w'),
      /rows of Ant-v5, the run/,
    );
    // An env id alone (as the service recorded before options were): the env is checked, not the options.
    const idOnly = join(dir, 'id-only.safetensors');
    wm.save(idOnly, { [WM_ENV_ID_KEY]: 'Ant-v5' });
    const byId = NativeVaeWorldModel.load(idOnly).info.trainedFor;
    assert.deepEqual(byId, { envId: 'Ant-v5' });
    checkTrainedFor(byId, 'Ant-v5', { contactCostWeight: 0 }, 'w');
    assert.throws(() => checkTrainedFor(byId, 'Walker2d-v5', undefined, 'w'), /trained for Ant-v5/);
    // Nothing recorded: nothing to check.
    const bare = join(dir, 'bare.safetensors');
    wm.save(bare);
    assert.equal(NativeVaeWorldModel.load(bare).info.trainedFor, undefined);
    checkTrainedFor(undefined, 'Hopper-v5', undefined, 'w');
    // Malformed options are refused when the file is loaded, naming it and the key.
    const bad = join(dir, 'bad.safetensors');
    wm.save(bad, { [WM_ENV_ID_KEY]: 'Ant-v5', [WM_ENV_OPTIONS_KEY]: '[1]' });
    assert.throws(
      () => NativeVaeWorldModel.load(bad),
      (e: Error) => e.message.startsWith(`${bad}: metadata '${WM_ENV_OPTIONS_KEY}' must be a JSON object`),
    );
  });
});
