// Simulation benchmark: how close env stepping comes to the raw MuJoCo physics rate.
//
// For every environment, the same work is timed two ways, alternating over several rounds (the machine
// is shared, so only side-by-side ratios mean much; each rate is the best round):
//   env:  env.step(action) through the public API (validation, ctrl, frameSkip × mj_step,
//         mj_rnePostConstraint, observation, reward, info, resets);
//   raw:  the identical physics alone: a bare MjData driven with the same ctrl sequence, replaying the
//         env's episode starts (recorded in an untimed pre-pass), timing only the mj_step calls.
// Raw rates are reported as mj_step/s ÷ frameSkip, i.e. in env steps per second. Because MuJoCo is
// deterministic, the raw replay follows the env's trajectory exactly; the final states are compared
// to prove both loops did the same physics. The same is done for a VectorEnv of 8 (per-env steps/s).
//
// usage: npm run bench:sim -- [--quick] [--json]
//   --quick  fewer steps and rounds (under a minute in total)
//   --json   print one JSON object instead of the table
//   The full mode also runs 1M env steps and reports wasm heap and process RSS before and after.
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readModelXml } from '../lib/envs/assets.ts';
import { compileModel, type MjData, type MjModel, mujoco, wasmHeapBytes } from '../lib/envs/mujoco.ts';
import type { MujocoEnv } from '../lib/envs/mujoco-env.ts';
import { ENV_IDS, type EnvId, makeEnv } from '../lib/envs/registry.ts';
import { deriveSeed, Rng } from '../lib/envs/rng.ts';
import { VectorEnv } from '../lib/envs/vector.ts';

const ASSET_OF: Record<EnvId, Parameters<typeof readModelXml>[0]> = {
  'Hopper-v5': 'hopper',
  'Walker2d-v5': 'walker2d',
  'HalfCheetah-v5': 'half_cheetah',
  'Ant-v5': 'ant',
  'InvertedPendulum-v5': 'inverted_pendulum',
  'InvertedDoublePendulum-v5': 'inverted_double_pendulum',
};

const SEED = 0;
const VECTOR_ENVS = 8;

interface Settings {
  quick: boolean;
  steps: number;
  vectorSteps: number;
  rounds: number;
  seed: number;
  vectorEnvs: number;
  memorySteps: number;
  memoryEnv: EnvId;
}

/** Where each sub-env's episodes start: the step index and the state the env reset to. */
interface Recording {
  starts: { step: number; qpos: Float64Array; qvel: Float64Array }[][];
}

interface Comparison {
  envStepsPerSec: number;
  rawStepsPerSec: number;
  ratio: number;
  trajectoryMatch: boolean;
}

/** Uniform random actions inside the action space, for `steps` steps of `n` envs. */
function randomActions(id: EnvId, steps: number, n: number, seed: number): Float64Array {
  const env = makeEnv(id);
  const { low, high } = env.actionSpace;
  env.close();
  const rng = new Rng(deriveSeed(seed, 1_000_003));
  const out = new Float64Array(steps * n * low.length);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(low[i % low.length]!, high[i % low.length]!);
  return out;
}

/** Untimed pre-pass: runs sub-env i as a single env seeded deriveSeed(seed, i), noting episode starts. */
function record(id: EnvId, steps: number, n: number, actions: Float64Array, seed: number): Recording {
  const env = makeEnv(id);
  const starts: Recording['starts'] = [];
  const act = new Float64Array(env.actDim);
  for (let i = 0; i < n; i++) {
    const mine: Recording['starts'][number] = [];
    env.reset({ seed: deriveSeed(seed, i) });
    mine.push({ step: 0, ...splitState(env) });
    for (let t = 0; t < steps; t++) {
      copyAction(actions, (t * n + i) * env.actDim, act);
      const r = env.step(act);
      if (r.terminated || r.truncated) {
        env.reset();
        mine.push({ step: t + 1, ...splitState(env) });
      }
    }
    starts.push(mine);
  }
  env.close();
  return { starts };
}

function splitState(env: MujocoEnv): { qpos: Float64Array; qvel: Float64Array } {
  const s = env.stateVector();
  return { qpos: s.slice(0, env.model.nq), qvel: s.slice(env.model.nq) };
}

function copyAction(src: Float64Array, at: number, dst: Float64Array): void {
  for (let k = 0; k < dst.length; k++) dst[k] = src[at + k]!;
}

/** env.step over the recorded workload (sub-env 0); returns seconds and the final state. */
function timeEnv(
  id: EnvId,
  steps: number,
  actions: Float64Array,
  seed: number,
): { seconds: number; final: Float64Array } {
  const env = makeEnv(id);
  const act = new Float64Array(env.actDim);
  env.reset({ seed: deriveSeed(seed, 0) });
  const t0 = process.hrtime.bigint();
  for (let t = 0; t < steps; t++) {
    copyAction(actions, t * env.actDim, act);
    const r = env.step(act);
    if (r.terminated || r.truncated) env.reset();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const final = env.stateVector();
  env.close();
  return { seconds, final };
}

function timeVector(
  id: EnvId,
  steps: number,
  actions: Float64Array,
  seed: number,
): { seconds: number; final: Float64Array } {
  const venv = new VectorEnv(id, { numEnvs: VECTOR_ENVS });
  const stride = VECTOR_ENVS * venv.actDim;
  const packed = new Float64Array(stride);
  venv.reset({ seed });
  const t0 = process.hrtime.bigint();
  for (let t = 0; t < steps; t++) {
    copyAction(actions, t * stride, packed);
    venv.step(packed);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const final = Float64Array.from(
    Array.from({ length: VECTOR_ENVS }, (_, i) => Array.from(venv.env(i).stateVector())).flat(),
  );
  venv.close();
  return { seconds, final };
}

/**
 * The raw physics of the same workload: n bare MjData stepped in lockstep with the same ctrl, reset to
 * the recorded states where the env reset (the reset itself is not timed). Returns mj_step seconds.
 */
function timeRaw(
  id: EnvId,
  steps: number,
  n: number,
  actions: Float64Array,
  recording: Recording,
): { seconds: number; final: Float64Array } {
  const model: MjModel = compileModel(readModelXml(ASSET_OF[id]), ASSET_OF[id]);
  const datas: MjData[] = Array.from({ length: n }, () => new mujoco.MjData(model));
  const frameSkip = makeFrameSkip(id);
  const nu = model.nu;
  const nextStart = new Array<number>(n).fill(0);
  // Cached like the env's views, so that the raw loop does not pay for a view per access either.
  const ctrls = datas.map((d) => d.ctrl as Float64Array);
  let resetNs = 0n;
  const t0 = process.hrtime.bigint();
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i++) {
      const d = datas[i]!;
      const starts = recording.starts[i]!;
      const s = starts[nextStart[i]!];
      if (s !== undefined && s.step === t) {
        const r0 = process.hrtime.bigint();
        restore(model, d, s);
        nextStart[i]!++;
        resetNs += process.hrtime.bigint() - r0;
      }
      if (ctrls[i]!.length === 0) ctrls[i] = d.ctrl as Float64Array;
      const ctrl = ctrls[i]!;
      const at = (t * n + i) * nu;
      // The actions lie inside ctrlrange already, so no clipping is needed here.
      for (let k = 0; k < nu; k++) ctrl[k] = actions[at + k]!;
      for (let k = 0; k < frameSkip; k++) mujoco.mj_step(model, d);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0 - resetNs) / 1e9;
  // Episodes that ended on the last step were reset by the env too; do the same before comparing.
  for (let i = 0; i < n; i++) {
    const s = recording.starts[i]![nextStart[i]!];
    if (s !== undefined) restore(model, datas[i]!, s);
  }
  const final = Float64Array.from(
    datas.flatMap((d) => [...(d.qpos as Float64Array), ...(d.qvel as Float64Array)]),
  );
  for (const d of datas) d.delete();
  model.delete();
  return { seconds, final };
}

/** The env's reset sequence, with the recorded noise: mj_resetData, set qpos/qvel, mj_forward. */
function restore(model: MjModel, d: MjData, state: { qpos: Float64Array; qvel: Float64Array }): void {
  mujoco.mj_resetData(model, d);
  (d.qpos as Float64Array).set(state.qpos);
  (d.qvel as Float64Array).set(state.qvel);
  mujoco.mj_forward(model, d);
}

const frameSkipCache = new Map<EnvId, number>();
function makeFrameSkip(id: EnvId): number {
  let fs = frameSkipCache.get(id);
  if (fs === undefined) {
    const env = makeEnv(id);
    fs = env.frameSkip;
    env.close();
    frameSkipCache.set(id, fs);
  }
  return fs;
}

function sameState(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

function compare(id: EnvId, s: Settings, vector: boolean): Comparison {
  const n = vector ? s.vectorEnvs : 1;
  const steps = vector ? s.vectorSteps : s.steps;
  const actions = randomActions(id, steps, n, s.seed);
  const recording = record(id, steps, n, actions, s.seed);
  let bestEnv = Number.POSITIVE_INFINITY;
  let bestRaw = Number.POSITIVE_INFINITY;
  let match = true;
  for (let round = 0; round < s.rounds; round++) {
    const e = vector ? timeVector(id, steps, actions, s.seed) : timeEnv(id, steps, actions, s.seed);
    const r = timeRaw(id, steps, n, actions, recording);
    bestEnv = Math.min(bestEnv, e.seconds);
    bestRaw = Math.min(bestRaw, r.seconds);
    match &&= sameState(e.final, r.final);
  }
  const envStepsPerSec = (steps * n) / bestEnv;
  const rawStepsPerSec = (steps * n) / bestRaw;
  return { envStepsPerSec, rawStepsPerSec, ratio: envStepsPerSec / rawStepsPerSec, trajectoryMatch: match };
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
}

function memoryRun(s: Settings) {
  const env = makeEnv(s.memoryEnv);
  const rng = new Rng(deriveSeed(s.seed, 7));
  const act = new Float64Array(env.actDim);
  env.reset({ seed: s.seed });
  // Warm up first so that JIT and allocator high-water marks are in the "before" numbers.
  const warmup = Math.min(20_000, s.memorySteps);
  const run = (count: number) => {
    for (let t = 0; t < count; t++) {
      for (let k = 0; k < act.length; k++) act[k] = rng.uniform(-1, 1);
      const r = env.step(act);
      if (r.terminated || r.truncated) env.reset();
    }
  };
  run(warmup);
  collectGarbage();
  const before = { wasmHeapBytes: wasmHeapBytes(env.data), rssBytes: process.memoryUsage().rss };
  const t0 = process.hrtime.bigint();
  run(s.memorySteps);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  collectGarbage();
  const after = { wasmHeapBytes: wasmHeapBytes(env.data), rssBytes: process.memoryUsage().rss };
  env.close();
  return {
    env: s.memoryEnv,
    steps: s.memorySteps,
    seconds,
    before,
    after,
    wasmHeapGrowthBytes: after.wasmHeapBytes - before.wasmHeapBytes,
    rssGrowthBytes: after.rssBytes - before.rssBytes,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const quick = values.quick === true;
  const settings: Settings = {
    quick,
    steps: quick ? 1500 : 20_000,
    vectorSteps: quick ? 300 : 4000,
    rounds: quick ? 2 : 3,
    seed: SEED,
    vectorEnvs: VECTOR_ENVS,
    memorySteps: quick ? 0 : 1_000_000,
    memoryEnv: 'Hopper-v5',
  };
  const started = process.hrtime.bigint();
  const envs = ENV_IDS.map((id) => {
    const single = compare(id, settings, false);
    const vector = compare(id, settings, true);
    return { id, frameSkip: makeFrameSkip(id), single, vector };
  });
  const memory = settings.memorySteps > 0 ? memoryRun(settings) : null;
  const report = {
    benchmark: 'sim',
    node: process.version,
    mujoco: mujoco.mj_versionString(),
    platform: `${process.platform}-${process.arch}`,
    settings,
    rateIs: 'env steps per second (raw = mj_step calls per second / frameSkip); best of rounds',
    envs,
    memory,
    totalSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  if (values.json === true) {
    console.log(JSON.stringify(report));
    return;
  }
  const rows = envs.map((e) => [
    e.id,
    String(e.frameSkip),
    e.single.rawStepsPerSec.toFixed(0),
    e.single.envStepsPerSec.toFixed(0),
    `${(100 * e.single.ratio).toFixed(1)}%`,
    e.vector.rawStepsPerSec.toFixed(0),
    e.vector.envStepsPerSec.toFixed(0),
    `${(100 * e.vector.ratio).toFixed(1)}%`,
    e.single.trajectoryMatch && e.vector.trajectoryMatch ? 'yes' : 'NO',
  ]);
  const header = [
    'env',
    'skip',
    'raw/s',
    'env/s',
    'env/raw',
    `raw/s x${VECTOR_ENVS}`,
    'vec/s',
    'vec/raw',
    'same',
  ];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  console.log(
    `node ${report.node}, MuJoCo ${report.mujoco}, ${settings.steps} steps (vector: ${settings.vectorSteps}×${VECTOR_ENVS}), best of ${settings.rounds}`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(
    'rates in env steps/s per environment; raw = bare mj_step on the identical trajectory ÷ frameSkip',
  );
  if (memory !== null) {
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      `memory (${memory.steps} ${memory.env} steps in ${memory.seconds.toFixed(1)} s): wasm heap ${mb(memory.before.wasmHeapBytes)} -> ${mb(memory.after.wasmHeapBytes)} MiB, ` +
        `RSS ${mb(memory.before.rssBytes)} -> ${mb(memory.after.rssBytes)} MiB`,
    );
  }
  console.log(`total ${report.totalSeconds.toFixed(1)} s`);
}

main();
