// TD3 (Fujimoto et al. 2018) and TD3+BC (Fujimoto & Gu 2021) in one agent: with `bcAlpha` set, the
// actor loss is TD3+BC's  −λ·mean Q1(s, π(s)) + mean (π(s) − a)²  with λ = α / mean|Q1(s, π(s))|;
// without it, TD3's  −mean Q1(s, π(s)). Everything else is shared, so the offline agent hands its
// actor, critics, targets and optimiser states to online fine-tuning unchanged.
//
// One update (read top to bottom in `update`):
//   1. target  y = r + γ·(1 − terminated)·min(Q1', Q2')(s', clip(π'(s') + clip(N(0, σ), −c, c), ±max))
//   2. critic  minimise MSE(Q1(s, a), y) + MSE(Q2(s, a), y)              (every update)
//   3. actor   minimise the loss above through Q1 into π                   (every `policyFreq` updates)
//   4. Polyak  θ' ← τ·θ + (1 − τ)·θ' for the actor and both critics        (with the actor)
// States are standardised by the agent's normaliser (the dataset's mean and std for TD3+BC, identity
// for TD3 from scratch), the same in training, acting and evaluation.
import { z } from 'zod';
import { deriveSeed, Rng } from '../envs/rng.ts';
import {
  Adam,
  Concat,
  copyParams,
  Matrix,
  ModuleGroup,
  meanLoss,
  mlp,
  mseLoss,
  NnRng,
  type Sequential,
  softUpdate,
} from '../nn/index.ts';
import { ObsNormalizer } from './normalizer.ts';
import type { TransitionBatch } from './replay-buffer.ts';

/** The discount of every agent here (the paper's); files drawn for an agent's diagnostics record it. */
export const TD3_DEFAULT_GAMMA = 0.99;

export const td3ConfigSchema = z.strictObject({
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
  /** Actions lie in [−maxAction, maxAction] in every dimension (true of all our MuJoCo envs). */
  maxAction: z.number().positive(),
  hidden: z.array(z.number().int().positive()).min(1).default([256, 256]),
  actorLr: z.number().positive().default(3e-4),
  criticLr: z.number().positive().default(3e-4),
  gamma: z.number().min(0).max(1).default(TD3_DEFAULT_GAMMA),
  tau: z.number().min(0).max(1).default(0.005),
  /** Target policy smoothing noise std and clip, as fractions of maxAction. */
  policyNoise: z.number().nonnegative().default(0.2),
  noiseClip: z.number().nonnegative().default(0.5),
  policyFreq: z.number().int().positive().default(2),
  /**
   * LayerNorm after each hidden layer of the critics (not the paper's: an option that Yue et al. 2023
   * found to stop offline Q-value divergence on small datasets). Default off.
   */
  criticLayerNorm: z.boolean().default(false),
  /** TD3+BC's α; absent for plain TD3. */
  bcAlpha: z.number().positive().optional(),
  seed: z.number().int().nonnegative(),
});

export type Td3Config = z.input<typeof td3ConfigSchema>;
type Td3Settings = z.output<typeof td3ConfigSchema>;

export interface Td3UpdateMetrics {
  criticLoss: number;
  /** Mean of Q1(s, a) over the batch. */
  q1Mean: number;
  /** Present on updates that trained the actor. */
  actorLoss?: number;
  /** TD3+BC's λ and BC term, on actor updates. */
  lambda?: number;
  bcLoss?: number;
}

export class Td3Agent {
  readonly config: Td3Settings;
  readonly normalizer: ObsNormalizer;
  readonly actor: Sequential;
  readonly actorTarget: Sequential;
  readonly q1: Sequential;
  readonly q2: Sequential;
  readonly q1Target: Sequential;
  readonly q2Target: Sequential;
  readonly critics: ModuleGroup;
  readonly actorOpt: Adam;
  readonly criticOpt: Adam;
  /** Critic updates done so far (the actor trains when this is a multiple of policyFreq). */
  updates = 0;
  /** Target-policy smoothing noise; its state is saved in checkpoints so training resumes exactly. */
  readonly noiseRng: Rng;
  private readonly bufs = new Map<number, UpdateBuffers>();
  private readonly actObs: Matrix;

  constructor(config: Td3Config, normalizer?: ObsNormalizer) {
    const parsed = td3ConfigSchema.safeParse(config);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
      throw new Error(`invalid TD3 config: ${problems.join('; ')}`);
    }
    const c = parsed.data;
    this.config = c;
    this.normalizer = normalizer ?? ObsNormalizer.identity(c.obsDim);
    if (this.normalizer.dim !== c.obsDim) {
      throw new Error(`TD3: normaliser has dimension ${this.normalizer.dim}, obsDim is ${c.obsDim}`);
    }
    // One generator for initialisation and one, derived from the same seed, for the smoothing noise.
    const rng = new NnRng(c.seed);
    const actorNet = () =>
      mlp({
        inputs: c.obsDim,
        hidden: c.hidden,
        outputs: c.actDim,
        outputActivation: 'tanh',
        outputScale: c.maxAction,
        rng,
      });
    const criticNet = () =>
      mlp({ inputs: c.obsDim + c.actDim, hidden: c.hidden, outputs: 1, layerNorm: c.criticLayerNorm, rng });
    this.actor = actorNet();
    this.q1 = criticNet();
    this.q2 = criticNet();
    this.actorTarget = actorNet();
    this.q1Target = criticNet();
    this.q2Target = criticNet();
    copyParams(this.actorTarget, this.actor);
    copyParams(this.q1Target, this.q1);
    copyParams(this.q2Target, this.q2);
    this.critics = new ModuleGroup({ q1: this.q1, q2: this.q2 });
    this.actorOpt = new Adam(this.actor.params(), { lr: c.actorLr });
    this.criticOpt = new Adam(this.critics.params(), { lr: c.criticLr });
    this.noiseRng = new Rng(deriveSeed(c.seed, 1));
    this.actObs = new Matrix(1, c.obsDim);
  }

  /**
   * The online TD3 agent that fine-tunes a pre-trained one (the paper's phase 3): same hyperparameters
   * without the BC term, the pre-trained normaliser, and, for each part asked for, the pre-trained
   * networks, their targets and their optimiser states; the other part starts fresh from `seed` (the
   * actor-only / critic-only ablations).
   */
  static fineTuneFrom(
    pretrained: Td3Agent,
    parts: { actor: boolean; critic: boolean },
    seed: number,
  ): Td3Agent {
    const { bcAlpha: _dropped, ...rest } = pretrained.config;
    const agent = new Td3Agent({ ...rest, seed }, pretrained.normalizer);
    if (parts.actor) {
      copyParams(agent.actor, pretrained.actor);
      copyParams(agent.actorTarget, pretrained.actorTarget);
      copyAdamState(agent.actorOpt, pretrained.actorOpt);
    }
    if (parts.critic) {
      copyParams(agent.q1, pretrained.q1);
      copyParams(agent.q2, pretrained.q2);
      copyParams(agent.q1Target, pretrained.q1Target);
      copyParams(agent.q2Target, pretrained.q2Target);
      copyAdamState(agent.criticOpt, pretrained.criticOpt);
    }
    return agent;
  }

  /** One TD3 / TD3+BC update on a batch of raw transitions. */
  update(batch: TransitionBatch): Td3UpdateMetrics {
    const c = this.config;
    const b = this.buffers(batch.size);
    this.normalizer.normalizeInto(batch.obs, b.obs.data);
    this.normalizer.normalizeInto(batch.nextObs, b.nextObs.data);
    b.action.data.set(batch.actions);
    this.updates++;

    // 1. Target: r + γ (1 − terminated) min(Q1', Q2')(s', π'(s') + clipped noise).
    const nextAction = this.actorTarget.predict(b.nextObs);
    const na = nextAction.data;
    const sigma = c.policyNoise * c.maxAction;
    const clipAt = c.noiseClip * c.maxAction;
    for (let i = 0; i < na.length; i++) {
      const noise = Math.min(clipAt, Math.max(-clipAt, sigma * this.noiseRng.normal()));
      na[i] = Math.min(c.maxAction, Math.max(-c.maxAction, na[i]! + noise));
    }
    const nextSa = b.concatNext.forward(b.nextObs, nextAction);
    const tq1 = this.q1Target.predict(nextSa).data;
    const tq2 = this.q2Target.predict(nextSa).data;
    const y = b.target.data;
    for (let i = 0; i < y.length; i++) {
      y[i] = batch.rewards[i]! + (1 - batch.terminated[i]!) * c.gamma * Math.min(tq1[i]!, tq2[i]!);
    }

    // 2. Critics: MSE(Q1(s, a), y) + MSE(Q2(s, a), y) under one optimiser.
    this.criticOpt.zeroGrad();
    const sa = b.concat.forward(b.obs, b.action);
    const q1 = this.q1.forward(sa);
    let q1Mean = 0;
    for (let i = 0; i < q1.data.length; i++) q1Mean += q1.data[i]!;
    q1Mean /= q1.data.length;
    let criticLoss = mseLoss(q1, b.target, b.dq);
    this.q1.backwardParams(b.dq);
    criticLoss += mseLoss(this.q2.forward(sa), b.target, b.dq);
    this.q2.backwardParams(b.dq);
    this.criticOpt.step();

    if (this.updates % c.policyFreq !== 0) return { criticLoss, q1Mean };

    // 3. Actor: through Q1 into π; the critic's parameters get no gradient from this loss.
    this.actorOpt.zeroGrad();
    const pi = this.actor.forward(b.obs);
    const qPi = this.q1.forward(b.concatPi.forward(b.obs, pi));
    let lambda = 1;
    if (c.bcAlpha !== undefined) {
      let meanAbs = 0;
      for (let i = 0; i < qPi.data.length; i++) meanAbs += Math.abs(qPi.data[i]!);
      lambda = c.bcAlpha / (meanAbs / qPi.data.length); // λ is a constant: no gradient through it
    }
    let actorLoss = meanLoss(qPi, -lambda, b.dq);
    b.concatPi.backward(this.q1.backwardInput(b.dq));
    const dPi = b.dPi;
    dPi.copyFrom(b.concatPi.gradRight!);
    let bcLoss: number | undefined;
    if (c.bcAlpha !== undefined) {
      bcLoss = mseLoss(pi, b.action, b.dBc);
      actorLoss += bcLoss;
      for (let i = 0; i < dPi.data.length; i++) dPi.data[i] = dPi.data[i]! + b.dBc.data[i]!;
    }
    this.actor.backwardParams(dPi);
    this.actorOpt.step();

    // 4. Targets follow slowly.
    softUpdate(this.q1Target, this.q1, c.tau);
    softUpdate(this.q2Target, this.q2, c.tau);
    softUpdate(this.actorTarget, this.actor, c.tau);
    return bcLoss === undefined
      ? { criticLoss, q1Mean, actorLoss }
      : { criticLoss, q1Mean, actorLoss, lambda, bcLoss };
  }

  /** The deterministic action π(s) for one raw observation, written into `out`. */
  act(obs: ArrayLike<number>, out: Float32Array = new Float32Array(this.config.actDim)): Float32Array {
    if (obs.length !== this.config.obsDim) {
      throw new RangeError(`TD3.act: observation has length ${obs.length}, expected ${this.config.obsDim}`);
    }
    this.normalizer.normalizeInto(obs, this.actObs.data);
    out.set(this.actor.predict(this.actObs).data);
    return out;
  }

  /** Q1(s, a) and Q2(s, a) for raw states and actions (row-major), for critic diagnostics. */
  qValues(obs: Float32Array, actions: Float32Array, count: number): { q1: Float32Array; q2: Float32Array } {
    const b = this.buffers(count);
    this.normalizer.normalizeInto(obs, b.obs.data);
    b.action.data.set(actions);
    const sa = b.concat.forward(b.obs, b.action);
    return { q1: this.q1.predict(sa).data.slice(), q2: this.q2.predict(sa).data.slice() };
  }

  private buffers(rows: number): UpdateBuffers {
    let b = this.bufs.get(rows);
    if (b === undefined) {
      const { obsDim, actDim } = this.config;
      b = {
        obs: new Matrix(rows, obsDim),
        nextObs: new Matrix(rows, obsDim),
        action: new Matrix(rows, actDim),
        target: new Matrix(rows, 1),
        dq: new Matrix(rows, 1),
        dPi: new Matrix(rows, actDim),
        dBc: new Matrix(rows, actDim),
        concat: new Concat(),
        concatNext: new Concat(),
        concatPi: new Concat(),
      };
      this.bufs.set(rows, b);
    }
    return b;
  }
}

interface UpdateBuffers {
  obs: Matrix;
  nextObs: Matrix;
  action: Matrix;
  target: Matrix;
  dq: Matrix;
  dPi: Matrix;
  dBc: Matrix;
  concat: Concat;
  concatNext: Concat;
  concatPi: Concat;
}

function copyAdamState(target: Adam, source: Adam): void {
  target.stepCount = source.stepCount;
  for (let i = 0; i < source.expAvg.length; i++) {
    target.expAvg[i]!.set(source.expAvg[i]!);
    target.expAvgSq[i]!.set(source.expAvgSq[i]!);
  }
}
