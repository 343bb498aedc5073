// Yardsticks for the world model's held-out one-step error: "the next state is the current state" and
// a linear model s' ≈ W·[s, a, 1] fitted by ridge-regularised least squares in float64. Errors are
// reported in raw state units and in the world model's standardised units.
import { gatherRows, type TransitionData } from './data.ts';
import type { StateNormalizer } from './normalizer.ts';
import type { WorldModel } from './types.ts';

export interface OneStepError {
  name: string;
  /** Mean over rows and state dimensions of (pred − s')². */
  mseRaw: number;
  /** The same after standardising both with the world model's statistics. */
  mseNormalized: number;
}

/** Accumulates raw and standardised squared errors of predictions against dataset next states. */
class ErrorAccumulator {
  private raw = 0;
  private norm = 0;
  private count = 0;
  constructor(private readonly scale: Float32Array) {}
  add(pred: ArrayLike<number>, target: ArrayLike<number>): void {
    const d = this.scale.length;
    for (let i = 0; i < target.length; i++) {
      const e = pred[i]! - target[i]!;
      this.raw += e * e;
      const en = e / this.scale[i % d]!;
      this.norm += en * en;
    }
    this.count += target.length;
  }
  result(name: string): OneStepError {
    if (this.count === 0) throw new RangeError(`${name}: no rows to evaluate`);
    return { name, mseRaw: this.raw / this.count, mseNormalized: this.norm / this.count };
  }
}

function scaleOf(normalizer: StateNormalizer): Float32Array {
  return Float32Array.from(normalizer.std, (s) => s + normalizer.eps);
}

/** Solves A x = b in place for symmetric positive definite A (n × n, row-major float64) by Cholesky. */
export function choleskySolve(a: Float64Array, n: number, bs: Float64Array[]): Float64Array[] {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0))
          throw new RangeError(`choleskySolve: matrix is not positive definite (pivot ${i} is ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  return bs.map((b) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[i]!;
      for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
      y[i] = s / l[i * n + i]!;
    }
    const x = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
      x[i] = s / l[i * n + i]!;
    }
    return x;
  });
}

/** s' ≈ W [s, a, 1], one coefficient vector per state dimension. */
export class LinearDynamics {
  private constructor(
    readonly obsDim: number,
    readonly actDim: number,
    /** obsDim vectors of obsDim + actDim + 1 coefficients. */
    readonly coefficients: Float64Array[],
  ) {}

  /** The model with given coefficients (as `coefficients` holds them), checking their shape and values. */
  static fromCoefficients(
    obsDim: number,
    actDim: number,
    coefficients: readonly ArrayLike<number>[],
  ): LinearDynamics {
    const f = obsDim + actDim + 1;
    if (coefficients.length !== obsDim)
      throw new RangeError(
        `LinearDynamics: ${coefficients.length} coefficient vectors for ${obsDim} state dims`,
      );
    return new LinearDynamics(
      obsDim,
      actDim,
      coefficients.map((w, k) => {
        if (w.length !== f)
          throw new RangeError(`LinearDynamics: vector ${k} has ${w.length} coefficients, not ${f}`);
        const v = Float64Array.from(w);
        const bad = v.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) throw new RangeError(`LinearDynamics: coefficient [${k}][${bad}] is ${v[bad]}`);
        return v;
      }),
    );
  }

  /**
   * Least squares on the listed rows via the normal equations (XᵀX + ridge·n·I) w = Xᵀy in float64;
   * the ridge keeps them solvable when a state dimension is constant.
   */
  static fit(data: TransitionData, rows: ArrayLike<number>, ridge = 1e-6): LinearDynamics {
    const { obsDim, actDim } = data;
    const f = obsDim + actDim + 1;
    const n = rows.length;
    if (n === 0) throw new RangeError('LinearDynamics.fit: no rows');
    const xtx = new Float64Array(f * f);
    const xty = Array.from({ length: obsDim }, () => new Float64Array(f));
    const x = new Float64Array(f);
    for (let r = 0; r < n; r++) {
      const i = rows[r]!;
      for (let j = 0; j < obsDim; j++) x[j] = data.observations[i * obsDim + j]!;
      for (let j = 0; j < actDim; j++) x[obsDim + j] = data.actions[i * actDim + j]!;
      x[f - 1] = 1;
      for (let p = 0; p < f; p++) {
        const xp = x[p]!;
        for (let q = 0; q <= p; q++) xtx[p * f + q]! += xp * x[q]!;
      }
      for (let k = 0; k < obsDim; k++) {
        const y = data.nextObservations[i * obsDim + k]!;
        const v = xty[k]!;
        for (let p = 0; p < f; p++) v[p]! += x[p]! * y;
      }
    }
    for (let p = 0; p < f; p++) {
      for (let q = 0; q < p; q++) xtx[q * f + p] = xtx[p * f + q]!;
      xtx[p * f + p]! += ridge * n;
    }
    return new LinearDynamics(obsDim, actDim, choleskySolve(xtx, f, xty));
  }

  /** Next states for `count` rows of states and actions (row-major), into out. */
  predict(
    states: ArrayLike<number>,
    actions: ArrayLike<number>,
    count: number,
    out: Float32Array,
  ): Float32Array {
    const { obsDim, actDim } = this;
    for (let r = 0; r < count; r++) {
      for (let k = 0; k < obsDim; k++) {
        const w = this.coefficients[k]!;
        let s = w[obsDim + actDim]!;
        for (let j = 0; j < obsDim; j++) s += w[j]! * states[r * obsDim + j]!;
        for (let j = 0; j < actDim; j++) s += w[obsDim + j]! * actions[r * actDim + j]!;
        out[r * obsDim + k] = s;
      }
    }
    return out;
  }
}

export interface CompareOptions {
  data: TransitionData;
  /** Rows fitted by the linear baseline (the world model's training rows). */
  trainRows: Int32Array;
  /** Rows evaluated (held out from both). */
  evalRows: Int32Array;
  normalizer: StateNormalizer;
  worldModel?: WorldModel;
  chunk?: number;
}

/** Held-out one-step errors of the world model (deterministic and stochastic) next to both baselines. */
export async function compareOneStep(o: CompareOptions): Promise<OneStepError[]> {
  const { data, evalRows } = o;
  const { obsDim, actDim } = data;
  const chunk = o.chunk ?? 4096;
  const scale = scaleOf(o.normalizer);
  const linear = LinearDynamics.fit(data, o.trainRows);
  const acc = {
    copy: new ErrorAccumulator(scale),
    linear: new ErrorAccumulator(scale),
    det: new ErrorAccumulator(scale),
    stoch: new ErrorAccumulator(scale),
  };
  for (let from = 0; from < evalRows.length; from += chunk) {
    const n = Math.min(chunk, evalRows.length - from);
    const s = gatherRows(data.observations, obsDim, evalRows, from, n, new Float32Array(n * obsDim));
    const a = gatherRows(data.actions, actDim, evalRows, from, n, new Float32Array(n * actDim));
    const target = gatherRows(data.nextObservations, obsDim, evalRows, from, n, new Float32Array(n * obsDim));
    const pred = new Float32Array(n * obsDim);
    acc.copy.add(s, target);
    acc.linear.add(linear.predict(s, a, n, pred), target);
    if (o.worldModel !== undefined) {
      await o.worldModel.predictNextStates(s, a, n, pred, { deterministic: true });
      acc.det.add(pred, target);
      await o.worldModel.predictNextStates(s, a, n, pred, { deterministic: false });
      acc.stoch.add(pred, target);
    }
  }
  const out = [acc.copy.result('copy state (s′ = s)'), acc.linear.result('linear least squares [s, a, 1]')];
  if (o.worldModel !== undefined) {
    const impl = o.worldModel.info.implementation;
    out.push(
      acc.det.result(`world model ${impl}, deterministic`),
      acc.stoch.result(`world model ${impl}, stochastic`),
    );
  }
  return out;
}

/** A plain-text table, with each error relative to the copy-state baseline. */
export function formatComparison(errors: readonly OneStepError[]): string {
  const base = errors[0];
  const width = Math.max(...errors.map((e) => e.name.length), 10);
  const lines = [
    `${'predictor'.padEnd(width)}  ${'MSE raw'.padStart(12)}  ${'MSE std.'.padStart(12)}  vs copy`,
  ];
  for (const e of errors) {
    const ratio = base === undefined ? 1 : e.mseNormalized / base.mseNormalized;
    lines.push(
      `${e.name.padEnd(width)}  ${e.mseRaw.toExponential(4).padStart(12)}  ${e.mseNormalized.toExponential(4).padStart(12)}  ${ratio.toFixed(3)}`,
    );
  }
  return lines.join('\n');
}
