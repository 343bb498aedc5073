// Finite-difference checks of every layer, the ops and losses, and whole MLPs (inputs and parameters).
import assert from 'node:assert/strict';
import { LayerNorm, Linear, ReLU, Scale, Tanh } from '../../lib/nn/layers.ts';
import { klStandardNormal, meanLoss, mseLoss } from '../../lib/nn/losses.ts';
import { Matrix } from '../../lib/nn/matrix.ts';
import { addInto, Concat, reparameterize, reparameterizeBackward } from '../../lib/nn/ops.ts';
import { NnRng } from '../../lib/nn/rng.ts';
import { mlp, Sequential } from '../../lib/nn/sequential.ts';
import { numericGradient, randomMatrix, weightedSum, worstRatio } from './fd.ts';

const H = 1e-2;
const ATOL = 2e-3;
const RTOL = 1e-2;

/** Checks dInput and every parameter gradient of `net` (objective sum(out * R)) against FD. */
function checkNetwork(net: Sequential, x: Matrix, seed: number, h = H): void {
  const r = randomMatrix(x.rows, net.outFeatures, seed);
  const objective = () => weightedSum(net.predict(x), r);
  net.zeroGrad();
  net.forward(x);
  const dx = net.backward(r);
  const dxNum = numericGradient(x.data, objective, h);
  const wx = worstRatio(dx.data, dxNum, ATOL, RTOL);
  assert.ok(wx <= 1, `dInput off FD by ratio ${wx}`);
  for (const p of net.params()) {
    const num = numericGradient(p.value, objective, h);
    const w = worstRatio(p.grad, num, ATOL, RTOL);
    assert.ok(w <= 1, `${p.name} gradient off FD by ratio ${w}`);
  }
}

/** Inputs whose entries stay at least `margin` away from zero, so ReLU kinks are not crossed by FD. */
function awayFromZero(rows: number, cols: number, seed: number, margin: number): Matrix {
  const m = randomMatrix(rows, cols, seed);
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i]!;
    m.data[i] = Math.sign(v || 1) * (margin + Math.abs(v));
  }
  return m;
}

describe('nn gradient checks (finite differences, float64 objective)', () => {
  it('Linear: input, weight and bias gradients', () => {
    checkNetwork(new Sequential([new Linear(5, 4, new NnRng(1))]), randomMatrix(3, 5, 2), 3);
  });

  it('Tanh, ReLU and Scale: input gradients', () => {
    for (const layer of [new Tanh(), new ReLU(), new Scale(2.5)]) {
      const net = new Sequential([new Linear(4, 6, new NnRng(4)), layer]);
      // Bias the first layer's outputs away from 0 for ReLU: set weights tiny and bias +-0.5.
      const lin = net.layers[0] as Linear;
      lin.weight.value.forEach((_, i) => {
        lin.weight.value[i] = 0.01 * ((i % 5) - 2);
      });
      lin.bias.value.forEach((_, i) => {
        lin.bias.value[i] = i % 2 === 0 ? 0.5 : -0.5;
      });
      checkNetwork(net, randomMatrix(3, 4, 5), 6);
    }
  });

  it('LayerNorm: input, weight and bias gradients (non-trivial weight and bias)', () => {
    const norm = new LayerNorm(6);
    norm.weight.value.set(randomMatrix(1, 6, 20).data.map((v) => 1 + 0.5 * v));
    norm.bias.value.set(randomMatrix(1, 6, 21).data);
    const net = new Sequential([
      new Linear(4, 6, new NnRng(22)),
      norm,
      new Tanh(),
      new Linear(6, 2, new NnRng(23)),
    ]);
    checkNetwork(net, randomMatrix(5, 4, 24), 25);
  });

  it('mlp with layerNorm puts a LayerNorm after each hidden Linear and differentiates end to end', () => {
    const net = mlp({ inputs: 5, hidden: [7, 6], outputs: 2, activation: 'tanh', layerNorm: true, rng: 26 });
    assert.deepEqual(
      net.layers.map((l) => l.constructor.name),
      ['Linear', 'LayerNorm', 'Tanh', 'Linear', 'LayerNorm', 'Tanh', 'Linear'],
    );
    checkNetwork(net, randomMatrix(4, 5, 27), 28);
    // Each row of a LayerNorm's output (weight 1, bias 0) has mean 0 and variance 1 - eps-ish.
    const y = new LayerNorm(7).forward(randomMatrix(3, 7, 29, 5));
    for (let r = 0; r < 3; r++) {
      const row = Array.from(y.data.subarray(r * 7, r * 7 + 7));
      const mean = row.reduce((a, b) => a + b, 0) / 7;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 7;
      assert.ok(
        Math.abs(mean) < 1e-5 && Math.abs(variance - 1) < 1e-4,
        `row ${r}: mean ${mean}, var ${variance}`,
      );
    }
  });

  it('whole MLP with tanh hidden layers and a scaled tanh output', () => {
    const net = mlp({
      inputs: 6,
      hidden: [8, 7],
      outputs: 3,
      activation: 'tanh',
      outputActivation: 'tanh',
      outputScale: 2,
      rng: 7,
    });
    checkNetwork(net, randomMatrix(4, 6, 8), 9);
  });

  it('whole ReLU MLP (inputs chosen so no pre-activation crosses zero under FD)', () => {
    // With tiny weights each pre-activation is dominated by its bias, which we keep away from zero.
    const net = mlp({ inputs: 5, hidden: [6, 6], outputs: 2, rng: 10 });
    for (const p of net.params()) {
      if (p.name.endsWith('bias'))
        p.value.forEach((_, i) => {
          p.value[i] = i % 2 === 0 ? 0.3 : -0.3;
        });
      else
        p.value.forEach((v, i) => {
          p.value[i] = v * 0.05;
        });
    }
    checkNetwork(net, awayFromZero(3, 5, 11, 0.1), 12, 1e-3);
  });

  it('Concat routes gradients to both inputs', () => {
    const left = randomMatrix(3, 2, 13);
    const right = randomMatrix(3, 4, 14);
    const net = mlp({ inputs: 6, hidden: [5], outputs: 2, activation: 'tanh', rng: 15 });
    const concat = new Concat();
    const r = randomMatrix(3, 2, 16);
    const objective = () => weightedSum(net.predict(new Concat().forward(left, right)), r);
    net.forward(concat.forward(left, right));
    concat.backward(net.backward(r));
    assert.ok(worstRatio(concat.gradLeft!.data, numericGradient(left.data, objective, H), ATOL, RTOL) <= 1);
    assert.ok(worstRatio(concat.gradRight!.data, numericGradient(right.data, objective, H), ATOL, RTOL) <= 1);
  });

  it('reparameterisation: gradients w.r.t. mean and log-variance', () => {
    const mean = randomMatrix(3, 4, 17);
    const logVar = randomMatrix(3, 4, 18, 0.5);
    const eps = randomMatrix(3, 4, 19);
    const z = new Matrix(3, 4);
    const r = randomMatrix(3, 4, 20);
    const objective = () => weightedSum(reparameterize(mean, logVar, eps, z), r);
    const dMean = new Matrix(3, 4);
    const dLogVar = new Matrix(3, 4);
    reparameterizeBackward(r, logVar, eps, dMean, dLogVar);
    assert.ok(worstRatio(dMean.data, numericGradient(mean.data, objective, H), ATOL, RTOL) <= 1);
    assert.ok(worstRatio(dLogVar.data, numericGradient(logVar.data, objective, H), ATOL, RTOL) <= 1);
  });

  it('losses: MSE, mean and KL(N(mean, exp(logVar)) || N(0, I))', () => {
    const pred = randomMatrix(4, 3, 21);
    const target = randomMatrix(4, 3, 22);
    const g = new Matrix(4, 3);
    mseLoss(pred, target, g);
    assert.ok(
      worstRatio(
        g.data,
        numericGradient(pred.data, () => mseLoss(pred, target), H),
        ATOL,
        RTOL,
      ) <= 1,
    );
    meanLoss(pred, -1, g);
    assert.ok(
      worstRatio(
        g.data,
        numericGradient(pred.data, () => meanLoss(pred, -1), H),
        ATOL,
        RTOL,
      ) <= 1,
    );
    const mean = randomMatrix(4, 3, 23);
    const logVar = randomMatrix(4, 3, 24, 0.5);
    const dm = new Matrix(4, 3);
    const dl = new Matrix(4, 3);
    klStandardNormal(mean, logVar, dm, dl);
    const kl = () => klStandardNormal(mean, logVar);
    assert.ok(worstRatio(dm.data, numericGradient(mean.data, kl, H), ATOL, RTOL) <= 1);
    assert.ok(worstRatio(dl.data, numericGradient(logVar.data, kl, H), ATOL, RTOL) <= 1);
    // Known values: zero mean and unit variance give KL 0; MSE of identical inputs is 0.
    assert.ok(klStandardNormal(new Matrix(2, 3), new Matrix(2, 3)) === 0);
    assert.equal(mseLoss(pred, pred), 0);
  });

  it('VAE-style trunk with two heads: summed head gradients reach the trunk input', () => {
    const trunk = mlp({
      inputs: 4,
      hidden: [6],
      outputs: 5,
      activation: 'tanh',
      outputActivation: 'tanh',
      rng: 25,
    });
    const meanHead = new Sequential([new Linear(5, 3, new NnRng(26))]);
    const logVarHead = new Sequential([new Linear(5, 3, new NnRng(27))]);
    const x = randomMatrix(3, 4, 28);
    const rm = randomMatrix(3, 3, 29);
    const rl = randomMatrix(3, 3, 30);
    const objective = () => {
      const h = trunk.predict(x);
      return weightedSum(meanHead.predict(h), rm) + weightedSum(logVarHead.predict(h), rl);
    };
    const h = trunk.forward(x);
    meanHead.forward(h);
    logVarHead.forward(h);
    const dh = meanHead.backward(rm).clone();
    addInto(dh, logVarHead.backward(rl));
    const dx = trunk.backward(dh);
    assert.ok(worstRatio(dx.data, numericGradient(x.data, objective, H), ATOL, RTOL) <= 1);
  });

  it('the checker itself rejects a gradient that is 5% off', () => {
    const net = mlp({ inputs: 3, hidden: [4], outputs: 2, activation: 'tanh', rng: 34 });
    const x = randomMatrix(2, 3, 35);
    const r = randomMatrix(2, 2, 36);
    net.zeroGrad();
    net.forward(x);
    net.backward(r);
    const w = net.params()[0]!;
    const num = numericGradient(w.value, () => weightedSum(net.predict(x), r), H);
    assert.ok(worstRatio(w.grad, num, ATOL, RTOL) <= 1);
    const wrong = w.grad.map((v) => v * 1.05);
    assert.ok(worstRatio(wrong, num, 1e-4, RTOL) > 1);
  });

  it('backwardInput leaves parameter gradients untouched; backwardParams matches backward', () => {
    const net = mlp({ inputs: 4, hidden: [5], outputs: 2, rng: 31 });
    const x = randomMatrix(3, 4, 32);
    const r = randomMatrix(3, 2, 33);
    net.zeroGrad();
    net.forward(x);
    const dxOnly = net.backwardInput(r).clone();
    for (const p of net.params())
      assert.ok(
        p.grad.every((v) => v === 0),
        `${p.name} grad changed`,
      );
    const dx = net.backward(r);
    assert.deepEqual(dx.data, dxOnly.data);
    const full = net.params().map((p) => p.grad.slice());
    net.zeroGrad();
    net.backwardParams(r);
    net.params().forEach((p, i) => {
      assert.deepEqual(p.grad, full[i]);
    });
  });
});
