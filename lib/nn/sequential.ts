// A chain of layers with PyTorch nn.Sequential parameter names (`layers.<index>.weight`, activations
// take indices too), plus the MLP builder used for actors, critics and the VAE's parts.
import { KernelActivation, type Layer, LayerNorm, Linear, type Param, ReLU, Scale, Tanh } from './layers.ts';
import { assertCols, Matrix } from './matrix.ts';
import { NnRng } from './rng.ts';

/** Anything owning parameters: what optimisers, Polyak updates and checkpoints work on. */
export interface Module {
  params(): Param[];
}

export class Sequential implements Module {
  readonly layers: readonly Layer[];
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly named: Param[];
  /** Per batch size: one output view per layer over two shared ping-pong arrays (inference only). */
  private readonly predictViews = new Map<number, Matrix[]>();
  private readonly widths: number[];
  /** fusedAct[i]: layer i is a Linear whose following activation runs inside its bias pass. */
  private readonly fusedAct: (KernelActivation | undefined)[];

  constructor(layers: Layer[]) {
    if (layers.length === 0) throw new RangeError('Sequential: needs at least one layer');
    const first = layers[0]!.inFeatures;
    if (first === undefined)
      throw new RangeError('Sequential: the first layer must have a fixed input width (Linear)');
    this.layers = layers;
    this.inFeatures = first;
    this.widths = [first];
    let w = first;
    layers.forEach((layer, i) => {
      try {
        w = layer.outputCols(w);
      } catch (e) {
        throw new RangeError(`Sequential: layer ${i} does not fit: ${(e as Error).message}`);
      }
      this.widths.push(w);
    });
    this.outFeatures = w;
    this.fusedAct = layers.map((layer, i) => {
      const next = layers[i + 1];
      return layer instanceof Linear && next instanceof KernelActivation ? next : undefined;
    });
    this.named = layers.flatMap((layer, i) =>
      layer
        .params()
        .map((p) => ({ name: `layers.${i}.${p.name}`, shape: p.shape, value: p.value, grad: p.grad })),
    );
  }

  /** Training forward: every layer keeps what backward needs. */
  forward(x: Matrix): Matrix {
    assertCols(x, this.inFeatures, 'Sequential.forward input');
    let h = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const act = this.fusedAct[i];
      if (act === undefined) {
        h = layers[i]!.forward(h);
      } else {
        h = act.adoptActivated((layers[i] as Linear).forwardWithActivation(h, act.code));
        i++;
      }
    }
    return h;
  }

  /**
   * Inference forward: keeps nothing and reuses two buffers for the whole chain. The result is valid
   * until the next predict with the same batch size; it does not disturb a pending backward.
   */
  predict(x: Matrix): Matrix {
    assertCols(x, this.inFeatures, 'Sequential.predict input');
    const views = this.predictBuffers(x.rows);
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const act = this.fusedAct[i];
      if (act === undefined) {
        this.layers[i]!.apply(h, views[i]!);
        h = views[i]!;
      } else {
        // The activation's view shares the Linear's array (elementwise layers work in place).
        (this.layers[i] as Linear).applyWithActivation(h, views[i + 1]!, act.code);
        h = views[i + 1]!;
        i++;
      }
    }
    return h;
  }

  /** Back-propagates dLoss/dOutput: accumulates parameter gradients and returns dLoss/dInput. */
  backward(dOut: Matrix): Matrix {
    return this.backwardImpl(dOut, true, true)!;
  }

  /** Parameter gradients only (skips the first layer's input gradient). */
  backwardParams(dOut: Matrix): void {
    this.backwardImpl(dOut, true, false);
  }

  /** dLoss/dInput only, leaving parameter gradients untouched (e.g. the critic in TD3's actor loss). */
  backwardInput(dOut: Matrix): Matrix {
    return this.backwardImpl(dOut, false, true)!;
  }

  params(): Param[] {
    return this.named;
  }

  zeroGrad(): void {
    for (const p of this.named) p.grad.fill(0);
  }

  private backwardImpl(dOut: Matrix, accumulateParams: boolean, wantInput: boolean): Matrix | null {
    assertCols(dOut, this.outFeatures, 'Sequential.backward dOut');
    let g: Matrix | null = dOut;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i]!.backward(g!, accumulateParams, wantInput || i > 0);
    }
    return g;
  }

  private predictBuffers(rows: number): Matrix[] {
    let views = this.predictViews.get(rows);
    if (views !== undefined) return views;
    const maxW = Math.max(...this.widths);
    const ping = [new Float32Array(rows * maxW), new Float32Array(rows * maxW)];
    views = [];
    let side = 0;
    for (let i = 0; i < this.layers.length; i++) {
      const w = this.widths[i + 1]!;
      // Elementwise layers work in place on the previous output (the caller's x is never written).
      if (!this.layers[i]!.elementwise) side = 1 - side;
      views.push(new Matrix(rows, w, ping[side]!.subarray(0, rows * w)));
    }
    this.predictViews.set(rows, views);
    return views;
  }
}

export type Activation = 'relu' | 'tanh';

export interface MlpOptions {
  inputs: number;
  hidden: readonly number[];
  outputs: number;
  /** Hidden activation (default relu). */
  activation?: Activation;
  /** Applied to the output layer (default none), e.g. tanh for a bounded actor. */
  outputActivation?: Activation | 'none';
  /** Multiplies the final output (after outputActivation), e.g. the action bound. */
  outputScale?: number;
  /** A seed or an NnRng to draw the PyTorch-default initialisation from. */
  rng: NnRng | number;
  /** LayerNorm after every hidden Linear, before its activation (default false). */
  layerNorm?: boolean;
}

function activationLayer(a: Activation): Layer {
  if (a === 'relu') return new ReLU();
  if (a === 'tanh') return new Tanh();
  throw new RangeError(`mlp: unknown activation '${a as string}'`);
}

/**
 * Linear [→ LayerNorm] → act → … → Linear [→ outputActivation] [→ Scale], initialised like PyTorch's
 * nn.Linear (LayerNorm: weight 1, bias 0).
 */
export function mlp(options: MlpOptions): Sequential {
  const rng = typeof options.rng === 'number' ? new NnRng(options.rng) : options.rng;
  const act = options.activation ?? 'relu';
  const layers: Layer[] = [];
  let w = options.inputs;
  for (const h of options.hidden) {
    layers.push(new Linear(w, h, rng));
    if (options.layerNorm === true) layers.push(new LayerNorm(h));
    layers.push(activationLayer(act));
    w = h;
  }
  layers.push(new Linear(w, options.outputs, rng));
  const outAct = options.outputActivation ?? 'none';
  if (outAct !== 'none') layers.push(activationLayer(outAct));
  if (options.outputScale !== undefined) layers.push(new Scale(options.outputScale));
  return new Sequential(layers);
}
