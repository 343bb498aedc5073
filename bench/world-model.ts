// The VAE world model at the paper's sizes (Hopper dims 11/3, 500-wide encoder/decoder, 300-600-300
// transition, latent 12): training updates/s at batch 4096 (Adam, all four loss terms), and prediction
// throughput through the WorldModel interface (raw states, normalisation, validation included) at
// batch 1, 32, 256, 4096, deterministic and stochastic, on the native GEMM, the TypeScript fallback and
// ONNX Runtime (onnxruntime-node if installed, else onnxruntime-web) side by side; and what saving the
// training state costs (lib/world-model/resumable-training.ts saves it every TRAINING_STATE_EVERY_EPOCHS
// epochs), as a share of the epochs between two saves on a 10k dataset.
//
// usage: npm run bench:wm -- [--quick] [--json]
//   --quick  shorter rounds, TS fallback skipped at batch 4096 (under a minute);  --json  one JSON object

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, gemmBackend, Matrix, NnRng, nativeAvailable, setGemmBackend } from '../lib/nn/index.ts';
import { NativeVaeWorldModel } from '../lib/world-model/native-vae-world-model.ts';
import { StateNormalizer } from '../lib/world-model/normalizer.ts';
import { OnnxVaeWorldModel } from '../lib/world-model/onnx-runtime-world-model.ts';
import { TRAINING_STATE_EVERY_EPOCHS } from '../lib/world-model/resumable-training.ts';
import { WorldModelTrainer } from '../lib/world-model/train.ts';
import type { WorldModel } from '../lib/world-model/types.ts';
import { Vae } from '../lib/world-model/vae.ts';

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== '--quick' && a !== '--json') {
    console.error(`bench/world-model: unknown argument '${a}' (expected --quick, --json)`);
    process.exit(2);
  }
}
const quick = args.has('--quick');
const json = args.has('--json');
const OBS = 11;
const ACT = 3;
const TRAIN_BATCH = 4096;
const PREDICT_BATCHES = [1, 32, 256, 4096];
const timeBudgetMs = quick ? 250 : 1000;
const trainUpdates = quick ? 3 : 10;
/** Paper: 300 epochs over ~9k usable transitions of a 10k dataset at batch 4096 = 3 minibatches. */
const PAPER_UPDATES = 300 * 3;

const rng = new NnRng(1);
const randn = (n: number, std = 1) => rng.fillNormal(new Float32Array(n), 0, std);

function log(msg: string): void {
  if (!json) console.log(msg);
}

function benchTraining() {
  const vae = new Vae({ obsDim: OBS, actDim: ACT }, 0);
  const opt = new Adam(vae.params(), { lr: 1e-4 });
  const batch = {
    states: new Matrix(TRAIN_BATCH, OBS, randn(TRAIN_BATCH * OBS)),
    actions: new Matrix(TRAIN_BATCH, ACT, randn(TRAIN_BATCH * ACT, 0.5)),
    nextStates: new Matrix(TRAIN_BATCH, OBS, randn(TRAIN_BATCH * OBS)),
  };
  const update = () => {
    vae.zeroGrad();
    const loss = vae.lossAndGrad(batch, 3);
    opt.step();
    return loss.total;
  };
  update(); // allocates the per-batch-size buffers
  const t0 = performance.now();
  let last = 0;
  for (let i = 0; i < trainUpdates; i++) last = update();
  const sec = (performance.now() - t0) / 1000;
  if (!Number.isFinite(last)) throw new Error(`bench: training loss is ${last}`);
  const updatesPerSec = trainUpdates / sec;
  return {
    batch: TRAIN_BATCH,
    updates: trainUpdates,
    updatesPerSec,
    msPerUpdate: 1000 / updatesPerSec,
    paperRunUpdates: PAPER_UPDATES,
    paperRunMinutes: PAPER_UPDATES / updatesPerSec / 60,
  };
}

/**
 * One epoch of WorldModelTrainer on 10k random transitions (the paper's subset size: 3 minibatches), then
 * its state saved and restored a few times: the save's share of TRAINING_STATE_EVERY_EPOCHS epochs.
 */
function benchTrainingState() {
  const rows = 10_000;
  const data = {
    obsDim: OBS,
    actDim: ACT,
    observations: randn(rows * OBS),
    actions: randn(rows * ACT, 0.5),
    nextObservations: randn(rows * OBS),
  };
  const dir = mkdtempSync(join(tmpdir(), 'o2o-bench-wm-state-'));
  try {
    const trainer = new WorldModelTrainer(data, { seed: 0, epochs: 300 });
    let t0 = performance.now();
    trainer.runEpoch();
    const epochMs = performance.now() - t0;
    const file = join(dir, 'training.safetensors');
    const rounds = quick ? 2 : 5;
    trainer.save(file); // the first save also hashes the data (once per trainer)
    t0 = performance.now();
    for (let i = 0; i < rounds; i++) trainer.save(file);
    const saveMs = (performance.now() - t0) / rounds;
    t0 = performance.now();
    for (let i = 0; i < rounds; i++) new WorldModelTrainer(data, { seed: 0, epochs: 300 }).restore(file);
    const restoreMs = (performance.now() - t0) / rounds;
    return {
      rows,
      epochMs,
      saveMs,
      restoreMs,
      fileBytes: statSync(file).size,
      everyEpochs: TRAINING_STATE_EVERY_EPOCHS,
      saveShareOfInterval: saveMs / (TRAINING_STATE_EVERY_EPOCHS * epochMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where predictions run: lib/nn on the native GEMM or the TypeScript fallback, or ONNX Runtime. */
type PredictBackend = 'native' | 'ts' | 'onnx';

interface PredictRow {
  backend: PredictBackend;
  batch: number;
  mode: 'deterministic' | 'stochastic';
  statesPerSec: number;
  calls: number;
}

/** The same model (weights, normaliser) for every backend. */
function makeNativeModel(): NativeVaeWorldModel {
  const modelRng = new NnRng(2);
  const vae = new Vae({ obsDim: OBS, actDim: ACT }, 0);
  const normalizer = new StateNormalizer(
    modelRng.fillNormal(new Float32Array(OBS)),
    Float32Array.from(modelRng.fillNormal(new Float32Array(OBS)), (v) => 1 + Math.abs(v)),
  );
  return new NativeVaeWorldModel(vae, normalizer, 3);
}

/** The model on ONNX Runtime (the first installed: onnxruntime-node, else onnxruntime-web), via its file. */
async function makeOnnxModel(): Promise<OnnxVaeWorldModel> {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-bench-wm-onnx-'));
  try {
    const file = join(dir, 'world-model.safetensors');
    makeNativeModel().save(file);
    return await OnnxVaeWorldModel.fromSafetensors(file, { seed: 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPrediction(backend: PredictBackend, wm: WorldModel): Promise<PredictRow[]> {
  const rows: PredictRow[] = [];
  for (const batch of PREDICT_BATCHES) {
    if (backend === 'ts' && quick && batch === 4096) continue;
    const states = randn(batch * OBS);
    const actions = randn(batch * ACT, 0.5);
    const out = new Float32Array(batch * OBS);
    for (const mode of ['deterministic', 'stochastic'] as const) {
      const opts = { deterministic: mode === 'deterministic' };
      await wm.predictNextStates(states, actions, batch, out, opts);
      let calls = 0;
      const t0 = performance.now();
      while (calls === 0 || performance.now() - t0 < timeBudgetMs) {
        await wm.predictNextStates(states, actions, batch, out, opts);
        calls++;
      }
      const sec = (performance.now() - t0) / 1000;
      rows.push({ backend, batch, mode, statesPerSec: (calls * batch) / sec, calls });
    }
  }
  return rows;
}

const backendAtStart = gemmBackend();
log(`world model bench (${quick ? 'quick' : 'full'}): Hopper dims ${OBS}/${ACT}, paper architecture`);
log(`gemm backend: ${JSON.stringify(backendAtStart)}`);
if (!nativeAvailable()) log('native GEMM unavailable: only the TypeScript fallback is measured');

const backends: ('native' | 'ts')[] = nativeAvailable() ? ['native', 'ts'] : ['ts'];
setGemmBackend(backends[0]!);
const training = benchTraining();
log(
  `\ntraining (${backends[0]}), batch ${training.batch}: ${training.updatesPerSec.toFixed(2)} updates/s ` +
    `(${training.msPerUpdate.toFixed(0)} ms/update); the paper's ${PAPER_UPDATES} updates ≈ ${training.paperRunMinutes.toFixed(1)} min`,
);

const trainingState = benchTrainingState();
log(
  `training state (${trainingState.rows} rows): epoch ${trainingState.epochMs.toFixed(0)} ms, save ` +
    `${trainingState.saveMs.toFixed(0)} ms (${(trainingState.fileBytes / 2 ** 20).toFixed(1)} MiB), restore ` +
    `${trainingState.restoreMs.toFixed(0)} ms (incl. a new trainer); a save every ${trainingState.everyEpochs} epochs ` +
    `costs ${(100 * trainingState.saveShareOfInterval).toFixed(1)}% of their time`,
);

const prediction: PredictRow[] = [];
for (const b of backends) {
  setGemmBackend(b);
  prediction.push(...(await benchPrediction(b, makeNativeModel())));
}
setGemmBackend(backends[0]!);
const onnx = await makeOnnxModel();
const onnxRuntime = onnx.runtime;
prediction.push(...(await benchPrediction('onnx', onnx)));
onnx.dispose();
const columns: PredictBackend[] = [...backends, 'onnx'];

const ratios = prediction
  .filter((r) => r.backend === 'native')
  .map((r) => {
    const other = (backend: PredictBackend) => {
      const q = prediction.find((x) => x.backend === backend && x.batch === r.batch && x.mode === r.mode);
      return q === undefined ? null : r.statesPerSec / q.statesPerSec;
    };
    return { batch: r.batch, mode: r.mode, nativeOverTs: other('ts'), nativeOverOnnx: other('onnx') };
  });

if (json) {
  console.log(
    JSON.stringify({
      bench: 'world-model',
      quick,
      obsDim: OBS,
      actDim: ACT,
      training,
      trainingState,
      onnxRuntime,
      prediction,
      ratios,
    }),
  );
} else {
  log(`\nprediction through WorldModel.predictNextStates (states/s; onnx: ${onnxRuntime}):`);
  log(
    `${'batch'.padStart(6)}  ${'mode'.padEnd(13)}  ${columns.map((b) => b.padStart(12)).join('  ')}  native/ts  native/onnx`,
  );
  const times = (ratio: number | null | undefined) => (ratio == null ? '—' : `${ratio.toFixed(1)}×`);
  for (const batch of PREDICT_BATCHES) {
    for (const mode of ['deterministic', 'stochastic'] as const) {
      const cells = columns.map((b) => {
        const r = prediction.find((q) => q.backend === b && q.batch === batch && q.mode === mode);
        return (r === undefined ? '—' : r.statesPerSec.toFixed(0)).padStart(12);
      });
      const ratio = ratios.find((q) => q.batch === batch && q.mode === mode);
      log(
        `${String(batch).padStart(6)}  ${mode.padEnd(13)}  ${cells.join('  ')}  ${times(ratio?.nativeOverTs).padStart(9)}  ${times(ratio?.nativeOverOnnx).padStart(11)}`,
      );
    }
  }
}
