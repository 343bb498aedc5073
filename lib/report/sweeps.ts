// The sweeps: final score and steps ratio against dataset size (same variant, one dataset kind, several
// sizes) and against the augmentation fraction (TD3+BC with p = 0 and TD3+BC+aug with p > 0, one dataset).
import type { GroupSummary, ThresholdTable } from './analysis.ts';
import type { Group } from './groups.ts';
import type { Interval } from './stats.ts';

export interface SweepPoint {
  x: number;
  groupId: string;
  finished: number;
  finalScore: Interval | null;
  ratio: Interval | null;
}

export interface Sweep {
  kind: 'size' | 'ratio';
  env: string;
  /** Dataset kind for the size sweep, dataset label for the ratio sweep. */
  dataset: string;
  series: { label: string; points: SweepPoint[] }[];
}

export function sweeps(
  groups: Group[],
  summaries: Map<string, GroupSummary>,
  tables: ThresholdTable[],
): Sweep[] {
  const ratioOf = (id: string) => {
    for (const t of tables) for (const r of t.rows) if (r.groupId === id) return r.ratio;
    return null;
  };
  const point = (g: Group, x: number): SweepPoint => ({
    x,
    groupId: g.id,
    finished: g.finished.length,
    finalScore: summaries.get(g.id)?.finalScore?.iqm ?? null,
    ratio: ratioOf(g.id),
  });
  const out: Sweep[] = [];
  // The linear-model control is a comparison of its own, not a point of either sweep.
  const pretrained = groups.filter(
    (g) =>
      g.key.pretrain === 'both' &&
      g.key.worldModel === 'vae' &&
      !g.key.criticLayerNorm &&
      g.finished.length > 0,
  );
  // Size sweep: the same variant on datasets of one kind with different sizes.
  for (const env of [...new Set(pretrained.map((g) => g.key.env))]) {
    const inEnv = pretrained.filter((g) => g.key.env === env);
    const kindOf = (g: Group) => g.runs[0]!.config.dataset?.kind ?? 'none';
    for (const kind of [...new Set(inEnv.map(kindOf))].sort()) {
      const ofKind = inEnv.filter((g) => kindOf(g) === kind);
      const sizes = new Set(ofKind.map((g) => g.runs[0]!.config.dataset?.transitions));
      if (sizes.size < 2) continue;
      const series = [...new Set(ofKind.map((g) => `${g.key.variant}|${g.key.augFraction}`))]
        .sort()
        .map((v) => {
          const members = ofKind.filter((g) => `${g.key.variant}|${g.key.augFraction}` === v);
          return {
            label: members[0]!.label,
            points: members
              .map((g) => point(g, g.runs[0]!.config.dataset?.transitions ?? 0))
              .sort((a, b) => a.x - b.x),
          };
        })
        // A variant run on one size only is not part of the sweep.
        .filter((x) => x.points.length >= 2);
      if (series.length > 0) out.push({ kind: 'size', env, dataset: kind, series });
    }
    // Augmentation-ratio sweep: TD3+BC with p in {0, ...} on one dataset; three or more fractions.
    for (const dataset of [...new Set(inEnv.map((g) => g.key.dataset))].sort()) {
      const members = inEnv.filter((g) => g.key.dataset === dataset);
      const byFraction = new Map<number, Group>();
      // At p = 0 prefer an explicit td3bc-aug run with p = 0 (the sweep's own) over plain TD3+BC.
      for (const g of [...members].sort(
        (a, b) => (a.key.variant === 'td3bc-aug' ? -1 : 0) - (b.key.variant === 'td3bc-aug' ? -1 : 0),
      )) {
        if (!byFraction.has(g.key.augFraction)) byFraction.set(g.key.augFraction, g);
      }
      if (byFraction.size < 3) continue;
      out.push({
        kind: 'ratio',
        env,
        dataset,
        series: [
          {
            label: 'TD3+BC(+aug) → TD3',
            points: [...byFraction].map(([p, g]) => point(g, p)).sort((a, b) => a.x - b.x),
          },
        ],
      });
    }
  }
  return out;
}
