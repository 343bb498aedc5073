// Native vs TypeScript kernels: GEMM for all transposes, odd sizes, alpha/beta, strided views; the
// elementwise kernels; bounds errors; and a forced fallback in a child process.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gemmBackend, type Kernels, nativeKernels, tsKernels } from '../../lib/nn/gemm.ts';
import { ACT } from '../../lib/nn/kernels-ts.ts';
import { NnRng } from '../../lib/nn/rng.ts';
import { relativeError } from './fd.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function rand(n: number, seed: number): Float32Array {
  const rng = new NnRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Float64 reference GEMM on strided row-major storage. */
function refGemm(
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): Float64Array {
  const out = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i]!;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++)
        s += (ta ? a[q * lda + i]! : a[i * lda + q]!) * (tb ? b[j * ldb + q]! : b[q * ldb + j]!);
      out[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]!);
    }
  }
  return out;
}

const native = nativeKernels();
const backends: [string, Kernels][] = [['ts', tsKernels]];
if (native !== undefined) backends.push(['native', native]);

describe('nn kernels: native vs TypeScript', () => {
  it('the native addon is built and active by default on this machine', () => {
    assert.ok(native !== undefined, 'addon missing: build lib/nn/native (npm run bootstrap)');
    if (process.env['O2O_NN_BACKEND'] !== 'ts') assert.equal(gemmBackend().name, 'native');
  });

  it('GEMM agrees with a float64 reference for all transposes, odd sizes, alpha/beta and padded strides', () => {
    const sizes: [number, number, number][] = [
      [1, 1, 1],
      [3, 5, 7],
      [17, 1, 33],
      [1, 19, 5],
      [37, 29, 131],
      [130, 257, 129],
      [4, 6, 0],
    ];
    let seed = 100;
    for (const [m, n, k] of sizes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          for (const [alpha, beta] of [
            [1, 0],
            [0.5, 1],
            [-2, 0.25],
          ] as const) {
            const pad = 3;
            const lda = (ta ? m : k) + pad;
            const ldb = (tb ? k : n) + pad;
            const ldc = n + pad;
            const a = rand((ta ? k : m) * lda, seed++);
            const b = rand((tb ? n : k) * ldb, seed++);
            const c0 = rand(m * ldc, seed++);
            const ref = refGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc);
            for (const [name, kern] of backends) {
              const c = c0.slice();
              kern.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
              const e = relativeError(c, ref);
              assert.ok(
                e < 1e-5,
                `${name} ${m}x${n}x${k} ta=${ta} tb=${tb} a=${alpha} b=${beta}: rel err ${e}`,
              );
              // Padding columns of C are never written.
              for (let i = 0; i < m; i++) {
                for (let j = n; j < ldc; j++) assert.equal(c[i * ldc + j], c0[i * ldc + j]);
              }
            }
          }
        }
      }
    }
  });

  it('GEMM with beta = 0 overwrites stale NaNs in C (matrix and vector shapes)', () => {
    for (const [m, n, k] of [
      [5, 4, 3],
      [6, 1, 7],
      [1, 6, 7],
    ] as const) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = rand(m * k, 1);
          const b = rand(k * n, 2);
          const ref = refGemm(
            ta,
            tb,
            m,
            n,
            k,
            1,
            a,
            ta ? m : k,
            b,
            tb ? k : n,
            0,
            new Float32Array(m * n),
            n,
          );
          for (const [name, kern] of backends) {
            const c = new Float32Array(m * n).fill(Number.NaN);
            kern.sgemm(ta, tb, m, n, k, 1, a, ta ? m : k, b, tb ? k : n, 0, c, n);
            assert.ok(relativeError(c, ref) < 1e-5, `${name} ${m}x${n}x${k} ta=${ta} tb=${tb}`);
          }
        }
      }
    }
  });

  it('GEMM works in place on subarray views (byte offsets honoured, no copies)', () => {
    const buf = rand(200, 7);
    const a = buf.subarray(10, 10 + 12); // 3x4
    const b = buf.subarray(30, 30 + 20); // 4x5
    for (const [name, kern] of backends) {
      const backing = new Float32Array(40).fill(9);
      const c = backing.subarray(5, 20); // 3x5
      kern.sgemm(false, false, 3, 5, 4, 1, a, 4, b, 5, 0, c, 5);
      const ref = refGemm(false, false, 3, 5, 4, 1, a, 4, b, 5, 0, new Float32Array(15), 5);
      assert.ok(relativeError(c, ref) < 1e-6, `${name}: view result`);
      assert.equal(backing[4], 9, `${name} wrote before the view`);
      assert.equal(backing[20], 9, `${name} wrote after the view`);
    }
  });

  it('GEMM rejects arrays too small for the requested shape and bad arguments, naming the operand', () => {
    for (const [name, kern] of backends) {
      const a = new Float32Array(6);
      const b = new Float32Array(6);
      assert.throws(
        () => kern.sgemm(false, false, 2, 3, 3, 1, a, 3, new Float32Array(9), 3, 0, new Float32Array(5), 3),
        /C needs 6/,
        name,
      );
      assert.throws(
        () => kern.sgemm(false, false, 3, 2, 3, 1, a, 3, b, 2, 0, new Float32Array(6), 2),
        /A needs 9/,
        name,
      );
      assert.throws(
        () => kern.sgemm(false, true, 2, 2, 3, 1, a, 3, b, 2, 0, new Float32Array(4), 2),
        /leading dimension of B/,
        name,
      );
      assert.throws(
        () =>
          kern.sgemm(
            false,
            false,
            2,
            2,
            2,
            1,
            new Float64Array(4) as unknown as Float32Array,
            2,
            b,
            2,
            0,
            a,
            2,
          ),
        /A must be a Float32Array/,
        name,
      );
      assert.throws(() => kern.sgemm(false, false, -1, 2, 2, 1, a, 2, b, 2, 0, a, 2), /m must be/, name);
    }
  });

  it('elementwise kernels agree (bias+activation, activation gradients, column sums, Adam, Polyak, LayerNorm)', function () {
    if (native === undefined) this.skip();
    const rows = 33;
    const cols = 70;
    const n = rows * cols;
    const x = rand(n, 1);
    const bias = rand(cols, 2);
    const d = rand(n, 3);
    for (const act of [ACT.identity, ACT.relu, ACT.tanh]) {
      const [o1, o2] = [x.slice(), x.slice()];
      tsKernels.addBiasAct(o1, rows, cols, bias, act);
      native!.addBiasAct(o2, rows, cols, bias, act);
      assert.ok(relativeError(o2, o1) < 1e-6, `addBiasAct ${act}`);
      const [y1, y2] = [new Float32Array(n), new Float32Array(n)];
      tsKernels.activate(x, y1, n, act);
      native!.activate(x, y2, n, act);
      assert.ok(relativeError(y2, y1) < 1e-6, `activate ${act}`);
      const [g1, g2] = [new Float32Array(n), new Float32Array(n)];
      tsKernels.activationBackward(y1, d, g1, n, act);
      native!.activationBackward(y1, d, g2, n, act);
      assert.ok(relativeError(g2, g1) < 1e-6, `activationBackward ${act}`);
    }
    const [s1, s2] = [bias.slice(), bias.slice()];
    tsKernels.colSumAdd(d, rows, cols, s1);
    native!.colSumAdd(d, rows, cols, s2);
    assert.ok(relativeError(s2, s1) < 1e-6, 'colSumAdd');
    const state = () =>
      [x.slice(), d.slice(), rand(n, 4).map(Math.abs), rand(n, 5).map((v) => v * v)] as const;
    const [w1, gg1, m1, v1] = state();
    const [w2, gg2, m2, v2] = state();
    for (let t = 1; t <= 3; t++) {
      const args = [n, 1e-3 / (1 - 0.9 ** t), 0.9, 0.999, Math.sqrt(1 - 0.999 ** t), 1e-8, 0.01] as const;
      tsKernels.adamUpdate(w1, gg1, m1, v1, ...args);
      native!.adamUpdate(w2, gg2, m2, v2, ...args);
    }
    for (const [a, b, what] of [
      [w1, w2, 'w'],
      [m1, m2, 'm'],
      [v1, v2, 'v'],
    ] as const) {
      assert.ok(relativeError(b, a) < 1e-6, `adamUpdate ${what}`);
    }
    const [t1, t2] = [x.slice(), x.slice()];
    tsKernels.lerp(t1, d, n, 0.005);
    native!.lerp(t2, d, n, 0.005);
    assert.ok(relativeError(t2, t1) < 1e-6, 'lerp');
    // LayerNorm, forward (kept and not kept) and backward (input and parameter gradients).
    const lnW = rand(cols, 6).map((v) => 1 + 0.3 * v);
    const lnB = rand(cols, 7);
    const none = new Float32Array(0);
    const ln = [tsKernels, native!].map((k) => {
      const out = new Float32Array(n);
      const xhat = new Float32Array(n);
      const rstd = new Float32Array(rows);
      k.layerNormForward(x, out, rows, cols, lnW, lnB, 1e-5, xhat, rstd);
      const bare = new Float32Array(n);
      k.layerNormForward(x, bare, rows, cols, lnW, lnB, 1e-5, none, none);
      const dIn = new Float32Array(n);
      const dW = new Float32Array(cols);
      const dB = new Float32Array(cols);
      k.layerNormBackward(d, xhat, rstd, rows, cols, lnW, dIn, dW, dB);
      return { out, bare, xhat, rstd, dIn, dW, dB };
    });
    for (const key of ['out', 'bare', 'xhat', 'rstd', 'dIn', 'dW', 'dB'] as const) {
      assert.ok(relativeError(ln[1]![key], ln[0]![key]) < 1e-5, `layerNorm ${key}`);
    }
    assert.deepEqual(ln[0]!.bare, ln[0]!.out, 'inference output equals the training output');
    // ReLU propagates NaN on both backends.
    for (const [name, kern] of backends) {
      const out = new Float32Array(2);
      kern.activate(new Float32Array([Number.NaN, -1]), out, 2, ACT.relu);
      assert.ok(Number.isNaN(out[0]!) && out[1] === 0, `${name} relu NaN`);
      assert.throws(
        () => kern.activate(new Float32Array(2), new Float32Array(1), 2, ACT.relu),
        /out has 1 elements, needs 2/,
      );
      assert.throws(
        () =>
          kern.layerNormBackward(
            d,
            x,
            new Float32Array(rows),
            rows,
            cols,
            lnW,
            none,
            new Float32Array(cols),
            none,
          ),
        /dWeight and dBias both or neither/,
        `${name} layerNormBackward with only dWeight`,
      );
      assert.throws(
        () => kern.layerNormForward(x, new Float32Array(n - 1), rows, cols, lnW, lnB, 1e-5, none, none),
        /out has \d+ elements, needs \d+/,
      );
    }
  });

  it('O2O_BLAS_CORETYPE picks the OpenBLAS kernel family, named in the start-up line', function () {
    if (native === undefined) this.skip();
    const announce = (coretype: string) => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', "await import('./lib/nn/gemm.ts');"],
        {
          cwd: repoRoot,
          env: { ...process.env, O2O_BLAS_CORETYPE: coretype, O2O_BLAS_THREADS: '1' },
          encoding: 'utf8',
        },
      );
      return { status: r.status, line: r.stderr.split('\n').find((l) => l.startsWith('[nn]')) ?? r.stderr };
    };
    // Haswell (AVX2) kernels exist in every x86-64 DYNAMIC_ARCH build and run on any AVX2 CPU.
    assert.deepEqual(announce('Haswell'), {
      status: 0,
      line: '[nn] gemm: native OpenBLAS (1 thread, Haswell kernels)',
    });
    const auto = announce('auto');
    assert.equal(auto.status, 0);
    assert.match(auto.line, /^\[nn\] gemm: native OpenBLAS \(1 thread, \w+ kernels\)$/);
    // Unset means auto: the environment's OPENBLAS_CORETYPE is dropped; 'inherit' keeps it.
    assert.deepEqual(announce(''), auto);
    const inherited = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "await import('./lib/nn/gemm.ts');"],
      {
        cwd: repoRoot,
        env: { ...process.env, O2O_BLAS_CORETYPE: 'inherit', OPENBLAS_CORETYPE: 'Haswell' },
        encoding: 'utf8',
      },
    );
    assert.match(inherited.stderr, /Haswell kernels/);
    const bad = announce('not a core');
    assert.notEqual(bad.status, 0);
    assert.match(
      bad.line,
      /O2O_BLAS_CORETYPE must be 'auto', 'inherit' or an OpenBLAS core name, got 'not a core'/,
    );
  });

  it('O2O_NN_BACKEND=ts forces the fallback, announced once on stderr, and training still works', () => {
    const script = [
      "import { gemmBackend, mlp, Matrix, Adam, mseLoss } from './lib/nn/index.ts';",
      'const net = mlp({ inputs: 3, hidden: [16], outputs: 1, rng: 1 });',
      'const x = new Matrix(8, 3); x.data.forEach((_, i) => (x.data[i] = Math.sin(i)));',
      'const y = new Matrix(8, 1); y.data.forEach((_, i) => (y.data[i] = Math.cos(i)));',
      'const g = new Matrix(8, 1); const opt = new Adam(net.params(), { lr: 1e-2 });',
      'let first = 0, last = 0;',
      'for (let i = 0; i < 200; i++) { opt.zeroGrad(); last = mseLoss(net.forward(x), y, g); if (i === 0) first = last; net.backward(g); opt.step(); }',
      'console.log(JSON.stringify({ backend: gemmBackend().name, first, last }));',
    ].join('\n');
    const run = (env: Record<string, string>) => {
      const r = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return JSON.parse(r.trim()) as { backend: string; first: number; last: number };
    };
    const forced = run({ O2O_NN_BACKEND: 'ts' });
    assert.equal(forced.backend, 'ts');
    assert.ok(
      forced.last < forced.first * 0.5,
      `fallback training did not reduce the loss: ${JSON.stringify(forced)}`,
    );
    // The announcement: exactly one stderr line, however many nn modules are imported.
    const probe = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "await import('./lib/nn/index.ts'); await import('./lib/nn/gemm.ts');",
      ],
      { cwd: repoRoot, env: { ...process.env, O2O_NN_BACKEND: 'ts' }, encoding: 'utf8' },
    );
    assert.equal(probe.status, 0, probe.stderr);
    assert.deepEqual(
      probe.stderr.split('\n').filter((l) => l.startsWith('[nn]')),
      ['[nn] gemm: TypeScript fallback (forced by O2O_NN_BACKEND=ts)'],
    );
    const bad = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "await import('./lib/nn/index.ts');"],
      {
        cwd: repoRoot,
        env: { ...process.env, O2O_NN_BACKEND: 'gpu' },
        encoding: 'utf8',
      },
    );
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /O2O_NN_BACKEND must be 'ts' or 'native', got 'gpu'/);
    if (native !== undefined) {
      const def = run({ O2O_NN_BACKEND: '' });
      assert.equal(def.backend, 'native');
      assert.ok(
        Math.abs(def.first - forced.first) < 1e-5 * Math.abs(forced.first),
        'backends start from different losses',
      );
    }
  });
});
