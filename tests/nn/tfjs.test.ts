// tfjs (cpu backend, float32) as the oracle: same weights and inputs give the same outputs and
// gradients, the TD3 actor-loss chain (actor -> concat -> critic) matches, and 10 Adam steps agree.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mseLoss } from '../../lib/nn/losses.ts';
import { Matrix } from '../../lib/nn/matrix.ts';
import { Concat } from '../../lib/nn/ops.ts';
import { Adam } from '../../lib/nn/optim.ts';
import { mlp, type Sequential } from '../../lib/nn/sequential.ts';
import { randomMatrix, relativeError } from './fd.ts';

const TOL = 1e-4;

interface TfLinear {
  w: tf.Variable; // [in, out]
  b: tf.Variable;
}

/** tfjs twins (copies: tfjs cpu tensors may alias a typed array they are built from) of a lib/nn MLP's Linear layers (PyTorch layout [out, in] transposed to tfjs's [in, out]). */
function toTf(net: Sequential): TfLinear[] {
  const ps = net.params();
  const out: TfLinear[] = [];
  for (let i = 0; i < ps.length; i += 2) {
    const [o, n] = ps[i]!.shape as [number, number];
    out.push({
      w: tf.variable(tf.tensor2d(ps[i]!.value.slice(), [o, n]).transpose()),
      b: tf.variable(tf.tensor1d(ps[i + 1]!.value.slice())),
    });
  }
  return out;
}

function tfForward(
  x: tf.Tensor2D,
  layers: TfLinear[],
  hidden: 'relu' | 'tanh',
  output: 'none' | 'tanh',
  scale = 1,
) {
  let h: tf.Tensor2D = x;
  layers.forEach((l, i) => {
    h = tf.add(tf.matMul(h, l.w as tf.Tensor2D), l.b);
    if (i < layers.length - 1) h = hidden === 'relu' ? tf.relu(h) : tf.tanh(h);
  });
  if (output === 'tanh') h = tf.mul(tf.tanh(h), scale);
  return h;
}

/** tfjs [in, out] kernel gradient as PyTorch-layout [out, in] values. */
function kernelAsTorch(t: tf.Tensor): Float32Array {
  return t.transpose().dataSync() as Float32Array;
}

const asTensor = (m: Matrix) => tf.tensor2d(m.data, [m.rows, m.cols]);

describe('nn vs tfjs (cpu backend)', () => {
  before(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });

  it('MLP forward, input gradient and parameter gradients match', () => {
    const net = mlp({
      inputs: 11,
      hidden: [64, 48],
      outputs: 3,
      outputActivation: 'tanh',
      outputScale: 2,
      rng: 1,
    });
    const x = randomMatrix(32, 11, 2);
    const r = randomMatrix(32, 3, 3);
    const tfl = toTf(net);
    const xt = asTensor(x);
    const rt = asTensor(r);
    const out = net.forward(x);
    const tfOut = tfForward(xt, tfl, 'relu', 'tanh', 2);
    assert.ok(relativeError(out.data, tfOut.dataSync()) <= TOL, 'forward outputs differ');
    net.zeroGrad();
    const dx = net.backward(r);
    const vars = tfl.flatMap((l) => [l.w, l.b]);
    const f = (xIn: tf.Tensor, ...ws: tf.Tensor[]) => {
      const ls = [];
      for (let i = 0; i < ws.length; i += 2)
        ls.push({ w: ws[i] as tf.Variable, b: ws[i + 1] as tf.Variable });
      return tf.sum(tf.mul(tfForward(xIn as tf.Tensor2D, ls, 'relu', 'tanh', 2), rt));
    };
    const grads = tf.grads(f)([xt, ...vars]);
    assert.ok(relativeError(dx.data, grads[0]!.dataSync()) <= TOL, 'input gradients differ');
    net.params().forEach((p, i) => {
      const g = grads[i + 1]!;
      const ref = p.shape.length === 2 ? kernelAsTorch(g) : g.dataSync();
      const e = relativeError(p.grad, ref);
      assert.ok(e <= TOL, `${p.name} gradient differs (relative error ${e})`);
    });
    // A sanity check that the comparison is sensitive: a perturbed gradient fails it.
    const g0 = net.params()[0]!.grad.map((v, i) => (i === 0 ? v + 0.01 * Math.abs(v) + 1e-3 : v));
    assert.ok(relativeError(g0, kernelAsTorch(grads[1]!)) > 1e-6);
    tf.dispose([xt, rt, tfOut, ...grads, ...vars]);
  });

  it('TD3 actor loss: -mean Q(s, pi(s)) gradient through the critic into the actor matches', () => {
    const actor = mlp({ inputs: 11, hidden: [32, 32], outputs: 3, outputActivation: 'tanh', rng: 4 });
    const critic = mlp({ inputs: 14, hidden: [32, 32], outputs: 1, rng: 5 });
    const s = randomMatrix(16, 11, 6);
    const concat = new Concat();
    actor.zeroGrad();
    critic.zeroGrad();
    const q = critic.forward(concat.forward(s, actor.forward(s)));
    const dq = new Matrix(16, 1).fill(-1 / 16);
    concat.backward(critic.backwardInput(dq));
    actor.backwardParams(concat.gradRight!.clone());
    for (const p of critic.params())
      assert.ok(
        p.grad.every((v) => v === 0),
        'critic grads must stay zero',
      );
    const ta = toTf(actor);
    const tc = toTf(critic);
    const st = asTensor(s);
    const avars = ta.flatMap((l) => [l.w, l.b]);
    const loss = () =>
      tf.neg(
        tf.mean(tfForward(tf.concat([st, tfForward(st, ta, 'relu', 'tanh')], 1), tc, 'relu', 'none')),
      ) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, avars);
    assert.ok(Math.abs(-q.data.reduce((a, b) => a + b, 0) / 16 - value.dataSync()[0]!) < 1e-5);
    actor.params().forEach((p, i) => {
      const g = grads[avars[i]!.name]!;
      const ref = p.shape.length === 2 ? kernelAsTorch(g) : g.dataSync();
      const e = relativeError(p.grad, ref);
      assert.ok(e <= TOL, `actor ${p.name} gradient differs (relative error ${e})`);
    });
    tf.dispose([st, value, ...Object.values(grads), ...avars, ...tc.flatMap((l) => [l.w, l.b])]);
  });

  it('MLP with LayerNorm: forward, input and parameter gradients match tf.moments-based layer norm', () => {
    const net = mlp({ inputs: 9, hidden: [40, 24], outputs: 1, layerNorm: true, rng: 30 });
    // Non-trivial LayerNorm weights and biases, so their gradients are exercised with real values.
    const norms = net.layers.filter((l) => l.constructor.name === 'LayerNorm');
    norms.forEach((l, k) => {
      const [w, b] = l.params();
      w!.value.set(randomMatrix(1, w!.value.length, 31 + k).data.map((v) => 1 + 0.3 * v));
      b!.value.set(randomMatrix(1, b!.value.length, 41 + k, 0.2).data);
    });
    const x = randomMatrix(24, 9, 32, 3);
    const r = randomMatrix(24, 1, 33);
    const tensors = net.params().map((p) => {
      const t =
        p.shape.length === 2
          ? tf.tensor2d(p.value.slice(), p.shape as [number, number]).transpose()
          : tf.tensor1d(p.value.slice());
      return tf.variable(t);
    });
    // Per hidden layer: Linear (w, b), then LayerNorm (gamma, beta), then ReLU; a final Linear.
    const forward = (xIn: tf.Tensor, ws: tf.Tensor[]) => {
      let h = xIn as tf.Tensor2D;
      for (let i = 0; i + 4 < ws.length; i += 4) {
        h = tf.add(tf.matMul(h, ws[i] as tf.Tensor2D), ws[i + 1]!);
        const { mean, variance } = tf.moments(h, 1, true);
        h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), ws[i + 2]!), ws[i + 3]!);
        h = tf.relu(h);
      }
      const n = ws.length;
      return tf.add(tf.matMul(h, ws[n - 2] as tf.Tensor2D), ws[n - 1]!);
    };
    const xt = asTensor(x);
    const rt = asTensor(r);
    const out = net.forward(x);
    const tfOut = forward(xt, tensors);
    assert.ok(relativeError(out.data, tfOut.dataSync()) <= TOL, 'forward outputs differ');
    net.zeroGrad();
    const dx = net.backward(r);
    const grads = tf.grads((xIn: tf.Tensor, ...ws: tf.Tensor[]) => tf.sum(tf.mul(forward(xIn, ws), rt)))([
      xt,
      ...tensors,
    ]);
    assert.ok(relativeError(dx.data, grads[0]!.dataSync()) <= TOL, 'input gradients differ');
    net.params().forEach((p, i) => {
      const g = grads[i + 1]!;
      const e = relativeError(p.grad, p.shape.length === 2 ? kernelAsTorch(g) : g.dataSync());
      assert.ok(e <= TOL, `${p.name} gradient differs (relative error ${e})`);
    });
    tf.dispose([xt, rt, tfOut, ...grads, ...tensors]);
  });

  it('10 Adam steps (lr 1e-3, betas 0.9/0.999, eps 1e-8) give the same weights', () => {
    const net = mlp({ inputs: 6, hidden: [32, 32], outputs: 2, rng: 7 });
    const x = randomMatrix(64, 6, 8);
    const y = randomMatrix(64, 2, 9);
    const tfl = toTf(net);
    const vars = tfl.flatMap((l) => [l.w, l.b]);
    const xt = asTensor(x);
    const yt = asTensor(y);
    const opt = new Adam(net.params());
    const tfOpt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    const g = new Matrix(64, 2);
    for (let step = 0; step < 10; step++) {
      opt.zeroGrad();
      mseLoss(net.forward(x), y, g);
      net.backward(g);
      opt.step();
      tf.tidy(() => {
        tfOpt.minimize(
          () => tf.losses.meanSquaredError(yt, tfForward(xt, tfl, 'relu', 'none')) as tf.Scalar,
          false,
          vars,
        );
      });
    }
    assert.equal(opt.stepCount, 10);
    net.params().forEach((p, i) => {
      const v = vars[i]!;
      const ref = p.shape.length === 2 ? kernelAsTorch(v) : v.dataSync();
      const e = relativeError(p.value, ref);
      assert.ok(e <= TOL, `${p.name} differs after 10 Adam steps (relative error ${e})`);
    });
    // And the weights did move (the comparison is not trivially between initial weights).
    const init = mlp({ inputs: 6, hidden: [32, 32], outputs: 2, rng: 7 });
    assert.ok(relativeError(net.params()[0]!.value, init.params()[0]!.value) > 1e-3);
    tfOpt.dispose();
    tf.dispose([xt, yt, ...vars]);
  });
});
