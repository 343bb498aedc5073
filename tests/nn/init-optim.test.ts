// Seeded PyTorch-default initialisation, Adam against its closed-form first steps, gradient clipping,
// Polyak updates, inference/training forward equivalence and buffer reuse.
import assert from 'node:assert/strict';
import { Linear } from '../../lib/nn/layers.ts';
import { Matrix } from '../../lib/nn/matrix.ts';
import { Adam, clipGradNorm, copyParams, softUpdate } from '../../lib/nn/optim.ts';
import { NnRng } from '../../lib/nn/rng.ts';
import { mlp } from '../../lib/nn/sequential.ts';
import { randomMatrix } from './fd.ts';

describe('nn init and optimisation', () => {
  it('same seed gives identical weights; different seeds differ', () => {
    const a = mlp({ inputs: 11, hidden: [64, 64], outputs: 3, rng: 42 });
    const b = mlp({ inputs: 11, hidden: [64, 64], outputs: 3, rng: 42 });
    const c = mlp({ inputs: 11, hidden: [64, 64], outputs: 3, rng: 43 });
    a.params().forEach((p, i) => {
      assert.deepEqual(p.value, b.params()[i]!.value);
    });
    assert.notDeepEqual(a.params()[0]!.value, c.params()[0]!.value);
    assert.deepEqual(
      a.params().map((p) => `${p.name}[${p.shape}]`),
      [
        'layers.0.weight[64,11]',
        'layers.0.bias[64]',
        'layers.2.weight[64,64]',
        'layers.2.bias[64]',
        'layers.4.weight[3,64]',
        'layers.4.bias[3]',
      ],
    );
  });

  it('weights and biases follow U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like torch.nn.Linear', () => {
    const lin = new Linear(256, 512, new NnRng(7));
    const bound = 1 / 16;
    for (const p of [lin.weight, lin.bias]) {
      const v = p.value;
      let mean = 0;
      let sq = 0;
      let max = 0;
      for (const x of v) {
        mean += x;
        sq += x * x;
        max = Math.max(max, Math.abs(x));
      }
      mean /= v.length;
      const variance = sq / v.length - mean * mean;
      assert.ok(max <= bound, `${p.name} exceeds the bound`);
      assert.ok(max > bound * 0.97, `${p.name} does not reach towards the bound (max ${max})`);
      const se = Math.sqrt(bound ** 2 / 3 / v.length);
      assert.ok(Math.abs(mean) < 5 * se, `${p.name} mean ${mean}`);
      assert.ok(
        Math.abs(variance / (bound ** 2 / 3) - 1) < (p.name === 'bias' ? 0.25 : 0.02),
        `${p.name} variance ${variance}`,
      );
    }
  });

  it('Adam: first step moves every weight by lr * sign(grad); bias correction from step 2 on', () => {
    const w = {
      name: 'w',
      shape: [3],
      value: new Float32Array([1, 2, 3]),
      grad: new Float32Array([0.5, -2, 1e-3]),
    };
    const opt = new Adam([w], { lr: 0.1 });
    opt.step();
    const expect1 = [
      1 - 0.1 * (0.5 / (0.5 + 1e-8)),
      2 + 0.1 * (2 / (2 + 1e-8)),
      3 - 0.1 * (1e-3 / (1e-3 + 1e-8)),
    ];
    w.value.forEach((v, i) => {
      assert.ok(Math.abs(v - expect1[i]!) < 1e-6, `step 1 element ${i}: ${v}`);
    });
    // Step 2 with grad g2, by the PyTorch formula in float64.
    const g1 = [0.5, -2, 1e-3];
    const g2 = [1, 1, -1];
    w.grad.set(g2);
    const before = Array.from(w.value);
    opt.step();
    for (let i = 0; i < 3; i++) {
      const m = 0.9 * 0.1 * g1[i]! + 0.1 * g2[i]!;
      const v = 0.999 * 0.001 * g1[i]! ** 2 + 0.001 * g2[i]! ** 2;
      const upd = (0.1 / (1 - 0.81)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8));
      assert.ok(Math.abs(w.value[i]! - (before[i]! - upd)) < 1e-6, `step 2 element ${i}`);
    }
    assert.throws(() => new Adam([w, w]), /duplicate parameter name 'w'/);
    assert.throws(() => new Adam([w], { beta1: 1 }), /beta1 must be in \[0, 1\)/);
  });

  it('clipGradNorm scales like torch.nn.utils.clip_grad_norm_ and returns the pre-clip norm', () => {
    const p = { name: 'p', shape: [2], value: new Float32Array(2), grad: new Float32Array([3, 4]) };
    assert.equal(clipGradNorm([p], 10), 5);
    assert.deepEqual(Array.from(p.grad), [3, 4]);
    assert.equal(clipGradNorm([p], 1), 5);
    assert.ok(Math.abs(Math.hypot(p.grad[0]!, p.grad[1]!) - 1) < 1e-6);
  });

  it('softUpdate is target <- tau * source + (1 - tau) * target; copyParams copies', () => {
    const src = mlp({ inputs: 3, hidden: [4], outputs: 2, rng: 1 });
    const tgt = mlp({ inputs: 3, hidden: [4], outputs: 2, rng: 2 });
    const t0 = tgt.params().map((p) => p.value.slice());
    softUpdate(tgt, src, 0.005);
    tgt.params().forEach((p, k) => {
      p.value.forEach((v, i) => {
        const e = 0.005 * src.params()[k]!.value[i]! + 0.995 * t0[k]![i]!;
        assert.ok(Math.abs(v - e) < 1e-7);
      });
    });
    copyParams(tgt, src);
    tgt.params().forEach((p, k) => {
      assert.deepEqual(p.value, src.params()[k]!.value);
    });
    assert.throws(
      () => softUpdate(mlp({ inputs: 3, hidden: [5], outputs: 2, rng: 1 }), src, 0.5),
      /tensor 0 differs/,
    );
    assert.throws(() => softUpdate(tgt, src, 1.5), /tau must be in \[0, 1\]/);
  });

  it('predict equals forward, does not disturb a pending backward, and buffers are reused per batch size', () => {
    const net = mlp({ inputs: 5, hidden: [7, 7], outputs: 2, outputActivation: 'tanh', rng: 3 });
    const x = randomMatrix(4, 5, 4);
    const x1 = randomMatrix(1, 5, 5);
    const r = randomMatrix(4, 2, 6);
    const out = net.forward(x);
    const kept = out.clone();
    assert.deepEqual(net.predict(x).data, kept.data);
    net.predict(x1); // a different batch size in between (acting) must not clobber training state
    net.zeroGrad();
    const dx = net.backward(r).clone();
    // Reference: a clean forward/backward.
    net.zeroGrad();
    net.forward(x);
    assert.deepEqual(net.backward(r).data, dx.data);
    assert.equal(net.forward(x), out, 'forward output buffer is reused');
    const p1 = net.predict(x1);
    assert.equal(net.predict(x1), p1, 'predict buffer is reused');
    assert.equal(net.predict(x1).rows, 1);
    assert.throws(() => net.forward(new Matrix(2, 4)), /expected 5 columns/);
    assert.throws(
      () => mlp({ inputs: 5, hidden: [0], outputs: 2, rng: 1 }),
      /outFeatures must be a positive integer/,
    );
  });
});

describe('NnRng state', () => {
  it('setState(getState()) resumes the stream, even between the two normals of a pair', () => {
    const a = new NnRng(11);
    a.normal(); // leaves the pair's second normal cached
    const b = new NnRng(999);
    b.setState(a.getState());
    const draws = (r: NnRng) => [r.normal(), r.uniform(), r.normal(), r.nextUint32()];
    assert.deepEqual(draws(b), draws(a));
    assert.throws(() => b.setState([1, 2, 3]), /expected four 32-bit words/);
    assert.throws(() => b.setState([1, 2, 3, 2 ** 32, null]), /expected four 32-bit words/);
  });
});
