// The report's figures as standalone SVG documents: learning curves per env × dataset (offline phase
// before the online one, as in the paper), ablation bars, the critic analysis, the sweeps.
import type { Analysis, Curve, GroupSummary } from './analysis.ts';
import type { CriticSeries } from './critic-analysis.ts';
import { describeSpearman } from './critic-outcome.ts';
import { isMainVariant, isPaperScratch, MAIN_AUG_FRACTION, scoreOf, type WorldModelKind } from './groups.ts';
import { type BarGroup, barChart } from './svg/bar-chart.ts';
import { type LineSeries, lineChart } from './svg/line-chart.ts';
import { colour, GREY, PALETTE } from './svg/palette.ts';

export interface Figure {
  /** File name under figures/, e.g. "curves-Hopper-v5-medium-10k.svg". */
  file: string;
  title: string;
  caption: string;
  svg: string;
  /** Which section of the page it belongs to. */
  section: 'curves' | 'ablations' | 'critic' | 'world-model' | 'sweeps';
  env: string;
  dataset: string;
}

/**
 * One colour per variant across every figure: scratch blue, TD3+BC orange, TD3+BC+aug green, the
 * world-model controls pink (linear) and black (copy), others after.
 */
function variantColour(
  g: { variant: string; augFraction: number; worldModel?: WorldModelKind } | undefined,
  fallback: number,
): string {
  if (!g) return colour(fallback);
  if (g.variant === 'scratch') return colour(0);
  if (g.variant === 'td3bc') return colour(1);
  if (g.worldModel === 'linear') return colour(4);
  if (g.worldModel === 'copy') return colour(7);
  if (g.augFraction === MAIN_AUG_FRACTION) return colour(2);
  const sweep = SWEEP_FRACTION_COLOURS.get(g.augFraction);
  if (sweep !== undefined) return colour(sweep);
  // Any other fraction: a colour no fixed variant owns.
  let i = 3 + fallback;
  while (RESERVED_COLOURS.has(i % PALETTE.length)) i++;
  return colour(i);
}

/** The ratio sweep's other fractions, one colour each in every figure. */
const SWEEP_FRACTION_COLOURS = new Map([
  [0.25, 5],
  [0.75, 3],
]);
/** Palette slots of scratch, TD3+BC, TD3+BC+aug, the two controls and the sweep's fractions. */
const RESERVED_COLOURS = new Set([0, 1, 2, 3, 4, 5, 7]);

/** Short legend names for the controls figure: which next states the pre-training used. */
function controlLabel(g: GroupSummary): string {
  if (g.variant === 'td3bc') return 'not replaced (TD3+BC)';
  const p = `p=${g.augFraction}`;
  return { vae: `VAE, ${p}`, linear: `linear model, ${p}`, copy: `the state itself, ${p}` }[g.worldModel];
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-|-$/g, '');

/** A learning-curve figure's lines: per group its online IQM curve, its offline phase and its unfinished runs. */
function curveSeries(curves: Curve[], groups: Map<string, GroupSummary>): LineSeries[] {
  const series: LineSeries[] = [];
  curves.forEach((c, i) => {
    const c2 = variantColour(groups.get(c.groupId), i);
    const online = c.online.map((p) => ({ x: p.x, y: p.y, low: p.low, high: p.high }));
    const offline = c.offline.map((p) => ({ x: p.x, y: p.y, low: p.low, high: p.high }));
    const n = groups.get(c.groupId)?.finished ?? 0;
    if (online.length > 0) series.push({ label: `${c.label} (n=${n})`, colour: c2, points: online });
    if (offline.length > 0)
      series.push({ label: `${c.label}: offline`, colour: c2, points: offline, dashed: true });
    for (const p of c.partial) {
      series.push({
        label: `${c.label}: ${c.partial.length} unfinished`,
        colour: c2,
        points: p.points,
        dashed: true,
        faint: true,
      });
    }
  });
  return series;
}

type CriticSeriesSetting = Pick<CriticSeries, 'augmented' | 'augFraction' | 'worldModel'>;

/** The critic series take the colour of the variant they pre-train. */
function criticColour(s: CriticSeriesSetting, i: number): string {
  return variantColour(
    { variant: s.augmented ? 'td3bc-aug' : 'td3bc', augFraction: s.augFraction, worldModel: s.worldModel },
    i,
  );
}

function criticSeriesName(s: CriticSeriesSetting): string {
  if (!s.augmented) return 'without augmentation';
  const p = `p=${s.augFraction}`;
  return {
    vae: `with augmentation (${p})`,
    linear: `with linear model (${p})`,
    copy: `with state copied (${p})`,
  }[s.worldModel];
}

/** Legend-width names: "no aug", "aug p=0.5", "linear p=0.5", "copy p=0.5". */
function criticShortName(s: CriticSeriesSetting): string {
  if (!s.augmented) return 'no aug';
  return `${{ vae: 'aug', linear: 'linear', copy: 'copy' }[s.worldModel]} p=${s.augFraction}`;
}

/**
 * The LayerNorm-critics extension, per env × dataset that has such runs: scratch, TD3+BC and TD3+BC+aug (both
 * parts, the main fraction, the VAE) with the paper's networks in their usual colours and with LayerNorm
 * critics in colours of their own; the offline phase before the online one, as in the learning curves.
 */
function layerNormFigures(a: Analysis, pairs: string[], groups: Map<string, GroupSummary>): Figure[] {
  const out: Figure[] = [];
  for (const pair of pairs) {
    const [env, dataset] = pair.split('|') as [string, string];
    const inPair = [...(a.curves[`${env}|none`] ?? []), ...(a.curves[pair] ?? [])].filter((c) => {
      const g = groups.get(c.groupId);
      return g !== undefined && isMainVariant({ ...g, criticLayerNorm: false });
    });
    if (!inPair.some((c) => groups.get(c.groupId)!.criticLayerNorm)) continue;
    const chosen = inPair.filter((c) => c.online.length > 0 || c.partial.length > 0);
    const hasOffline = chosen.some((c) => c.offline.length > 0);
    const title = `${env}, ${dataset}: LayerNorm critics`;
    out.push({
      file: `layernorm-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        'Not the paper’s networks: the same variants with LayerNorm in the critics’ hidden layers (“LN”: ' +
        'scratch sky blue, TD3+BC vermillion, TD3+BC+aug black) and without (blue, orange, green); IQM ' +
        'over seeds with 95% stratified bootstrap bands' +
        `${hasOffline ? '; the offline phase (dashed, x < 0: TD3+BC updates) before online fine-tuning' : ''}. ` +
        'Faint dashed lines are unfinished runs, excluded from the statistics.',
      svg: lineChart({
        title,
        ...phaseAxis(hasOffline),
        yLabel: curveYLabel(env),
        series: chosen.flatMap((c) => {
          const g = groups.get(c.groupId)!;
          const series = curveSeries([{ ...c, label: layerNormLabel(g) }], groups);
          return g.criticLayerNorm
            ? series.map((x) => ({ ...x, colour: layerNormColour(g.variant) }))
            : series;
        }),
        width: 900,
        height: 420,
      }),
      section: 'critic',
      env,
      dataset,
    });
  }
  return out;
}

/** The x axis of a learning-curve figure: with the offline phase at x < 0 and a line where online starts. */
function phaseAxis(hasOffline: boolean): { xLabel: string; vLines: { x: number; label: string }[] } {
  return hasOffline
    ? {
        xLabel: 'offline updates (< 0) · online environment steps (≥ 0)',
        vLines: [{ x: 0, label: 'online starts' }],
      }
    : { xLabel: 'online environment steps', vLines: [] };
}

/** Scores where the env has D4RL reference returns, else raw returns. */
function curveYLabel(env: string): string {
  return scoreOf(env, 0) !== null ? 'D4RL-normalised score (IQM)' : 'return (IQM)';
}

/** Legend-width names for the LayerNorm figure: "TD3+BC+aug → TD3, LN" (LN: LayerNorm critics). */
function layerNormLabel(g: GroupSummary): string {
  const base =
    g.variant === 'scratch' ? 'TD3 (scratch)' : g.variant === 'td3bc' ? 'TD3+BC → TD3' : 'TD3+BC+aug → TD3';
  return g.criticLayerNorm ? `${base}, LN` : base;
}

/**
 * LayerNorm critics beside the paper's networks (scratch blue, TD3+BC orange, TD3+BC+aug green): sky blue,
 * vermillion and black (the palette's yellow is too faint on white for a main series).
 */
function layerNormColour(variant: GroupSummary['variant']): string {
  if (variant === 'scratch') return colour(5);
  return variant === 'td3bc' ? colour(3) : colour(7);
}

export function buildFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  const groups = new Map(a.groups.map((g) => [g.id, g]));
  const scored = (env: string) => scoreOf(env, 0) !== null;
  // Learning curves: for each env × dataset, scratch (the env's) plus the dataset's variants that
  // pre-train both parts; ablation variants get their own bars below.
  const pairs = a.datasets.map((d) => `${d.env}|${d.dataset}`);
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
    const yLabel = curveYLabel(env);
    const hasOffline = chosen.some((c) => c.offline.length > 0);
    const threshold = a.thresholds.find((t) => t.env === env && t.dataset === dataset);
    const title = dataset === 'none' ? `${env}: learning curves` : `${env}, ${dataset}: learning curves`;
    figures.push({
      file: `curves-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        `IQM over seeds with 95% stratified bootstrap bands${hasOffline ? '; the offline phase (dashed, x < 0: TD3+BC updates) before online fine-tuning (x ≥ 0: environment steps)' : ''}. ` +
        'Faint dashed lines are unfinished runs, excluded from the statistics.',
      svg: lineChart({
        title,
        ...phaseAxis(hasOffline),
        yLabel,
        series: curveSeries(chosen, groups),
        hLines:
          threshold && (threshold.thresholdScore !== null || !scored(env))
            ? [{ y: threshold.thresholdScore ?? threshold.threshold, label: "scratch's final (threshold)" }]
            : [],
        width: 900,
        height: 420,
      }),
      section: 'curves',
      env,
      dataset,
    });
  }
  // Ablations: final score by pre-trained parts × with / without augmentation (and scratch for scale).
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
    const title = `${env}, ${dataset}: which pre-trained parts (final score)`;
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
  // The world-model controls: their learning curves next to the VAE's augmentation and to none at all.
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
    const title = `${env}, ${dataset}: augmenting with the VAE or a control`;
    figures.push({
      file: `controls-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        'Online fine-tuning after TD3+BC pre-training with next states from the VAE, from a control (least ' +
        'squares; the state itself), or not replaced; IQM over seeds with 95% stratified bootstrap bands.',
      svg: lineChart({
        title,
        xLabel: 'online environment steps',
        yLabel: curveYLabel(env),
        series: curveSeries(
          chosen.map((c) => ({ ...c, label: controlLabel(groups.get(c.groupId)!), offline: [] })),
          groups,
        ),
        width: 900,
        height: 420,
      }),
      section: 'world-model',
      env,
      dataset,
    });
  }
  figures.push(...layerNormFigures(a, pairs, groups));
  // Critic analysis: offline Q against Monte-Carlo returns, and overestimation, with vs without augmentation.
  for (const c of a.critic) {
    const withTerminalRows = c.offline.find((s) => s.q.length > 0);
    if (withTerminalRows !== undefined) {
      const series: LineSeries[] = [];
      c.offline.forEach((s, i) => {
        series.push({ label: `Q: ${criticSeriesName(s)}`, colour: criticColour(s, i), points: s.q });
      });
      const mc = withTerminalRows.monteCarlo;
      series.push({
        label: 'Monte-Carlo return',
        colour: GREY,
        points: mc.map((p) => ({ x: p.x, y: p.y })),
        dashed: true,
      });
      const title = `${c.env}, ${c.dataset}: critic during offline pre-training`;
      figures.push({
        file: `critic-q-${slug(c.env)}-${slug(c.dataset)}.svg`,
        title,
        caption:
          "Mean Q1(s, a) on the subset's transitions of episodes that end in a terminal inside it (see above) against their Monte-Carlo discounted returns, over offline updates; IQM over seeds with 95% bands.",
        svg: lineChart({
          title,
          xLabel: 'offline TD3+BC updates',
          yLabel: 'value',
          yScale: 'auto',
          series,
          width: 900,
          height: 400,
        }),
        section: 'critic',
        env: c.env,
        dataset: c.dataset,
      });
      const overTitle = `${c.env}, ${c.dataset}: overestimation Q − G (offline)`;
      figures.push({
        file: `critic-over-${slug(c.env)}-${slug(c.dataset)}.svg`,
        title: overTitle,
        caption:
          'Mean of Q − G on the same transitions (positive: the critic overestimates); IQM over seeds with 95% bands.',
        svg: lineChart({
          title: overTitle,
          xLabel: 'offline TD3+BC updates',
          yLabel: 'Q − Monte-Carlo return',
          yScale: 'auto',
          series: c.offline.map((s, i) => ({
            label: criticSeriesName(s),
            colour: criticColour(s, i),
            points: s.overestimation,
          })),
          hLines: [{ y: 0, label: 'unbiased' }],
          width: 900,
          height: 400,
        }),
        section: 'critic',
        env: c.env,
        dataset: c.dataset,
      });
    }
    const withHeldOutCurve = c.offline.find((s) => s.heldOutCurve.heldOut.length > 0);
    if (withHeldOutCurve !== undefined) {
      const title = `${c.env}, ${c.dataset}: critic error on the whole source dataset (offline)`;
      const series: LineSeries[] = [];
      c.offline.forEach((s, i) => {
        const colour = criticColour(s, i);
        // Short labels: two per series share the legend's width.
        const name = criticShortName(s);
        series.push({ label: `held-out rows, ${name}`, colour, points: s.heldOutCurve.heldOut });
        series.push({ label: `training rows, ${name}`, colour, points: s.heldOutCurve.train, dashed: true });
      });
      series.push({
        label: 'mean G, held-out rows',
        colour: GREY,
        points: withHeldOutCurve.heldOutCurve.monteCarlo.map((p) => ({ x: p.x, y: p.y })),
        dashed: true,
      });
      figures.push({
        file: `critic-held-out-${slug(c.env)}-${slug(c.dataset)}.svg`,
        title,
        caption:
          "Mean |Q1(s, a) − G| on the subset's whole source dataset (the held-out check, above, logged at every " +
          'offline evaluation): rows the critic trains on (dashed) and rows it never sees (solid); IQM over seeds ' +
          'with 95% bands. Pre-trainings from before this was logged are not in it.',
        svg: lineChart({
          title,
          xLabel: 'offline TD3+BC updates',
          yLabel: 'mean |Q − G|',
          yScale: 'auto',
          series,
          width: 900,
          height: 400,
        }),
        section: 'critic',
        env: c.env,
        dataset: c.dataset,
      });
    }
    const shifted = c.offline.filter((s) => s.targetShift.length > 0);
    if (shifted.length > 0) {
      const title = `${c.env}, ${c.dataset}: world-model target shift (offline)`;
      const errors = shifted.map(
        (s) => `${criticShortName(s)}: ${s.targetShift.at(-1)!.error.toPrecision(3)}`,
      );
      figures.push({
        file: `critic-shift-${slug(c.env)}-${slug(c.dataset)}.svg`,
        title,
        caption:
          "Q1(s′, π(s′)) − Q1(ŝ′, π(ŝ′)) on a batch of dataset transitions, ŝ′ the world model's prediction: " +
          'median with the within-batch 5–95% range, IQM over seeds. Mean ‖s′ − ŝ′‖² at the last update: ' +
          `${errors.join(', ')}.`,
        svg: lineChart({
          title,
          xLabel: 'offline TD3+BC updates',
          yLabel: 'Q(s′) − Q(ŝ′)',
          yScale: 'auto',
          series: shifted.map((s, i) => ({
            label: `${criticShortName(s)}: median, 5–95% band`,
            colour: criticColour(s, i),
            points: s.targetShift.map((p) => ({ x: p.x, y: p.p50, low: p.p05, high: p.p95 })),
          })),
          hLines: [{ y: 0, label: 'no shift' }],
          width: 900,
          height: 400,
        }),
        section: 'critic',
        env: c.env,
        dataset: c.dataset,
      });
    }
    if (c.online.length > 0) {
      const title = `${c.env}, ${c.dataset}: on-policy overestimation while fine-tuning`;
      figures.push({
        file: `critic-online-${slug(c.env)}-${slug(c.dataset)}.svg`,
        title,
        caption:
          "Mean Q1(s, π(s)) − G along the policy's own evaluation episodes; IQM over seeds with 95% bands.",
        svg: lineChart({
          title,
          xLabel: 'online environment steps',
          yLabel: 'Q − Monte-Carlo return',
          yScale: 'auto',
          series: c.online.map((s, i) => ({
            label: s.label,
            colour: variantColour(groups.get(s.groupId), i),
            points: s.overestimation,
          })),
          hLines: [{ y: 0, label: 'unbiased' }],
          width: 900,
          height: 400,
        }),
        section: 'critic',
        env: c.env,
        dataset: c.dataset,
      });
    }
  }
  // The pre-trained critic's held-out error against the score its run reached, every main task at once.
  const outcome = a.criticOutcome;
  if (outcome.points.length > 0) {
    const title = "Pre-trained critic's held-out error vs the fine-tuned final score";
    figures.push({
      file: 'critic-outcome.svg',
      title,
      caption:
        'One dot per seed and main task: the held-out mean |Q − G| ÷ mean G of the critic a run (both parts ' +
        `pre-trained) started from, on a log axis, and that run's final score. ${describeSpearman(outcome)}`,
      svg: lineChart({
        title,
        xLabel: 'log₁₀ (held-out |Q − G| ÷ G) of the pre-trained critic',
        yLabel: 'final normalised score',
        series: [false, true].map((augmented, i) => ({
          label: augmented ? `with augmentation (p=${MAIN_AUG_FRACTION})` : 'without augmentation',
          colour: criticColour(
            { augmented, augFraction: augmented ? MAIN_AUG_FRACTION : 0, worldModel: 'vae' },
            i,
          ),
          pointsOnly: true,
          points: outcome.points
            .filter((p) => p.augmented === augmented)
            .map((p) => ({ x: Math.log10(Math.max(p.heldOutRelError, 1e-9)), y: p.finalScore })),
        })),
        width: 900,
        height: 400,
      }),
      section: 'critic',
      env: 'all tasks',
      dataset: 'pooled',
    });
  }
  for (const s of a.sweeps) {
    const title =
      s.kind === 'size'
        ? `${s.env}, ${s.dataset}: dataset size sweep`
        : `${s.env}, ${s.dataset}: augmentation ratio sweep`;
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
