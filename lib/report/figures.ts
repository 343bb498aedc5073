// The report's figures as standalone SVG documents: learning curves per env × dataset (offline phase
// before the online one, as in the paper), ablation bars, the world-model controls, the sweeps; the
// LayerNorm-critics extension and the critic analysis come from layernorm-figures.ts and critic-figures.ts.
import type { Analysis, GroupSummary } from './analysis.ts';
import { criticFigures, criticOutcomeFigures } from './critic-figures.ts';
import { envOptionsFigures } from './env-options-figures.ts';
import { curveChart, curveSeries, type Figure, slug } from './figure-parts.ts';
import { isMainVariant, isPaperScratch, MAIN_AUG_FRACTION, scoreOf } from './groups.ts';
import { layerNormFigures } from './layernorm-figures.ts';
import { taskTitle } from './short-task.ts';
import { type BarGroup, barChart } from './svg/bar-chart.ts';
import { lineChart } from './svg/line-chart.ts';
import { colour } from './svg/palette.ts';

export function buildFigures(a: Analysis): Figure[] {
  const groups = new Map(a.groups.map((g) => [g.id, g]));
  const pairs = a.datasets.map((d) => `${d.env}|${d.dataset}`);
  return [
    ...curveFigures(a, pairs, groups),
    ...envOptionsFigures(a, groups),
    ...ablationFigures(a, pairs),
    ...controlFigures(a, pairs, groups),
    ...layerNormFigures(a, pairs, groups),
    ...criticFigures(a, groups),
    ...criticOutcomeFigures(a),
    ...sweepFigures(a),
  ];
}

/**
 * Learning curves: for each env × dataset, scratch (the env's) plus the dataset's variants that pre-train
 * both parts; ablation variants get their own bars.
 */
function curveFigures(a: Analysis, pairs: string[], groups: Map<string, GroupSummary>): Figure[] {
  const figures: Figure[] = [];
  const scored = (env: string) => scoreOf(env, 0) !== null;
  // An env with scratch runs only (the grid runs scratch first) still gets its curves.
  const scratchOnly = [...new Set(a.groups.map((g) => g.env))]
    .filter((env) => !pairs.some((p) => p.startsWith(`${env}|`)))
    .map((env) => `${env}|none`);
  for (const pair of [...pairs, ...scratchOnly]) {
    const [env, dataset] = pair.split('|') as [string, string];
    const chosen = [...(a.curves[`${env}|none`] ?? []), ...(dataset === 'none' ? [] : (a.curves[pair] ?? []))]
      .filter((c) => {
        const g = groups.get(c.groupId);
        return g !== undefined && isMainVariant(g);
      })
      .filter((c) => c.online.length > 0 || c.partial.length > 0);
    if (chosen.length === 0) continue;
    const hasOffline = chosen.some((c) => c.offline.length > 0);
    const threshold = a.thresholds.find((t) => t.env === env && t.dataset === dataset);
    const title = `${taskTitle(dataset === 'none' ? { env } : { env, dataset })}: learning curves`;
    figures.push({
      file: `curves-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        `IQM over seeds with 95% stratified bootstrap bands${hasOffline ? '; the offline phase (dashed, x < 0: TD3+BC updates) before online fine-tuning (x ≥ 0: environment steps)' : ''}. ` +
        'Faint dashed lines are unfinished runs, excluded from the statistics.',
      svg: curveChart({
        title,
        env,
        hasOffline,
        series: curveSeries(chosen, groups),
        hLines:
          threshold && (threshold.thresholdScore !== null || !scored(env))
            ? [{ y: threshold.thresholdScore ?? threshold.threshold, label: "scratch's final (threshold)" }]
            : [],
      }),
      section: 'curves',
      env,
      dataset,
    });
  }
  return figures;
}

/** Ablations: final score by pre-trained parts × with / without augmentation (and scratch for scale). */
function ablationFigures(a: Analysis, pairs: string[]): Figure[] {
  const figures: Figure[] = [];
  for (const pair of pairs) {
    const [env, dataset] = pair.split('|') as [string, string];
    const members = a.groups.filter((g) => g.env === env && g.dataset === dataset && g.finalScore !== null);
    if (!members.some((g) => g.pretrain === 'actor' || g.pretrain === 'critic')) continue;
    const main = members.filter(
      (g) =>
        !g.criticLayerNorm &&
        (g.variant === 'td3bc' || (g.augFraction === MAIN_AUG_FRACTION && g.worldModel === 'vae')),
    );
    const scratch = a.groups.find((g) => g.env === env && isPaperScratch(g) && g.finalScore !== null);
    const seriesOf = (g: GroupSummary) =>
      g.variant === 'td3bc' ? 'without augmentation' : `with augmentation (p=${MAIN_AUG_FRACTION})`;
    const bars: BarGroup[] = (['actor', 'critic', 'both'] as const).map((p) => ({
      label: p === 'both' ? 'actor + critic' : `${p} only`,
      bars: main
        .filter((g) => g.pretrain === p)
        .map((g) => ({
          series: seriesOf(g),
          colour: g.variant === 'td3bc' ? colour(1) : colour(2),
          value: g.finalScore!.iqm.point,
          low: g.finalScore!.iqm.low,
          high: g.finalScore!.iqm.high,
          note: `n=${g.finished}`,
        })),
    }));
    if (scratch) {
      bars.unshift({
        label: 'scratch',
        bars: [
          {
            series: 'TD3 from scratch',
            colour: colour(0),
            value: scratch.finalScore!.iqm.point,
            low: scratch.finalScore!.iqm.low,
            high: scratch.finalScore!.iqm.high,
            note: `n=${scratch.finished}`,
          },
        ],
      });
    }
    const title = `${taskTitle({ env, dataset })}: which pre-trained parts (final score)`;
    figures.push({
      file: `ablation-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        'Final D4RL-normalised score after online fine-tuning, IQM over seeds with 95% bootstrap intervals.',
      svg: barChart({ title, yLabel: 'final normalised score (IQM)', groups: bars, width: 820, height: 380 }),
      section: 'ablations',
      env,
      dataset,
    });
  }
  return figures;
}

/** Short legend names for the controls figure: which next states the pre-training used. */
function controlLabel(g: GroupSummary): string {
  if (g.variant === 'td3bc') return 'not replaced (TD3+BC)';
  const p = `p=${g.augFraction}`;
  return { vae: `VAE, ${p}`, linear: `linear model, ${p}`, copy: `the state itself, ${p}` }[g.worldModel];
}

/** The world-model controls: their learning curves next to the VAE's augmentation and to none at all. */
function controlFigures(a: Analysis, pairs: string[], groups: Map<string, GroupSummary>): Figure[] {
  const figures: Figure[] = [];
  for (const pair of pairs) {
    const [env, dataset] = pair.split('|') as [string, string];
    const inPair = (a.curves[pair] ?? []).filter((c) => {
      const g = groups.get(c.groupId);
      return (
        g !== undefined &&
        g.pretrain === 'both' &&
        !g.criticLayerNorm &&
        (g.variant === 'td3bc' || g.augFraction === MAIN_AUG_FRACTION)
      );
    });
    if (!inPair.some((c) => groups.get(c.groupId)!.worldModel !== 'vae')) continue;
    const chosen = inPair.filter((c) => c.online.length > 0 || c.partial.length > 0);
    const title = `${taskTitle({ env, dataset })}: augmenting with the VAE or a control`;
    figures.push({
      file: `controls-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        'Online fine-tuning after TD3+BC pre-training with next states from the VAE, from a control (least ' +
        'squares; the state itself), or not replaced; IQM over seeds with 95% stratified bootstrap bands.',
      svg: curveChart({
        title,
        env,
        hasOffline: false,
        series: curveSeries(
          chosen.map((c) => ({ ...c, label: controlLabel(groups.get(c.groupId)!), offline: [] })),
          groups,
        ),
      }),
      section: 'world-model',
      env,
      dataset,
    });
  }
  return figures;
}

/** The dataset-size and augmentation-ratio sweeps: final score against the swept value. */
function sweepFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const s of a.sweeps) {
    const title =
      s.kind === 'size' ? `${taskTitle(s)}: dataset size sweep` : `${taskTitle(s)}: augmentation ratio sweep`;
    const xs = [...new Set(s.series.flatMap((x) => x.points.map((p) => p.x)))].sort((a, b) => a - b);
    // Sizes span 2.5k to 50k: evenly spaced categories read better than a linear axis.
    const at = (x: number) => (s.kind === 'size' ? xs.indexOf(x) : x);
    figures.push({
      file: `sweep-${s.kind}-${slug(s.env)}-${slug(s.dataset)}.svg`,
      title,
      caption: 'Final D4RL-normalised score, IQM over seeds with 95% bootstrap intervals.',
      svg: lineChart({
        title,
        xLabel: s.kind === 'size' ? 'dataset transitions' : 'share of next states from the world model (p)',
        yLabel: 'final normalised score (IQM)',
        series: s.series.map((x, i) => ({
          label: x.label,
          colour: colour(i + 2),
          markers: true,
          points: x.points
            .filter((p) => p.finalScore !== null)
            .map((p) => ({
              x: at(p.x),
              y: p.finalScore!.point,
              low: p.finalScore!.low,
              high: p.finalScore!.high,
            })),
        })),
        xTicks: xs.map((x) => ({ x: at(x), label: s.kind === 'size' ? `${x / 1000}k` : String(x) })),
        width: 760,
        height: 360,
      }),
      section: 'sweeps',
      env: s.env,
      dataset: s.dataset,
    });
  }
  return figures;
}
