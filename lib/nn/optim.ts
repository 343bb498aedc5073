// Adam with PyTorch's semantics (torch.optim.Adam, non-amsgrad, L2 weight decay added to the gradient),
// gradient clipping like torch.nn.utils.clip_grad_norm_, and target-network updates.
import { kernels } from './gemm.ts';
import type { Param } from './layers.ts';
import type { Module } from './sequential.ts';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export class Adam {
  readonly params: readonly Param[];
  readonly hyper: AdamHyper;
  /** Completed steps (PyTorch keeps one per parameter; they are always equal here). */
  stepCount = 0;
  /** First and second moments, aligned with `params`. */
  readonly expAvg: Float32Array[];
  readonly expAvgSq: Float32Array[];

  constructor(params: readonly Param[], options: AdamOptions = {}) {
    const hyper: AdamHyper = {
      lr: options.lr ?? 1e-3,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
    };
    if (!(hyper.lr >= 0) || !Number.isFinite(hyper.lr)) throw new RangeError(`Adam: invalid lr ${hyper.lr}`);
    for (const k of ['beta1', 'beta2'] as const) {
      if (!(hyper[k] >= 0 && hyper[k] < 1))
        throw new RangeError(`Adam: ${k} must be in [0, 1), got ${hyper[k]}`);
    }
    if (!(hyper.eps >= 0)) throw new RangeError(`Adam: invalid eps ${hyper.eps}`);
    if (!(hyper.weightDecay >= 0)) throw new RangeError(`Adam: invalid weightDecay ${hyper.weightDecay}`);
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new RangeError(`Adam: duplicate parameter name '${p.name}'`);
      names.add(p.name);
    }
    this.params = params;
    this.hyper = hyper;
    this.expAvg = params.map((p) => new Float32Array(p.value.length));
    this.expAvgSq = params.map((p) => new Float32Array(p.value.length));
  }

  /** Sets the learning rate (schedules). */
  setLr(lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`Adam.setLr: invalid lr ${lr}`);
    this.hyper.lr = lr;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  step(): void {
    const { lr, beta1, beta2, eps, weightDecay } = this.hyper;
    this.stepCount += 1;
    const bc1 = 1 - beta1 ** this.stepCount;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.stepCount);
    const stepSize = lr / bc1;
    for (let pi = 0; pi < this.params.length; pi++) {
      const p = this.params[pi]!;
      kernels.adamUpdate(
        p.value,
        p.grad,
        this.expAvg[pi]!,
        this.expAvgSq[pi]!,
        p.value.length,
        stepSize,
        beta1,
        beta2,
        bc2Sqrt,
        eps,
        weightDecay,
      );
    }
  }
}

/** Global L2 norm of all gradients; when above maxNorm, scales them by maxNorm / (norm + 1e-6). */
export function clipGradNorm(params: readonly Param[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  let sq = 0;
  for (const p of params) for (let i = 0; i < p.grad.length; i++) sq += p.grad[i]! * p.grad[i]!;
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const p of params) for (let i = 0; i < p.grad.length; i++) p.grad[i] = p.grad[i]! * coef;
  return norm;
}

function pairParams(target: Module, source: Module, where: string): [Param[], Param[]] {
  const t = target.params();
  const s = source.params();
  if (t.length !== s.length)
    throw new RangeError(`${where}: target has ${t.length} tensors, source ${s.length}`);
  for (let i = 0; i < t.length; i++) {
    if (t[i]!.name !== s[i]!.name || t[i]!.value.length !== s[i]!.value.length) {
      throw new RangeError(
        `${where}: tensor ${i} differs (target ${t[i]!.name}[${t[i]!.shape}], source ${s[i]!.name}[${s[i]!.shape}])`,
      );
    }
  }
  return [t, s];
}

/** Polyak averaging: target <- tau * source + (1 - tau) * target. */
export function softUpdate(target: Module, source: Module, tau: number): void {
  if (!(tau >= 0 && tau <= 1)) throw new RangeError(`softUpdate: tau must be in [0, 1], got ${tau}`);
  const [t, s] = pairParams(target, source, 'softUpdate');
  for (let k = 0; k < t.length; k++) {
    kernels.lerp(t[k]!.value, s[k]!.value, t[k]!.value.length, tau);
  }
}

/** target <- source (e.g. initialising target networks as deep copies). */
export function copyParams(target: Module, source: Module): void {
  const [t, s] = pairParams(target, source, 'copyParams');
  for (let k = 0; k < t.length; k++) t[k]!.value.set(s[k]!.value);
}

export function zeroGrad(...modules: Module[]): void {
  for (const m of modules) for (const p of m.params()) p.grad.fill(0);
}
