// The world-model service's training, cut off the way a shutdown cuts it (its worker thread terminated),
// continues from the last saved training state when asked again, and ends with the same model as a
// training that was never cut off.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../lib/nn/safetensors.ts';
import { TRAINING_STATE_EVERY_EPOCHS } from '../../lib/world-model/resumable-training.ts';
import { trainInWorker } from '../../services/world-model/train-thread.ts';
import { trainAndSave, trainingStateFileFor } from '../../services/world-model/training.ts';
import { makeRunRoot, type RunRootFixture, SMALL_MODEL } from './world-model-fixtures.ts';

// Many cheap epochs: the worker runs on while the terminate lands, and must not finish first.
const EPOCHS = 40 * TRAINING_STATE_EVERY_EPOCHS + 3;

function tensors(file: string): Record<string, number[]> {
  return Object.fromEntries(
    [...readSafetensors(file).tensors].map(([name, t]) => [name, Array.from(t.data)]),
  );
}

describe('world-model service: a cut-off training resumes', function () {
  this.timeout(120_000);
  let fx: RunRootFixture;
  const spec = (out: string) => ({
    datasetPath: join(fx.root, fx.dataset),
    envId: 'InvertedPendulum-v5',
    epochs: EPOCHS,
    seed: 9,
    outputPath: join(fx.root, out),
    batchSize: 128,
    model: SMALL_MODEL,
  });
  before(async () => {
    fx = await makeRunRoot('o2o-wm-resume-');
  });
  after(() => rmSync(fx.root, { recursive: true, force: true }));

  it('terminated after its first saved state, then asked again: resumes there, same model', async () => {
    const reference = await trainAndSave(spec('reference'));
    assert.equal(reference.resumedFromEpoch, 0);
    assert.ok(!existsSync(trainingStateFileFor(reference.modelPath)), 'no state left once saved');

    const cut = new AbortController();
    const interrupted = trainInWorker(
      spec('cut'),
      (p) => {
        if (p.epoch === TRAINING_STATE_EVERY_EPOCHS + 1) cut.abort(new Error('shutting down'));
      },
      cut.signal,
    );
    await assert.rejects(interrupted, /shutting down/);
    const modelPath = join(fx.root, 'cut', 'world-model.safetensors');
    // The worker may have saved further states before the terminate landed.
    assert.ok(existsSync(trainingStateFileFor(modelPath)), 'the training state survives the cut');
    assert.ok(!existsSync(modelPath));

    const lines: string[] = [];
    const resumed = await trainAndSave({ ...spec('cut'), log: (l) => lines.push(l) });
    const from = resumed.resumedFromEpoch;
    assert.ok(
      from >= TRAINING_STATE_EVERY_EPOCHS && from % TRAINING_STATE_EVERY_EPOCHS === 0,
      `from ${from}`,
    );
    assert.match(lines.join('\n'), new RegExp(`resuming at epoch ${resumed.resumedFromEpoch}/${EPOCHS}`));
    assert.deepEqual(tensors(resumed.modelPath), tensors(reference.modelPath));
    assert.equal(resumed.heldoutMse, reference.heldoutMse);
    const report = JSON.parse(readFileSync(resumed.reportPath, 'utf8'));
    assert.equal(report.resumedFromEpoch, resumed.resumedFromEpoch);
    assert.ok(!existsSync(trainingStateFileFor(modelPath)));
  });
});
