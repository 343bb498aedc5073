// Critic diagnostics for the paper's overfitting analysis: the critic's Q(s, a) on dataset transitions
// next to their Monte-Carlo discounted returns, and the world model's effect on the critic target
// (Q(s', a') − Q(ŝ', a') against ‖s' − ŝ'‖², ŝ' the model's prediction).
import type { DatasetColumns } from '../data/dataset.ts';
import { Rng } from '../envs/rng.ts';
import type { WorldModel } from '../world-model/types.ts';
import type { Trajectory } from './evaluate.ts';
import { discountedReturns } from './returns.ts';
import type { Td3Agent } from './td3.ts';

/** The dataset columns the diagnostics read (lib/data's OfflineDataset has them all). */
export type EpisodeColumns = Pick<
  DatasetColumns,
  | 'obsDim'
  | 'actDim'
  | 'observations'
  | 'actions'
  | 'rewards'
  | 'nextObservations'
  | 'terminals'
  | 'episodeEnds'
>;

export interface MonteCarloTargets {
  returns: Float32Array;
  /** 1 for rows of episodes that terminated (their return is exact), 0 for truncated or cut ones. */
  complete: Uint8Array;
}

export function monteCarloTargets(data: EpisodeColumns, gamma: number): MonteCarloTargets {
  const n = data.rewards.length;
  const returns = new Float32Array(n);
  const complete = new Uint8Array(n);
  let start = 0;
  for (const end of data.episodeEnds) {
    const terminated = end > start && data.terminals[end - 1] === 1;
    const g = discountedReturns(data.rewards.subarray(start, end), gamma, terminated);
    returns.set(g.returns, start);
    complete.fill(terminated ? 1 : 0, start, end);
    start = end;
  }
  return { returns, complete };
}

export interface Distribution {
  mean: number;
  p05: number;
  p50: number;
  p95: number;
}

export interface CriticVsReturns {
  samples: number;
  q: Distribution;
  monteCarlo: Distribution;
  /** Q − G: positive means the critic overestimates. */
  overestimation: Distribution;
}

/** Q1(s, a) of the given dataset rows, with the dataset's own actions. */
function q1At(agent: Td3Agent, data: EpisodeColumns, rows: readonly number[]): Float32Array {
  const { obsDim, actDim } = data;
  const obs = new Float32Array(rows.length * obsDim);
  const actions = new Float32Array(rows.length * actDim);
  rows.forEach((r, k) => {
    obs.set(data.observations.subarray(r * obsDim, (r + 1) * obsDim), k * obsDim);
    actions.set(data.actions.subarray(r * actDim, (r + 1) * actDim), k * actDim);
  });
  return agent.qValues(obs, actions, rows.length).q1;
}

/** Q1 on `samples` rows drawn (seeded) from complete episodes, against their Monte-Carlo returns. */
export function criticVsReturns(
  agent: Td3Agent,
  data: EpisodeColumns,
  targets: MonteCarloTargets,
  samples: number,
  seed: number,
): CriticVsReturns {
  const candidates: number[] = [];
  for (let i = 0; i < targets.complete.length; i++) if (targets.complete[i] === 1) candidates.push(i);
  if (candidates.length === 0)
    throw new Error('criticVsReturns: no transition belongs to a terminated episode');
  const rng = new Rng(seed);
  const rows = Array.from(
    { length: samples },
    () => candidates[Math.floor(rng.nextDouble() * candidates.length)]!,
  );
  const q1 = q1At(agent, data, rows);
  const g = rows.map((r) => targets.returns[r]!);
  return {
    samples,
    q: distribution(Array.from(q1)),
    monteCarlo: distribution(g),
    overestimation: distribution(g.map((v, k) => q1[k]! - v)),
  };
}

/**
 * Q1(s_t, π(s_t)) along the policy's own evaluation episodes against their Monte-Carlo returns: the
 * on-policy half of the overfitting analysis. Steps of a terminated episode are exact; in an episode cut
 * by the time limit only steps with at least `horizon` steps left are used (the unseen tail weighs at most
 * γ^horizon of the value: 0.7% at γ = 0.99, horizon 500). Null when no step qualifies.
 */
export function onPolicyCriticVsReturns(
  agent: Td3Agent,
  trajectories: Trajectory[],
  gamma: number,
  horizon = 500,
): CriticVsReturns | null {
  const { obsDim, actDim } = agent.config;
  const q: number[] = [];
  const g: number[] = [];
  for (const t of trajectories) {
    const length = t.rewards.length;
    const usable = t.terminated ? length : Math.max(0, length - horizon);
    if (usable === 0) continue;
    const returns = discountedReturns(t.rewards, gamma, t.terminated).returns;
    const { q1 } = agent.qValues(
      t.obs.subarray(0, usable * obsDim),
      t.actions.subarray(0, usable * actDim),
      usable,
    );
    for (let k = 0; k < usable; k++) {
      q.push(q1[k]!);
      g.push(returns[k]!);
    }
  }
  if (q.length === 0) return null;
  return {
    samples: q.length,
    q: distribution(q),
    monteCarlo: distribution(g),
    overestimation: distribution(q.map((v, k) => v - g[k]!)),
  };
}

export interface TargetShift {
  /** Q1(s', π(s')) − Q1(ŝ', π(ŝ')) per sample, clipped to ±clip as in the paper's figure. */
  qDifference: Float32Array;
  /** ‖s' − ŝ'‖² per sample, in raw state units. */
  predictionError: Float32Array;
}

/** The paper's critic diagnostic on `count` dataset rows (seeded): how far the model moves the target. */
export async function targetShift(
  agent: Td3Agent,
  model: WorldModel,
  data: EpisodeColumns,
  count: number,
  seed: number,
  clip = 200,
): Promise<TargetShift> {
  const { obsDim, actDim } = data;
  const n = data.rewards.length;
  const rng = new Rng(seed);
  const obs = new Float32Array(count * obsDim);
  const act = new Float32Array(count * actDim);
  const next = new Float32Array(count * obsDim);
  for (let k = 0; k < count; k++) {
    const r = Math.floor(rng.nextDouble() * n);
    obs.set(data.observations.subarray(r * obsDim, (r + 1) * obsDim), k * obsDim);
    act.set(data.actions.subarray(r * actDim, (r + 1) * actDim), k * actDim);
    next.set(data.nextObservations.subarray(r * obsDim, (r + 1) * obsDim), k * obsDim);
  }
  const predicted = new Float32Array(count * obsDim);
  await model.predictNextStates(obs, act, count, predicted);
  const qReal = agent.qValues(next, policyActions(agent, next, count), count).q1;
  const qModel = agent.qValues(predicted, policyActions(agent, predicted, count), count).q1;
  const qDifference = new Float32Array(count);
  const predictionError = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    qDifference[k] = Math.max(-clip, Math.min(clip, qReal[k]! - qModel[k]!));
    let e = 0;
    for (let j = 0; j < obsDim; j++) e += (next[k * obsDim + j]! - predicted[k * obsDim + j]!) ** 2;
    predictionError[k] = e;
  }
  return { qDifference, predictionError };
}

function policyActions(agent: Td3Agent, states: Float32Array, count: number): Float32Array {
  const { obsDim, actDim } = agent.config;
  const out = new Float32Array(count * actDim);
  const a = new Float32Array(actDim);
  for (let k = 0; k < count; k++) {
    agent.act(states.subarray(k * obsDim, (k + 1) * obsDim), a);
    out.set(a, k * actDim);
  }
  return out;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return {
    mean: values.reduce((s, v) => s + v, 0) / values.length,
    p05: at(0.05),
    p50: at(0.5),
    p95: at(0.95),
  };
}

/** One side of the held-out check: the critic against Monte-Carlo returns on rows drawn from that side. */
export interface CriticSplit {
  /** Source rows on this side whose return is known (see criticTrainVsHeldOut). */
  eligible: number;
  /** Null when no row is eligible. */
  vsReturns: CriticVsReturns | null;
  /** Mean |Q − G| over the drawn rows (the bias's size whatever its sign, per row). */
  meanAbsError: number | null;
}

export interface CriticTrainVsHeldOut {
  train: CriticSplit;
  heldOut: CriticSplit;
}

/** The held-out check's defaults: rows drawn per side, and the steps a time-limited episode must have left. */
export const HELD_OUT_SAMPLES = 4096;
export const HELD_OUT_HORIZON = 500;

/** The held-out check's settings: rows drawn per side, and the horizon that makes a cut episode's G usable. */
export interface HeldOutCheckOptions {
  gamma: number;
  samples: number;
  seed: number;
  horizon?: number;
}

/** The rows drawn on one side of the held-out check, gathered: states, dataset actions and their G. */
export interface HeldOutCheckSide {
  /** Source rows on this side whose return is known (see drawHeldOutCheck). */
  eligible: number;
  /** Rows drawn (min(samples, eligible)). */
  count: number;
  observations: Float32Array;
  actions: Float32Array;
  returns: Float64Array;
}

/** What the held-out check evaluates the critic on. It does not depend on the agent, so it is drawn once. */
export interface HeldOutCheck {
  obsDim: number;
  actDim: number;
  train: HeldOutCheckSide;
  heldOut: HeldOutCheckSide;
}

/**
 * The rows of a small subset's whole source dataset on which the critic's Q1(s, a) is set against
 * Monte-Carlo returns, split into the rows the critic trained on and the rest: on the source, episodes are
 * whole, so G is known for every step of a terminated episode and, in one cut by the time limit, for steps
 * with at least `horizon` steps left (the unseen tail weighs at most γ^horizon). A critic that fits its
 * training rows but not the others from the same policies has overfitted them. Up to `samples` rows per
 * side, drawn without replacement.
 */
export function drawHeldOutCheck(
  source: EpisodeColumns,
  trainRows: Uint32Array,
  options: HeldOutCheckOptions,
): HeldOutCheck {
  const horizon = options.horizon ?? HELD_OUT_HORIZON;
  const n = source.rewards.length;
  const inTrain = new Uint8Array(n);
  for (const r of trainRows) {
    if (r >= n) throw new RangeError(`drawHeldOutCheck: training row ${r} is outside the ${n}-row source`);
    inTrain[r] = 1;
  }
  const returns = new Float64Array(n);
  const sides: [number[], number[]] = [[], []];
  let start = 0;
  for (const end of source.episodeEnds) {
    const terminated = end > start && source.terminals[end - 1] === 1;
    returns.set(
      discountedReturns(source.rewards.subarray(start, end), options.gamma, terminated).returns,
      start,
    );
    const usableEnd = terminated ? end : Math.max(start, end - horizon);
    for (let r = start; r < usableEnd; r++) sides[inTrain[r] === 1 ? 0 : 1].push(r);
    start = end;
  }
  const { obsDim, actDim } = source;
  const rng = new Rng(options.seed);
  const draw = (eligible: number[]): HeldOutCheckSide => {
    // Partial Fisher-Yates: the first `take` entries become a uniform draw without replacement.
    const rows = [...eligible];
    const take = Math.min(options.samples, rows.length);
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(rng.nextDouble() * (rows.length - i));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const side: HeldOutCheckSide = {
      eligible: eligible.length,
      count: take,
      observations: new Float32Array(take * obsDim),
      actions: new Float32Array(take * actDim),
      returns: new Float64Array(take),
    };
    for (let k = 0; k < take; k++) {
      const r = rows[k]!;
      side.observations.set(source.observations.subarray(r * obsDim, (r + 1) * obsDim), k * obsDim);
      side.actions.set(source.actions.subarray(r * actDim, (r + 1) * actDim), k * actDim);
      side.returns[k] = returns[r]!;
    }
    return side;
  };
  return { obsDim, actDim, train: draw(sides[0]), heldOut: draw(sides[1]) };
}

/** The critic on the held-out check's rows: Q1 against G on each side. */
export function criticOnHeldOutCheck(agent: Td3Agent, check: HeldOutCheck): CriticTrainVsHeldOut {
  const { obsDim, actDim } = agent.config;
  if (check.obsDim !== obsDim || check.actDim !== actDim) {
    throw new RangeError(
      `criticOnHeldOutCheck: check rows have obs/action dims ${check.obsDim}/${check.actDim}, the agent ${obsDim}/${actDim}`,
    );
  }
  const split = (side: HeldOutCheckSide): CriticSplit => {
    if (side.count === 0) return { eligible: side.eligible, vsReturns: null, meanAbsError: null };
    const q1 = agent.qValues(side.observations, side.actions, side.count).q1;
    const g = Array.from(side.returns);
    const errors = g.map((v, k) => q1[k]! - v);
    return {
      eligible: side.eligible,
      vsReturns: {
        samples: side.count,
        q: distribution(Array.from(q1)),
        monteCarlo: distribution(g),
        overestimation: distribution(errors),
      },
      meanAbsError: errors.reduce((s, e) => s + Math.abs(e), 0) / side.count,
    };
  };
  return { train: split(check.train), heldOut: split(check.heldOut) };
}

/** drawHeldOutCheck then criticOnHeldOutCheck: the check of one agent. */
export function criticTrainVsHeldOut(
  agent: Td3Agent,
  source: EpisodeColumns,
  trainRows: Uint32Array,
  options: HeldOutCheckOptions,
): CriticTrainVsHeldOut {
  return criticOnHeldOutCheck(agent, drawHeldOutCheck(source, trainRows, options));
}

/** Rows the offline diagnostics draw from the dataset (Q against returns, target shift). */
export const OFFLINE_DIAGNOSTIC_SAMPLES = 1024;

/** The critic log's row at an offline evaluation (o2o experiment's critic.jsonl, the learner's offline-critic.jsonl). */
export interface OfflineCriticDiagnostics {
  /** Q1 against Monte-Carlo returns on the dataset's terminal-ending episodes; null when it has none. */
  vsReturns: CriticVsReturns | null;
  /** The paper's target shift, when a world model augments. */
  targetShift: { qDifference: Distribution; predictionError: Distribution } | null;
  /** The held-out check, when its rows were drawn (a subset of a larger source). */
  heldOut: CriticTrainVsHeldOut | null;
}

/** The critic diagnostics of an offline evaluation; the draws are seeded by `seed`, the same at every evaluation. */
export async function offlineCriticDiagnostics(
  agent: Td3Agent,
  data: EpisodeColumns,
  inputs: {
    mc: MonteCarloTargets;
    seed: number;
    model?: WorldModel | undefined;
    heldOutCheck?: HeldOutCheck | undefined;
  },
): Promise<OfflineCriticDiagnostics> {
  const { mc, seed, model, heldOutCheck } = inputs;
  const vsReturns = mc.complete.includes(1)
    ? criticVsReturns(agent, data, mc, OFFLINE_DIAGNOSTIC_SAMPLES, seed)
    : null;
  let shift: OfflineCriticDiagnostics['targetShift'] = null;
  if (model !== undefined) {
    const t = await targetShift(agent, model, data, OFFLINE_DIAGNOSTIC_SAMPLES, seed);
    shift = {
      qDifference: distribution(Array.from(t.qDifference)),
      predictionError: distribution(Array.from(t.predictionError)),
    };
  }
  const heldOut = heldOutCheck === undefined ? null : criticOnHeldOutCheck(agent, heldOutCheck);
  return { vsReturns, targetShift: shift, heldOut };
}
