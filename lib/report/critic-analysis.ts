// The critic analysis: during offline pre-training, Q against Monte-Carlo returns and the world model's
// target shift, with vs without augmentation (from the shared pre-trainings, else the runs' copies); during
// fine-tuning, on-policy overestimation of the main variants.
import {
  aggregateCurve,
  type CurvePoint,
  hashSeed,
  mainFirst,
  type ReportSettings,
  round,
} from './analysis-common.ts';
import {
  type Group,
  isMainVariant,
  isSweepOnly,
  keyOf,
  WORLD_MODEL_KINDS,
  type WorldModelKind,
} from './groups.ts';
import type { CriticRow, RunRecord } from './results.ts';
import { type Interval, iqm, iqmInterval, mean } from './stats.ts';

/** Which transitions Q − G is measured on, and so what it can show, for the page and the summary. */
/** Said in the critic section when some runs used LayerNorm critics. */
export const LAYER_NORM_NOTE =
  'Runs with LayerNorm critics (not the paper’s networks: the remedy Yue et al. 2023 found for offline ' +
  'Q-value divergence on small datasets) are left out of the tables and claims here; the “LayerNorm critics” ' +
  'figures set their fine-tuning beside the same variants with the paper’s networks.';

/** The critic section's opening note, with LAYER_NORM_NOTE when the results hold such runs. */
export function criticNote(a: { groups: readonly { criticLayerNorm: boolean }[] }): string {
  return a.groups.some((g) => g.criticLayerNorm) ? `${CRITIC_NOTE} ${LAYER_NORM_NOTE}` : CRITIC_NOTE;
}

export const CRITIC_NOTE =
  "Q − G is measured on 1,024 draws from the training subset's rows whose episode ends in a terminal inside " +
  "the subset, the only rows whose Monte-Carlo return G is exact. A subset drawn by transition (the grid's " +
  '10k rows of a 100k-280k dataset) keeps few whole episode tails: 30-136 such rows in the Hopper and ' +
  "Walker2d subsets of seeds 0 and 1, nearly all of them the step before a fall, where G is that step's " +
  'reward and the TD target is the reward alone. So Q − G shows whether the critic stays anchored where the ' +
  'data pins its value exactly (a diverging critic drifts off there too), not its error on states in ' +
  'general. The pooled claim divides |Q − G| by |G|, which both sides of a seed share, to put tasks on one scale.';

/** What the held-out check measures, for the page and the summary. */
export const CRITIC_HELD_OUT_NOTE =
  'The held-out check sets the final offline critic against Monte-Carlo returns on the whole source dataset ' +
  'the subset was drawn from, where episodes are whole: every step of a terminated episode, and of one cut ' +
  'by the time limit every step with 500 or more left (the unseen tail weighs at most 0.99^500, 0.7%). Up to ' +
  '4,096 rows are drawn from the rows the critic trained on and as many from the rest, which the same ' +
  'policies collected: a critic that fits the first but not the second has overfitted its rows; one off on ' +
  'both has values that do not match the data at all.';

export interface CriticSeries {
  augmented: boolean;
  augFraction: number;
  /** The augmenting model: the paper's VAE or a control ('vae' when not augmented). */
  worldModel: WorldModelKind;
  seeds: number[];
  /** Where the seeds' rows came from: shared pre-trainings, the runs' own copies, or both. */
  source: 'pretrained' | 'runs' | 'mixed';
  q: CurvePoint[];
  monteCarlo: CurvePoint[];
  overestimation: CurvePoint[];
  /** Overestimation (Q − G) at the last offline update, IQM over seeds. */
  finalOverestimation: Interval | null;
  /** Per seed that logged it, the means of Q − G and of G at its last logged offline update. */
  finalBySeed: { seed: number; overestimation: number; monteCarlo: number }[];
  /**
   * The held-out check of the final critic, per seed that has one (o2o experiment critic-check's file, else
   * the last logged row): mean |Q − G| and mean G on the whole source dataset, training rows and the rest.
   */
  heldOutBySeed: { seed: number; train: HeldOutSide; heldOut: HeldOutSide }[];
  /**
   * The same check logged at every offline evaluation (pre-trainings since it was added): mean |Q − G| on
   * training rows and on held-out rows, and the held-out rows' mean G, over updates; IQM over the seeds
   * that logged it.
   */
  heldOutCurve: { train: CurvePoint[]; heldOut: CurvePoint[]; monteCarlo: CurvePoint[] };
  /** IQM over those seeds of mean |Q − G|, each side, and of the held-out rows' mean G. */
  heldOutError: { train: Interval; heldOut: Interval; monteCarlo: number } | null;
  /** |Q(s', π(s')) − Q(ŝ', π(ŝ'))| and ‖s' − ŝ'‖² means at the last update (augmented series only). */
  finalTargetShift: { qDifference: number; predictionError: number } | null;
  /**
   * The paper's target-shift diagnostic over updates (augmented series): the within-batch 5th, 50th and
   * 95th percentiles of Q(s', π(s')) − Q(ŝ', π(ŝ')) and the mean ‖s' − ŝ'‖², each an IQM over seeds.
   */
  targetShift: { x: number; p05: number; p50: number; p95: number; error: number }[];
}

export interface HeldOutSide {
  absError: number;
  monteCarlo: number;
}

export interface OnlineCriticSeries {
  groupId: string;
  label: string;
  overestimation: CurvePoint[];
}

/**
 * The held-out check of the critic a record ends its pre-training with: a shared pre-training's
 * critic-held-out.json, else the last offline row that logged it (a fine-tuned run's rows are its own copy
 * of the pre-training it started from). Null when neither has both sides.
 */
export function heldOutCheckOf(r: RunRecord): { train: HeldOutSide; heldOut: HeldOutSide } | null {
  const h =
    r.heldOutCritic ??
    r.critic.filter((c): c is OfflineCriticRow => c.phase === 'offline').at(-1)?.heldOut ??
    undefined;
  if (h === undefined) return null;
  const side = (x: typeof h.train): HeldOutSide | null =>
    x.meanAbsError === null || x.vsReturns === null
      ? null
      : { absError: x.meanAbsError, monteCarlo: x.vsReturns.monteCarlo.mean };
  const train = side(h.train);
  const heldOut = side(h.heldOut);
  return train && heldOut ? { train, heldOut } : null;
}

export interface CriticAnalysis {
  env: string;
  dataset: string;
  offline: CriticSeries[];
  online: OnlineCriticSeries[];
}

type OfflineCriticRow = Extract<CriticRow, { phase: 'offline' }>;
type OnlineCriticRow = Extract<CriticRow, { phase: 'online' }>;

export function criticAnalysis(
  groups: Group[],
  offlineOnly: RunRecord[],
  s: ReportSettings,
): CriticAnalysis[] {
  const result: CriticAnalysis[] = [];
  const pairs = new Map<string, { env: string; dataset: string }>();
  for (const g of groups) if (g.key.variant !== 'scratch') pairs.set(`${g.key.env}|${g.key.dataset}`, g.key);
  for (const o of offlineOnly) {
    const k = keyOf(o.config);
    pairs.set(`${k.env}|${k.dataset}`, k);
  }
  const order = [...new Set(groups.map((g) => g.key.env))].flatMap((env) =>
    mainFirst(
      env,
      groups.filter((g) => g.key.variant !== 'scratch'),
    ).map((d) => `${env}|${d}`),
  );
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const sortedPairs = [...pairs].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  for (const [pairKey, { env, dataset }] of sortedPairs) {
    // The paper's networks only: LayerNorm critics are an extension, reported apart.
    const shared = offlineOnly.filter((o) => {
      const k = keyOf(o.config);
      return k.env === env && k.dataset === dataset && !k.criticLayerNorm;
    });
    const fromRuns = groups
      .filter((g) => g.key.env === env && g.key.dataset === dataset && g.key.variant !== 'scratch')
      .filter((g) => !g.key.criticLayerNorm)
      .filter((g) => g.key.pretrain === 'both')
      .flatMap((g) => g.runs);
    // Shared pre-trainings first, so that a seed's record comes from there when it exists; runs copy the
    // same rows and fill in seeds whose shared entry is not finished (or was not kept).
    const records = [...shared, ...fromRuns].filter(
      (r) =>
        r.heldOutCritic !== undefined ||
        r.critic.some((c) => c.phase === 'offline' && (c.vsReturns || c.heldOut)),
    );
    const offline: CriticSeries[] = [];
    // One series per pre-training setting: fraction, then the paper's VAE before the controls.
    const settingOf = (r: RunRecord) => ({
      augFraction: keyOf(r.config).augFraction,
      worldModel: keyOf(r.config).worldModel,
    });
    const settings = [
      ...new Map(records.map((r) => [JSON.stringify(settingOf(r)), settingOf(r)])).values(),
    ].sort(
      (a, b) =>
        a.augFraction - b.augFraction ||
        WORLD_MODEL_KINDS.indexOf(a.worldModel) - WORLD_MODEL_KINDS.indexOf(b.worldModel),
    );
    for (const { augFraction, worldModel } of settings) {
      // One record per seed (the first in directory order): variants sharing a seed pre-train alike.
      const bySeed = new Map<number, RunRecord>();
      for (const r of records) {
        const k = keyOf(r.config);
        if (k.augFraction !== augFraction || k.worldModel !== worldModel) continue;
        if (!bySeed.has(r.config.seed)) bySeed.set(r.config.seed, r);
      }
      const runs = [...bySeed.values()].sort((a, b) => a.config.seed - b.config.seed);
      const offlineRows = (r: RunRecord) =>
        r.critic.filter((c): c is OfflineCriticRow => c.phase === 'offline');
      const rowsOf = (r: RunRecord) => offlineRows(r).filter((c) => !!c.vsReturns);
      // The VAE's salt as it was before the controls had series (it seeds the bootstrap).
      const model = worldModel === 'vae' ? '' : `|${worldModel}`;
      const seed = s.seed + hashSeed(`${pairKey}|critic|${augFraction}${model}`);
      // IQM over the seeds that logged such rows (a task without terminations has no terminal-ending rows).
      const curve = (
        has: (c: OfflineCriticRow) => boolean,
        f: (c: OfflineCriticRow) => number,
        salt?: string,
      ) =>
        aggregateCurve(
          runs
            .map((r) => new Map(offlineRows(r).flatMap((c) => (has(c) ? [[c.update, f(c)] as const] : []))))
            .filter((m) => m.size > 0),
          s,
          seed + (salt === undefined ? 0 : hashSeed(salt)),
        );
      const pick = (f: (c: OfflineCriticRow) => number) => curve((c) => !!c.vsReturns, f);
      const over = pick((c) => c.vsReturns!.overestimation.mean);
      const last = over.at(-1);
      // The target shift does not need terminal-ending rows: every offline row may carry it.
      const shifts = runs.map((r) => offlineRows(r).at(-1)?.targetShift).filter((t) => !!t);
      // Updates where every seed logged a target shift.
      const shiftRows = runs.map(
        (r) =>
          new Map(
            offlineRows(r)
              .filter((c) => !!c.targetShift)
              .map((c) => [c.update, c.targetShift!]),
          ),
      );
      const shiftUpdates = [...(shiftRows[0]?.keys() ?? [])].filter((u) => shiftRows.every((m) => m.has(u)));
      const targetShiftCurve = shiftUpdates.map((u) => {
        const at = shiftRows.map((m) => m.get(u)!);
        return {
          x: u,
          p05: round(iqm(at.map((t) => t.qDifference.p05))),
          p50: round(iqm(at.map((t) => t.qDifference.p50))),
          p95: round(iqm(at.map((t) => t.qDifference.p95))),
          error: round(iqm(at.map((t) => t.predictionError.mean)), 6),
        };
      });
      const loggedHeldOut = (c: OfflineCriticRow) =>
        c.heldOut?.train.meanAbsError != null && c.heldOut.heldOut.vsReturns != null;
      const heldOutCurve = {
        train: curve(loggedHeldOut, (c) => c.heldOut!.train.meanAbsError!, 'held-out curve|train'),
        heldOut: curve(loggedHeldOut, (c) => c.heldOut!.heldOut.meanAbsError!, 'held-out curve|held-out'),
        monteCarlo: curve(
          loggedHeldOut,
          (c) => c.heldOut!.heldOut.vsReturns!.monteCarlo.mean,
          'held-out curve|G',
        ),
      };
      const heldOutBySeed = runs.flatMap((r) => {
        const check = heldOutCheckOf(r);
        return check === null ? [] : [{ seed: r.config.seed, ...check }];
      });
      const heldOutIqm = (pick: (x: (typeof heldOutBySeed)[number]) => number, salt: string) =>
        iqmInterval([heldOutBySeed.map(pick)], { ...s, seed: seed + hashSeed(salt) });
      offline.push({
        augmented: augFraction > 0,
        augFraction,
        worldModel,
        seeds: runs.map((r) => r.config.seed),
        source: runs.every((r) => r.offlineOnly)
          ? 'pretrained'
          : runs.some((r) => r.offlineOnly)
            ? 'mixed'
            : 'runs',
        q: pick((c) => c.vsReturns!.q.mean),
        monteCarlo: pick((c) => c.vsReturns!.monteCarlo.mean),
        overestimation: over,
        finalOverestimation: last ? { point: last.y, low: last.low, high: last.high } : null,
        finalBySeed: runs.flatMap((r) =>
          rowsOf(r)
            .slice(-1)
            .map((c) => ({
              seed: r.config.seed,
              overestimation: c.vsReturns!.overestimation.mean,
              monteCarlo: c.vsReturns!.monteCarlo.mean,
            })),
        ),
        heldOutBySeed,
        heldOutCurve,
        heldOutError:
          heldOutBySeed.length > 0
            ? {
                train: heldOutIqm((x) => x.train.absError, 'held-out|train'),
                heldOut: heldOutIqm((x) => x.heldOut.absError, 'held-out|held-out'),
                monteCarlo: round(iqm(heldOutBySeed.map((x) => x.heldOut.monteCarlo))),
              }
            : null,
        finalTargetShift:
          shifts.length > 0
            ? {
                qDifference: round(mean(shifts.map((t) => t!.qDifference.mean))),
                predictionError: round(mean(shifts.map((t) => t!.predictionError.mean))),
              }
            : null,
        targetShift: targetShiftCurve,
      });
    }
    const sweepOnly = isSweepOnly(
      groups.filter((g) => g.key.env === env && g.key.dataset === dataset && g.key.variant !== 'scratch'),
    );
    const onlineGroups = (sweepOnly ? [] : groups).filter(
      (g) =>
        g.key.env === env &&
        isMainVariant(g.key) &&
        (g.key.variant === 'scratch' || g.key.dataset === dataset),
    );
    const online: OnlineCriticSeries[] = [];
    for (const g of onlineGroups) {
      const perRun = g.finished.map(
        (r) =>
          new Map(
            r.critic
              .filter((c): c is OnlineCriticRow => c.phase === 'online' && !!c.onPolicy)
              .map((c) => [c.step, c.onPolicy!.overestimation.mean]),
          ),
      );
      if (perRun.length === 0 || perRun.some((m) => m.size === 0)) continue;
      online.push({
        groupId: g.id,
        label: g.label,
        overestimation: aggregateCurve(perRun, s, s.seed + hashSeed(`${g.id}|online-critic`)),
      });
    }
    if (offline.length > 0 || online.length > 0) result.push({ env, dataset, offline, online });
  }
  return result;
}
