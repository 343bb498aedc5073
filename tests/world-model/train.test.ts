// Training loop: which rows are used, the seeded split, determinism, progress and early stopping, and
// input validation. Synthetic linear dynamics keep it fast; learning on real Hopper data is in learning.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransitionData } from '../../lib/world-model/data.ts';
import { splitRows, usableRows } from '../../lib/world-model/data.ts';
import { StateNormalizer } from '../../lib/world-model/normalizer.ts';
import {
  type EpochProgress,
  trainWorldModel,
  WorldModelTrainer,
  type WorldModelTrainOptions,
  type WorldModelTrainResult,
} from '../../lib/world-model/train.ts';
import { syntheticTransitions } from './synthetic.ts';

const SMALL = { encoderHidden: [16], decoderHidden: [16], transitionHidden: [16], latentDim: 4 };

describe('world model training: data selection and split', () => {
  it('leaves out terminal, time-out and masked-out transitions', () => {
    const d = syntheticTransitions(200, 1);
    const mask = new Uint8Array(200).fill(1);
    mask[0] = 0;
    const rows = Array.from(usableRows({ ...d, mask }));
    for (let r = 0; r < 200; r++) {
      const expected = r !== 0 && d.terminals![r] === 0 && d.timeouts![r] === 0;
      assert.equal(rows.includes(r), expected, `row ${r}`);
    }
    assert.equal(rows.length, 200 - 1 - 5 - 4);
  });

  it('splits reproducibly and disjointly, holding out round(10%)', () => {
    const rows = Int32Array.from({ length: 95 }, (_, i) => i * 2);
    const a = splitRows(rows, 0.1, 5);
    const b = splitRows(rows, 0.1, 5);
    const c = splitRows(rows, 0.1, 6);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.heldOut, c.heldOut);
    assert.equal(a.heldOut.length, 10);
    assert.equal(a.train.length, 85);
    const all = new Set([...a.train, ...a.heldOut]);
    assert.equal(all.size, 95);
    for (const r of rows) assert.ok(all.has(r));
    assert.throws(() => splitRows(rows, 1, 0), /heldOutFraction must be in \[0, 1\)/);
  });

  it('normaliser: population mean and std of the chosen rows, round trip', () => {
    const data = Float32Array.from([1, 10, 3, 10, 100, -5]);
    const n = StateNormalizer.fit(data, 2, [0, 1]);
    assert.deepEqual(Array.from(n.mean), [2, 10]);
    assert.deepEqual(Array.from(n.std), [1, 0]);
    const z = n.normalize(Float32Array.from([3, 10]), new Float32Array(2));
    assert.ok(Math.abs(z[0]! - 1 / (1 + 1e-5)) < 1e-6);
    assert.equal(z[1], 0);
    const back = n.denormalize(z, new Float32Array(2));
    assert.ok(Math.abs(back[0]! - 3) < 1e-6 && back[1] === 10);
  });
});

describe('world model training: loop', () => {
  it('is seeded: same seed → bit-identical weights, another seed → different', () => {
    const d = syntheticTransitions(300, 2);
    const opts = { epochs: 3, batchSize: 64, evalEvery: 1, model: SMALL };
    const a = trainWorldModel(d, { ...opts, seed: 4 });
    const b = trainWorldModel(d, { ...opts, seed: 4 });
    const c = trainWorldModel(d, { ...opts, seed: 5 });
    assert.equal(a.updates, 3 * Math.ceil(a.split.train.length / 64));
    a.vae.params().forEach((p, i) => {
      assert.deepEqual(p.value, b.vae.params()[i]!.value, p.name);
    });
    assert.notDeepEqual(a.vae.params()[0]!.value, c.vae.params()[0]!.value);
    assert.deepEqual(a.normalizer.mean, b.normalizer.mean);
  });

  it('reports progress every epoch, held-out MSE every evalEvery epochs, and learns', () => {
    const d = syntheticTransitions(600, 3);
    const seen: EpochProgress[] = [];
    const r = trainWorldModel(d, {
      seed: 1,
      epochs: 30,
      batchSize: 128,
      lr: 3e-3,
      evalEvery: 10,
      model: SMALL,
      onProgress: (p) => seen.push(p),
    });
    assert.deepEqual(
      seen.map((p) => p.epoch),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      seen.filter((p) => p.heldOutMse !== undefined).map((p) => p.epoch),
      [10, 20, 30],
    );
    for (const p of seen) for (const v of Object.values(p.loss)) assert.ok(Number.isFinite(v));
    assert.ok(seen[29]!.loss.total < seen[0]!.loss.total, 'training loss decreases');
    const evals = seen.filter((p) => p.heldOutMse !== undefined).map((p) => p.heldOutMse!);
    assert.ok(evals[2]! < evals[0]!, `held-out MSE decreases: ${evals}`);
    assert.equal(r.bestHeldOutMse, Math.min(...evals));
  });

  it('stops after `patience` evaluations without improvement and restores the best weights', () => {
    const d = syntheticTransitions(300, 4);
    // A huge learning rate makes later evaluations worse than the first.
    const r = trainWorldModel(d, {
      seed: 2,
      epochs: 50,
      batchSize: 64,
      lr: 0.05,
      evalEvery: 1,
      patience: 3,
      model: SMALL,
    });
    const evals = r.history.filter((p) => p.heldOutMse !== undefined);
    const bestIdx = evals.findIndex((p) => p.epoch === r.bestEpoch);
    assert.ok(r.stoppedEarly, 'stopped early');
    assert.equal(evals.length - 1 - bestIdx, 3, 'exactly `patience` evaluations after the best');
    // The restored weights reproduce the best evaluation's held-out MSE.
    const again = trainWorldModel(d, {
      seed: 2,
      epochs: r.bestEpoch,
      batchSize: 64,
      lr: 0.05,
      evalEvery: 1,
      patience: Number.POSITIVE_INFINITY,
      restoreBest: false,
      model: SMALL,
    });
    r.vae.params().forEach((p, i) => {
      assert.deepEqual(p.value, again.vae.params()[i]!.value, p.name);
    });
  });

  it('rejects bad data and options with what and where', () => {
    const d = syntheticTransitions(100, 5);
    const bad = d.observations.slice();
    bad[4 * 7 + 2] = Number.NaN;
    assert.throws(
      () => trainWorldModel({ ...d, observations: bad }, { seed: 0 }),
      /observations\[row 7, col 2\] is NaN/,
    );
    assert.throws(
      () => trainWorldModel({ ...d, actions: d.actions.subarray(1) }, { seed: 0 }),
      /actions has 199 values, expected 200 \(100 rows\)/,
    );
    assert.throws(
      () => trainWorldModel({ ...d, terminals: new Uint8Array(3) }, { seed: 0 }),
      /terminals has 3 values, expected 100/,
    );
    assert.throws(() => trainWorldModel(d, { seed: 0, epochs: 0 }), /invalid epochs 0/);
    assert.throws(() => trainWorldModel(d, { seed: 0, lr: -1 }), /invalid lr -1/);
    assert.throws(
      () => trainWorldModel({ ...d, mask: new Uint8Array(100) }, { seed: 0 }),
      /only 0 usable transitions/,
    );
  });
});

describe('world model training: checkpoint and resume', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-wm-trainer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const weights = (r: WorldModelTrainResult) => r.vae.params().map((p) => Array.from(p.value));

  /** Runs `stopAfter` epochs, saves, resumes in a fresh trainer and finishes there. */
  function resumed(d: TransitionData, opts: WorldModelTrainOptions, stopAfter: number, file: string) {
    const first = new WorldModelTrainer(d, opts);
    for (let e = 0; e < stopAfter && !first.finished; e++) first.runEpoch();
    first.save(file, { note: 'kept' });
    const second = new WorldModelTrainer(d, opts);
    second.restore(file);
    assert.equal(second.epochsDone, first.epochsDone);
    while (!second.finished) second.runEpoch();
    return second.result();
  }

  it('a run resumed after any epoch ends bit-identical to one that never stopped', () => {
    const d = syntheticTransitions(400, 8);
    const opts = { seed: 6, epochs: 7, batchSize: 64, evalEvery: 2, model: SMALL };
    const whole = trainWorldModel(d, opts);
    for (const stopAfter of [0, 1, 4, 7]) {
      const r = resumed(d, opts, stopAfter, join(dir, `ckpt-${stopAfter}.safetensors`));
      assert.deepEqual(weights(r), weights(whole), `stopped after epoch ${stopAfter}`);
      assert.deepEqual(r.history, whole.history);
      assert.equal(r.bestEpoch, whole.bestEpoch);
      assert.equal(r.updates, whole.updates);
    }
  });

  it('keeps early stopping and the best weights across a resume', () => {
    const d = syntheticTransitions(400, 4);
    const opts = { seed: 2, epochs: 60, batchSize: 64, lr: 0.05, evalEvery: 1, patience: 3, model: SMALL };
    const whole = trainWorldModel(d, opts);
    assert.ok(whole.stoppedEarly, 'this setting stops early');
    // One epoch after the best: the best weights are only in the checkpoint's extra tensors.
    const r = resumed(d, opts, whole.bestEpoch + 1, join(dir, 'early.safetensors'));
    assert.deepEqual(weights(r), weights(whole));
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.bestHeldOutMse, whole.bestHeldOutMse);
  });

  it('refuses a checkpoint written for other options or data, saying so', () => {
    const d = syntheticTransitions(300, 9);
    const opts = { seed: 1, epochs: 3, batchSize: 64, model: SMALL };
    const file = join(dir, 'other.safetensors');
    const t = new WorldModelTrainer(d, opts);
    t.runEpoch();
    t.save(file);
    assert.throws(
      () => new WorldModelTrainer(d, { ...opts, lr: 1e-3 }).restore(file),
      /written for other data or options: lr \(checkpoint 0\.0001, here 0\.001\)$/,
    );
    assert.throws(
      () => new WorldModelTrainer(syntheticTransitions(301, 9), opts).restore(file),
      /written for other data or options/,
    );
    // Same shape, one value changed.
    const changed = d.nextObservations.slice();
    changed[5] = changed[5]! + 1;
    assert.throws(
      () => new WorldModelTrainer({ ...d, nextObservations: changed }, opts).restore(file),
      /written for other data or options: data \(checkpoint "[0-9a-f]{64}", here "[0-9a-f]{64}"\)$/,
    );
    const ran = new WorldModelTrainer(d, opts);
    ran.runEpoch();
    assert.throws(() => ran.restore(file), /has already run/);
    assert.throws(() => new WorldModelTrainer(d, opts).result(), /before training finished/);
  });
});
