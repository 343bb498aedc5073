// NN benchmark: updates/s of one TD3 update at Hopper dimensions (state 11, action 3, batch 256, hidden
// 256x256, twin critics, target networks, target policy smoothing, actor + Polyak every 2nd update),
// written three ways and timed side by side in one process (the machine is shared, so ratios matter):
//   native: lib/nn on the OpenBLAS addon;  ts: lib/nn on the TypeScript GEMM fallback;
//   tfjs-wasm: the same update in @tensorflow/tfjs on its wasm backend.
// All three start from identical weights, batch and smoothing noise; their first critic and actor
// losses are printed to show they compute the same update. Rates are the best of several rounds.
// OpenBLAS picks its kernels once per process, so when OPENBLAS_CORETYPE forces a kernel family the
// native variant is also timed in a child process with O2O_BLAS_CORETYPE=auto (OpenBLAS's own CPU
// detection), to show what the override costs.
//
// usage: npm run bench:nn -- [--quick] [--json]
//   --quick  shorter rounds (under a minute in total);  --json  one JSON object instead of the table
//   --native-only  (internal) time the native variant alone and print {description, updatesPerSec}

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { deriveSeed, Rng } from '../lib/envs/rng.ts';
import {
  gemmBackend,
  Matrix,
  NnRng,
  nativeAvailable,
  type Sequential,
  setGemmBackend,
} from '../lib/nn/index.ts';
import type { TransitionBatch } from '../lib/rl/replay-buffer.ts';
import { Td3Agent } from '../lib/rl/td3.ts';

const DIMS = { state: 11, action: 3, batch: 256, hidden: [256, 256] } as const;
const HP = {
  gamma: 0.99,
  tau: 0.005,
  policyNoise: 0.2,
  noiseClip: 0.5,
  maxAction: 1,
  policyFreq: 2,
  lr: 3e-4,
};
const SEED = 0;

interface Batch {
  state: Matrix;
  action: Matrix;
  reward: Matrix;
  nextState: Matrix;
  notDone: Matrix;
}

function randomBatch(rng: NnRng): Batch {
  const { state: S, action: A, batch: B } = DIMS;
  const m = (cols: number, f: () => number) => {
    const x = new Matrix(B, cols);
    for (let i = 0; i < x.data.length; i++) x.data[i] = f();
    return x;
  };
  return {
    state: m(S, () => rng.normal()),
    action: m(A, () => rng.range(-1, 1)),
    reward: m(1, () => rng.normal()),
    nextState: m(S, () => rng.normal()),
    notDone: m(1, () => (rng.uniform() < 0.05 ? 0 : 1)),
  };
}

/**
 * Clipped Gaussian target-policy-smoothing noise for the tfjs variant: the same stream and formula as
 * Td3Agent's (its noise generator is Rng(deriveSeed(seed, 1))), so both compute the same update.
 */
function smoothingNoise(rng: Rng, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.min(HP.noiseClip, Math.max(-HP.noiseClip, HP.policyNoise * rng.normal()));
  }
}

interface Losses {
  critic: number;
  actor: number;
}

interface Variant {
  update(): void;
  /** Losses of the update just run (may be expensive: only called once). */
  firstLosses(): Losses;
  dispose(): void;
}

/** The project's TD3 agent (lib/rl's Td3Agent, plain TD3: no BC term) updating on one fixed batch. */
class NnTd3 implements Variant {
  readonly agent: Td3Agent;
  private readonly batch: TransitionBatch;
  private lastCritic = Number.NaN;
  private lastActor = Number.NaN;

  constructor(b: Batch) {
    const { state: S, action: A, hidden, batch: B } = DIMS;
    this.agent = new Td3Agent({
      obsDim: S,
      actDim: A,
      maxAction: HP.maxAction,
      hidden: [...hidden],
      actorLr: HP.lr,
      criticLr: HP.lr,
      gamma: HP.gamma,
      tau: HP.tau,
      policyNoise: HP.policyNoise,
      noiseClip: HP.noiseClip,
      policyFreq: HP.policyFreq,
      seed: SEED,
    });
    this.batch = {
      size: B,
      obs: b.state.data,
      actions: b.action.data,
      rewards: b.reward.data,
      nextObs: b.nextState.data,
      terminated: b.notDone.data.map((x) => 1 - x),
    };
  }

  /** Exposed so the tfjs variant can start from the same weights. */
  networks() {
    return { actor: this.agent.actor, q1: this.agent.q1, q2: this.agent.q2 };
  }

  update(): void {
    const m = this.agent.update(this.batch);
    this.lastCritic = m.criticLoss;
    if (m.actorLoss !== undefined) this.lastActor = m.actorLoss;
  }

  firstLosses(): Losses {
    return { critic: this.lastCritic, actor: this.lastActor };
  }

  dispose(): void {}
}

/** Linear layers of a lib/nn MLP as tfjs variables (kernel [in, out], i.e. PyTorch's weight transposed). */
function tfDenseParams(net: Sequential): { w: tf.Variable; b: tf.Variable }[] {
  const ps = net.params();
  const out: { w: tf.Variable; b: tf.Variable }[] = [];
  for (let i = 0; i < ps.length; i += 2) {
    const w = ps[i]!;
    const b = ps[i + 1]!;
    const [o, n] = w.shape as [number, number];
    out.push({
      w: tf.variable(tf.tensor2d(w.value.slice(), [o, n]).transpose()),
      b: tf.variable(tf.tensor1d(b.value.slice())),
    });
  }
  return out;
}

function tfMlp(x: tf.Tensor2D, layers: { w: tf.Variable; b: tf.Variable }[]): tf.Tensor2D {
  let h = x;
  layers.forEach((l, i) => {
    h = tf.add(tf.matMul(h, l.w as tf.Tensor2D), l.b);
    if (i < layers.length - 1) h = tf.relu(h);
  });
  return h;
}

/** The same TD3 update in tfjs (wasm backend), from the same initial weights. */
class TfjsTd3 implements Variant {
  private readonly actor;
  private readonly q1;
  private readonly q2;
  private readonly actorT;
  private readonly q1T;
  private readonly q2T;
  private readonly actorOpt = tf.train.adam(HP.lr, 0.9, 0.999, 1e-8);
  private readonly criticOpt = tf.train.adam(HP.lr, 0.9, 0.999, 1e-8);
  private readonly noiseRng = new Rng(deriveSeed(SEED, 1));
  private readonly noise = new Float32Array(DIMS.batch * DIMS.action);
  private readonly b: Record<keyof Batch, tf.Tensor2D>;
  private iteration = 0;
  private lastCritic: tf.Scalar | undefined;
  private lastActor: tf.Scalar | undefined;

  constructor(batch: Batch, nets: { actor: Sequential; q1: Sequential; q2: Sequential }) {
    this.actor = tfDenseParams(nets.actor);
    this.q1 = tfDenseParams(nets.q1);
    this.q2 = tfDenseParams(nets.q2);
    this.actorT = tfDenseParams(nets.actor);
    this.q1T = tfDenseParams(nets.q1);
    this.q2T = tfDenseParams(nets.q2);
    const t = (m: Matrix) => tf.tensor2d(m.data, [m.rows, m.cols]);
    this.b = {
      state: t(batch.state),
      action: t(batch.action),
      reward: t(batch.reward),
      nextState: t(batch.nextState),
      notDone: t(batch.notDone),
    };
  }

  private pi(s: tf.Tensor2D, layers: { w: tf.Variable; b: tf.Variable }[]): tf.Tensor2D {
    return tf.mul(tf.tanh(tfMlp(s, layers)), HP.maxAction);
  }

  update(): void {
    this.iteration += 1;
    smoothingNoise(this.noiseRng, this.noise);
    const { state, action, reward, nextState, notDone } = this.b;
    const vars = (ls: { w: tf.Variable; b: tf.Variable }[]) => ls.flatMap((l) => [l.w, l.b]);
    this.lastCritic?.dispose();
    this.lastCritic = tf.tidy(() => {
      const noise = tf.tensor2d(this.noise, [DIMS.batch, DIMS.action]);
      const nextA = tf.clipByValue(
        tf.add(this.pi(nextState, this.actorT), noise),
        -HP.maxAction,
        HP.maxAction,
      );
      const nsa = tf.concat([nextState, nextA], 1) as tf.Tensor2D;
      const minQ = tf.minimum(tfMlp(nsa, this.q1T), tfMlp(nsa, this.q2T));
      const target = tf.add(reward, tf.mul(tf.mul(notDone, HP.gamma), minQ));
      const sa = tf.concat([state, action], 1) as tf.Tensor2D;
      return this.criticOpt.minimize(
        () =>
          tf.add(
            tf.losses.meanSquaredError(target, tfMlp(sa, this.q1)),
            tf.losses.meanSquaredError(target, tfMlp(sa, this.q2)),
          ) as tf.Scalar,
        true,
        [...vars(this.q1), ...vars(this.q2)],
      )!;
    });
    if (this.iteration % HP.policyFreq !== 0) return;
    this.lastActor?.dispose();
    this.lastActor = tf.tidy(
      () =>
        this.actorOpt.minimize(
          () =>
            tf.neg(
              tf.mean(tfMlp(tf.concat([state, this.pi(state, this.actor)], 1) as tf.Tensor2D, this.q1)),
            ) as tf.Scalar,
          true,
          vars(this.actor),
        )!,
    );
    tf.tidy(() => {
      for (const [tgt, src] of [
        [this.q1T, this.q1],
        [this.q2T, this.q2],
        [this.actorT, this.actor],
      ] as const) {
        tgt.forEach((l, i) => {
          const s = src[i]!;
          l.w.assign(tf.add(tf.mul(s.w, HP.tau), tf.mul(l.w, 1 - HP.tau)));
          l.b.assign(tf.add(tf.mul(s.b, HP.tau), tf.mul(l.b, 1 - HP.tau)));
        });
      }
    });
  }

  firstLosses(): Losses {
    return { critic: this.lastCritic!.dataSync()[0]!, actor: this.lastActor!.dataSync()[0]! };
  }

  /** Forces completion of queued work before the clock stops. */
  sync(): void {
    this.lastCritic?.dataSync();
  }

  dispose(): void {
    this.lastCritic?.dispose();
    this.lastActor?.dispose();
    for (const ls of [this.actor, this.q1, this.q2, this.actorT, this.q1T, this.q2T]) {
      for (const l of ls) {
        l.w.dispose();
        l.b.dispose();
      }
    }
    for (const t of Object.values(this.b)) t.dispose();
    this.actorOpt.dispose();
    this.criticOpt.dispose();
  }
}

interface RoundRate {
  /** Updates per wall-clock second. */
  wall: number;
  /** Updates per second of this process's CPU time: steadier than wall time when the machine is shared. */
  cpu: number;
}

function timeRound(v: Variant, seconds: number, sync: () => void): RoundRate {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  // Always an even count, so every round has the same critic/actor mix.
  do {
    v.update();
    v.update();
    n += 2;
    sync();
  } while (performance.now() < deadline);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall: (n * 1000) / wallMs, cpu: (n * 1e6) / (cpu.user + cpu.system) };
}

function bestOf(a: RoundRate | undefined, b: RoundRate): RoundRate {
  return a === undefined ? b : { wall: Math.max(a.wall, b.wall), cpu: Math.max(a.cpu, b.cpu) };
}

interface NativeOnly {
  description: string;
  updatesPerSec: number;
  updatesPerCpuSec: number;
}

/** The native variant alone (run in a child process with a different OpenBLAS kernel choice). */
function nativeOnly(rounds: number, seconds: number): NativeOnly {
  setGemmBackend('native');
  const v = new NnTd3(randomBatch(new NnRng(SEED + 3)));
  v.update();
  v.update();
  let best: RoundRate | undefined;
  for (let r = 0; r < rounds; r++)
    best = bestOf(
      best,
      timeRound(v, seconds, () => {}),
    );
  return { description: gemmBackend().description, updatesPerSec: best!.wall, updatesPerCpuSec: best!.cpu };
}

/** Runs nativeOnly in a child process where OpenBLAS detects the CPU itself. */
function nativeAutodetected(quick: boolean): NativeOnly | { error: string } {
  const env = { ...process.env };
  env['O2O_BLAS_CORETYPE'] = 'auto';
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--native-only'];
  if (quick) args.push('--quick');
  const child = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 120_000 });
  if (child.status !== 0) {
    return { error: `child exited with ${child.status ?? child.signal}: ${child.stderr.trim().slice(-300)}` };
  }
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as NativeOnly;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, 'native-only': { type: 'boolean' } },
  });
  const quick = values.quick === true;
  const rounds = quick ? 2 : 3;
  const seconds = quick ? { native: 2, ts: 3, tfjs: 3 } : { native: 5, ts: 6, tfjs: 6 };
  if (values['native-only']) {
    console.log(JSON.stringify(nativeOnly(rounds, seconds.native)));
    return;
  }
  const log = (s: string) => {
    if (!values.json) console.log(s);
  };

  const require = createRequire(import.meta.url);
  setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  await tf.ready();

  const batch = randomBatch(new NnRng(SEED + 3));
  const hasNative = nativeAvailable();
  const backends = hasNative ? (['native', 'ts'] as const) : (['ts'] as const);
  const make = {
    native: () => new NnTd3(batch),
    ts: () => new NnTd3(batch),
  };
  const firstLosses: Record<string, Losses> = {};
  const variants: Record<string, { v: Variant; sync: () => void; backend?: 'native' | 'ts' }> = {};
  for (const name of backends) {
    setGemmBackend(name);
    const v = make[name]();
    v.update();
    v.update();
    firstLosses[name] = v.firstLosses();
    variants[name] = { v, sync: () => {}, backend: name };
  }
  // tfjs starts from the initial weights of a fresh lib/nn variant (same seeds as the others).
  setGemmBackend(backends[0]);
  const fresh = new NnTd3(batch);
  const tfjs = new TfjsTd3(batch, fresh.networks());
  tfjs.update();
  tfjs.update();
  firstLosses['tfjs-wasm'] = tfjs.firstLosses();
  variants['tfjs-wasm'] = { v: tfjs, sync: () => tfjs.sync() };

  const best: Record<string, RoundRate> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, { v, sync, backend }] of Object.entries(variants)) {
      if (backend !== undefined) setGemmBackend(backend);
      const budget = name === 'tfjs-wasm' ? seconds.tfjs : seconds[backend!];
      const b = bestOf(best[name], timeRound(v, budget, sync));
      best[name] = b;
      log(
        `  round ${r + 1}/${rounds} ${name}: ${b.wall.toFixed(1)} updates/s, ${b.cpu.toFixed(1)} per CPU-s (best so far)`,
      );
    }
  }
  const rates = Object.fromEntries(Object.entries(best).map(([k, b]) => [k, b.wall]));
  const cpuRates = Object.fromEntries(Object.entries(best).map(([k, b]) => [k, b.cpu]));
  setGemmBackend(hasNative ? 'native' : 'ts');
  tfjs.dispose();
  const forcedCore = process.env['OPENBLAS_CORETYPE'];
  let autodetected: NativeOnly | { error: string } | null = null;
  if (hasNative && forcedCore !== undefined) {
    log(`  OPENBLAS_CORETYPE=${forcedCore} is set: timing native again with OpenBLAS's own CPU detection`);
    autodetected = nativeAutodetected(quick);
    if ('updatesPerSec' in autodetected) {
      log(`  ${autodetected.description}: ${autodetected.updatesPerSec.toFixed(1)} updates/s`);
    }
  }
  const auto = autodetected !== null && 'updatesPerSec' in autodetected ? autodetected : null;

  const ref = firstLosses[backends[0]]!;
  const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
  const agreement = Object.fromEntries(
    Object.entries(firstLosses).map(([k, l]) => [
      k,
      { criticRelDiff: relDiff(l.critic, ref.critic), actorRelDiff: relDiff(l.actor, ref.actor) },
    ]),
  );
  const result = {
    benchmark: 'td3-update',
    dims: DIMS,
    hyper: HP,
    quick,
    rounds,
    gemm: gemmBackend().description,
    updatesPerSec: rates,
    updatesPerCpuSec: cpuRates,
    ratios: {
      nativeOverTs: hasNative ? rates['native']! / rates['ts']! : null,
      nativeOverTfjsWasm: hasNative ? rates['native']! / rates['tfjs-wasm']! : null,
      nativeOverTfjsWasmCpu: hasNative ? cpuRates['native']! / cpuRates['tfjs-wasm']! : null,
      tsOverTfjsWasm: rates['ts']! / rates['tfjs-wasm']!,
    },
    targets: {
      nativeAtLeast300: hasNative ? rates['native']! >= 300 : false,
      nativeAtLeast25xTfjs: hasNative ? rates['native']! / rates['tfjs-wasm']! >= 25 : false,
    },
    firstLosses,
    lossAgreementVsFirst: agreement,
    openblasCoretypeEnv: forcedCore ?? null,
    /** The native variant again with O2O_BLAS_CORETYPE=auto (null when OPENBLAS_CORETYPE is not set). */
    nativeAutodetected:
      autodetected === null
        ? null
        : auto === null
          ? autodetected
          : { ...auto, overTfjsWasm: auto.updatesPerSec / rates['tfjs-wasm']! },
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log('\nTD3 update (Hopper dims: state 11, action 3, batch 256, 256x256, twin critics), best round');
  console.log('variant      updates/s   per CPU-s   critic loss(2nd upd)   actor loss(2nd upd)');
  for (const [k, r] of Object.entries(rates)) {
    const l = firstLosses[k]!;
    console.log(
      `${k.padEnd(12)} ${r.toFixed(1).padStart(9)}   ${cpuRates[k]!.toFixed(1).padStart(9)}   ${l.critic.toPrecision(7).padStart(20)}   ${l.actor.toPrecision(7).padStart(19)}`,
    );
  }
  const rt = result.ratios;
  if (hasNative) {
    console.log(`native / ts        ${rt.nativeOverTs!.toFixed(1)}x`);
    console.log(
      `native / tfjs-wasm ${rt.nativeOverTfjsWasm!.toFixed(1)}x  (target >= 25x; per CPU-s ${(cpuRates['native']! / cpuRates['tfjs-wasm']!).toFixed(1)}x)`,
    );
    console.log(`native >= 300 updates/s: ${result.targets.nativeAtLeast300}`);
  }
  console.log(`ts / tfjs-wasm     ${rt.tsOverTfjsWasm.toFixed(1)}x`);
  console.log(`gemm: ${result.gemm}`);
  if (auto !== null) {
    console.log(
      `O2O_BLAS_CORETYPE=auto (${auto.description}): ${auto.updatesPerSec.toFixed(1)} updates/s ` +
        `(${auto.updatesPerCpuSec.toFixed(1)} per CPU-s), ` +
        `${(auto.updatesPerSec / rates['tfjs-wasm']!).toFixed(1)}x tfjs-wasm`,
    );
  } else if (autodetected !== null && 'error' in autodetected) {
    console.log(`native with O2O_BLAS_CORETYPE=auto failed: ${autodetected.error}`);
  }
}

await main();
