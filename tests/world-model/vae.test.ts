// The VAE world model's loss terms, gradient and transition modes on tiny networks, against hand-computed
// values and an independent float64 re-implementation (tests/world-model/reference.ts).
import assert from 'node:assert/strict';
import { Matrix, NnRng } from '../../lib/nn/index.ts';
import { type TransitionMode, Vae, type VaeConfigInput, type VaeNoise } from '../../lib/world-model/vae.ts';
import { encode, params64, refLoss, refPredict, rowsOf, sample } from './reference.ts';

function randomMatrix(rows: number, cols: number, rng: NnRng, scale = 1): Matrix {
  const m = new Matrix(rows, cols);
  rng.fillNormal(m.data, 0, scale);
  return m;
}

const TINY: VaeConfigInput = {
  obsDim: 3,
  actDim: 2,
  latentDim: 2,
  encoderHidden: [5, 4],
  decoderHidden: [5],
  transitionHidden: [5, 3],
};

function tinySetup(mode: TransitionMode, seed = 7, rows = 6) {
  const vae = new Vae({ ...TINY, transitionMode: mode }, seed);
  const rng = new NnRng(seed + 100);
  const batch = {
    states: randomMatrix(rows, 3, rng),
    actions: randomMatrix(rows, 2, rng, 0.5),
    nextStates: randomMatrix(rows, 3, rng),
  };
  const noise: VaeNoise = { eps: randomMatrix(rows, 2, rng), epsTarget: randomMatrix(rows, 2, rng) };
  return { vae, batch, noise };
}

function relClose(actual: number, expected: number, rtol: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
  assert.ok(
    err <= rtol,
    `${what}: ${actual} vs ${expected} (relative error ${err.toExponential(2)} > ${rtol})`,
  );
}

describe('world model VAE: loss terms', () => {
  it('match hand-computed values when every weight is zero (each part outputs its bias)', () => {
    const vae = new Vae({ ...TINY, transitionMode: 'delta', encoderHidden: [3], transitionHidden: [3] }, 1);
    for (const p of vae.params()) p.value.fill(0);
    const bias = (name: string, values: number[]) => {
      const p = vae.params().find((q) => q.name === name);
      assert.ok(p !== undefined, name);
      p.value.set(values);
    };
    const mu = [0.5, -1];
    const lv = [Math.log(4), 0]; // σ = 2, 1
    const c = [1, 2, 3]; // decoder output for every z
    const dz = [0.25, -0.5]; // transition output Δz
    bias('encoder.mean.layers.0.bias', mu);
    bias('encoder.log_var.layers.0.bias', lv);
    bias('decoder.layers.2.bias', c);
    bias('transition.layers.2.bias', dz);
    const s = Matrix.from(2, 3, [1, 2, 4, 0, 2, 3]);
    const s2 = Matrix.from(2, 3, [2, 2, 3, 1, 1, 1]);
    const a = Matrix.from(2, 2, [0.3, -0.3, 0.1, 0.9]);
    const eps = Matrix.from(2, 2, [1, 0, -0.5, 2]);
    const epsTarget = Matrix.from(2, 2, [0, 1, 1, -1]);
    const t = vae.lossAndGrad({ states: s, actions: a, nextStates: s2 }, 4, { eps, epsTarget });

    // recon: decoder outputs c for every row: ((0+0+1) + (1+0+0)) / 6
    assert.ok(Math.abs(t.recon - 2 / 6) < 1e-7, `recon ${t.recon}`);
    // KL per row: -0.5 Σ_j (1 + lv_j - mu_j² - e^{lv_j}) = -0.5 [(1 + ln4 - 0.25 - 4) + (1 + 0 - 1 - 1)]
    const klRow = -0.5 * (1 + Math.log(4) - 0.25 - 4 + (1 + 0 - 1 - 1));
    assert.ok(Math.abs(t.kl - klRow) < 1e-6, `kl ${t.kl} vs ${klRow}`);
    // next: ((1+0+0) + (0+1+4)) / 6
    assert.ok(Math.abs(t.nextRecon - 6 / 6) < 1e-7, `nextRecon ${t.nextRecon}`);
    // z = mu + σ ε: row0 (2.5, -1), row1 (-0.5, 1); z' = z + Δz: (2.75, -1.5), (-0.25, 0.5)
    // z̃' = mu + σ ε̃: row0 (0.5, 0), row1 (2.5, -2)
    const lat = ((2.75 - 0.5) ** 2 + (-1.5 - 0) ** 2 + (-0.25 - 2.5) ** 2 + (0.5 + 2) ** 2) / 4;
    assert.ok(Math.abs(t.latent - lat) < 1e-6, `latent ${t.latent} vs ${lat}`);
    const total = 2 / 6 + klRow / 4 + 10 * 1 + lat;
    assert.ok(Math.abs(t.total - total) < 1e-5, `total ${t.total} vs ${total}`);
  });

  for (const mode of ['delta', 'direct'] as const) {
    it(`match a float64 re-implementation on random weights (${mode})`, () => {
      const { vae, batch, noise } = tinySetup(mode);
      const p = params64(vae);
      const c = vae.config;
      const s2 = rowsOf(batch.nextStates);
      const target = encode(p, c, s2);
      const ref = refLoss(
        p,
        c,
        {
          s: rowsOf(batch.states),
          a: rowsOf(batch.actions),
          s2,
          eps: rowsOf(noise.eps),
          zTarget: sample(target.mean, target.logVar, rowsOf(noise.epsTarget)),
        },
        3,
      );
      vae.zeroGrad();
      const got = vae.lossAndGrad(batch, 3, noise);
      for (const k of ['recon', 'kl', 'nextRecon', 'latent', 'total'] as const)
        relClose(got[k], ref[k], 1e-5, k);
    });
  }

  it('the weights default to the paper: 1 · recon + β/minibatches · KL + 10 · next + 1 · latent', () => {
    const { vae, batch, noise } = tinySetup('delta');
    const t = vae.lossAndGrad(batch, 5, noise);
    relClose(t.total, t.recon + t.kl / 5 + 10 * t.nextRecon + t.latent, 1e-12, 'total');
    const weighted = new Vae(
      { ...TINY, reconWeight: 2, klWeight: 3, nextReconWeight: 0.5, latentWeight: 4 },
      7,
    );
    const u = weighted.lossAndGrad(batch, 5, noise);
    relClose(
      u.total,
      2 * u.recon + (3 / 5) * u.kl + 0.5 * u.nextRecon + 4 * u.latent,
      1e-12,
      'weighted total',
    );
  });
});

describe('world model VAE: gradient of the full loss', () => {
  // Central differences of the float64 reference (h = 1e-6) with ε, ε̃ fixed and the stop-gradient
  // target held at its unperturbed value, against the float32 analytic gradient.
  for (const mode of ['delta', 'direct'] as const) {
    it(`agrees with finite differences for every parameter (${mode}, non-unit weights)`, () => {
      const { vae, batch, noise } = tinySetup(mode, 11, 5);
      const weights = { reconWeight: 1.5, klWeight: 0.7, nextReconWeight: 10, latentWeight: 2 };
      Object.assign(vae.config, weights);
      const minibatches = 3;
      vae.zeroGrad();
      vae.lossAndGrad(batch, minibatches, noise);

      const p = params64(vae);
      const c = vae.config;
      const s2 = rowsOf(batch.nextStates);
      const tgt = encode(p, c, s2);
      const refBatch = {
        s: rowsOf(batch.states),
        a: rowsOf(batch.actions),
        s2,
        eps: rowsOf(noise.eps),
        zTarget: sample(tgt.mean, tgt.logVar, rowsOf(noise.epsTarget)),
      };
      const h = 1e-6;
      let checked = 0;
      for (const param of vae.params()) {
        const v = p.get(param.name)!;
        let num = 0;
        let den = 0;
        for (let i = 0; i < v.length; i++) {
          const orig = v[i]!;
          v[i] = orig + h;
          const up = refLoss(p, c, refBatch, minibatches).total;
          v[i] = orig - h;
          const down = refLoss(p, c, refBatch, minibatches).total;
          v[i] = orig;
          const numeric = (up - down) / (2 * h);
          const analytic = param.grad[i]!;
          assert.ok(
            Math.abs(analytic - numeric) <= 1e-4 + 1e-3 * Math.abs(numeric),
            `${param.name}[${i}]: analytic ${analytic} vs numeric ${numeric}`,
          );
          num += (analytic - numeric) ** 2;
          den += numeric ** 2;
          checked++;
        }
        if (den > 1e-12)
          assert.ok(Math.sqrt(num / den) < 1e-3, `${param.name}: relative error ${Math.sqrt(num / den)}`);
      }
      assert.equal(checked, 148); // every parameter of the tiny model
    });
  }

  it('accumulates into existing gradients (the caller zeroes them)', () => {
    const { vae, batch, noise } = tinySetup('delta');
    vae.zeroGrad();
    vae.lossAndGrad(batch, 1, noise);
    const once = vae.params().map((p) => p.grad.slice());
    vae.lossAndGrad(batch, 1, noise);
    vae.params().forEach((p, k) => {
      for (let i = 0; i < p.grad.length; i++) {
        assert.ok(Math.abs(p.grad[i]! - 2 * once[k]![i]!) <= 1e-5 * (1 + Math.abs(once[k]![i]!)), p.name);
      }
    });
  });
});

describe('world model VAE: Δz versus direct transition', () => {
  it('same weights, different prediction: delta decodes z + T(z, a), direct decodes T(z, a)', () => {
    const rng = new NnRng(3);
    const s = randomMatrix(4, 3, rng);
    const a = randomMatrix(4, 2, rng);
    const preds: Float32Array[] = [];
    for (const mode of ['delta', 'direct'] as const) {
      const vae = new Vae({ ...TINY, transitionMode: mode }, 21);
      const out = vae.predictNormalized(s, a, true, new Matrix(4, 3));
      const ref = refPredict(params64(vae), vae.config, rowsOf(s), rowsOf(a));
      ref.forEach((row, i) => {
        row.forEach((v, j) => {
          assert.ok(Math.abs(out.get(i, j) - v) < 1e-5, `${mode} [${i},${j}]: ${out.get(i, j)} vs ${v}`);
        });
      });
      preds.push(out.data.slice());
    }
    assert.notDeepEqual(preds[0], preds[1]);
  });

  it('stochastic prediction samples z (reproducible from the noise seed), deterministic uses the mean', () => {
    const rng = new NnRng(4);
    const s = randomMatrix(8, 3, rng);
    const a = randomMatrix(8, 2, rng);
    const vae = new Vae(TINY, 5);
    const det1 = vae.predictNormalized(s, a, true, new Matrix(8, 3)).data.slice();
    vae.noiseRng = new NnRng(9);
    const sto1 = vae.predictNormalized(s, a, false, new Matrix(8, 3)).data.slice();
    const sto2 = vae.predictNormalized(s, a, false, new Matrix(8, 3)).data.slice();
    vae.noiseRng = new NnRng(9);
    const sto3 = vae.predictNormalized(s, a, false, new Matrix(8, 3)).data.slice();
    const det2 = vae.predictNormalized(s, a, true, new Matrix(8, 3)).data.slice();
    assert.deepEqual(det1, det2);
    assert.deepEqual(sto1, sto3);
    assert.notDeepEqual(sto1, sto2);
    assert.notDeepEqual(sto1, det1);
  });
});

describe('world model VAE: configuration and inputs', () => {
  it('defaults to the paper architecture', () => {
    const vae = new Vae({ obsDim: 11, actDim: 3 }, 0);
    const shapes = Object.fromEntries(vae.params().map((p) => [p.name, p.shape.join('x')]));
    assert.equal(shapes['encoder.trunk.layers.0.weight'], '500x11');
    assert.equal(shapes['encoder.trunk.layers.4.weight'], '500x500');
    assert.equal(shapes['encoder.mean.layers.0.weight'], '12x500');
    assert.equal(shapes['encoder.log_var.layers.0.weight'], '12x500');
    assert.equal(shapes['decoder.layers.0.weight'], '500x12');
    assert.equal(shapes['decoder.layers.6.weight'], '11x500');
    assert.equal(shapes['transition.layers.0.weight'], '300x15');
    assert.equal(shapes['transition.layers.2.weight'], '600x300');
    assert.equal(shapes['transition.layers.6.weight'], '12x300');
    assert.equal(vae.config.transitionMode, 'delta');
  });

  it('rejects invalid configurations and mis-shaped batches with what was wrong', () => {
    assert.throws(() => new Vae({ obsDim: 0, actDim: 3 }, 0), /obsDim must be a positive integer/);
    assert.throws(() => new Vae({ obsDim: 3, actDim: 3, latentDim: 2.5 }, 0), /latentDim/);
    assert.throws(() => new Vae({ obsDim: 3, actDim: 3, encoderHidden: [] }, 0), /encoderHidden/);
    assert.throws(
      () => new Vae({ obsDim: 3, actDim: 3, transitionMode: 'sideways' as TransitionMode }, 0),
      /transitionMode/,
    );
    assert.throws(() => new Vae({ obsDim: 3, actDim: 3, klWeight: -1 }, 0), /klWeight/);
    const { vae, batch, noise } = tinySetup('delta');
    assert.throws(
      () => vae.lossAndGrad({ ...batch, actions: new Matrix(batch.actions.rows, 3) }, 1, noise),
      /actions is 6x3, expected 6x2/,
    );
    assert.throws(() => vae.lossAndGrad(batch, 0, noise), /minibatchesPerEpoch/);
    assert.throws(
      () => vae.lossAndGrad(batch, 1, { eps: new Matrix(5, 2), epsTarget: noise.epsTarget }),
      /noise.eps is 5x2/,
    );
  });
});
