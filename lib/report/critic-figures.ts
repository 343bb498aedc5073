// The critic analysis's figures: per env × dataset the offline critic against Monte-Carlo returns (with vs
// without augmentation), its error on the whole source dataset, the world model's target shift and the
// on-policy overestimation while fine-tuning; and, over every main task, the pre-trained critic's
// held-out error against the score its run reached.
import type { Analysis, CriticAnalysis, GroupSummary } from './analysis.ts';
import type { CriticSeries } from './critic-analysis.ts';
import { describeSpearman } from './critic-outcome.ts';
import { type Figure, slug, variantColour } from './figure-parts.ts';
import { MAIN_AUG_FRACTION } from './groups.ts';
import { taskTitle } from './short-task.ts';
import { type LineChartSpec, type LineSeries, lineChart } from './svg/line-chart.ts';
import { GREY } from './svg/palette.ts';

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

/** One task's critic figure: a line chart of the common size, in the critic section. */
function taskFigure(
  c: CriticAnalysis,
  kind: string,
  title: string,
  caption: string,
  chart: Omit<LineChartSpec, 'title' | 'width' | 'height'>,
): Figure {
  return {
    file: `${kind}-${slug(c.env)}-${slug(c.dataset)}.svg`,
    title,
    caption,
    svg: lineChart({ title, ...chart, width: 900, height: 400 }),
    section: 'critic',
    env: c.env,
    dataset: c.dataset,
  };
}

/**
 * Per task: offline Q against Monte-Carlo returns and its overestimation, the error on the whole source
 * dataset and the world model's target shift, with vs without augmentation; the on-policy overestimation
 * while fine-tuning.
 */
export function criticFigures(a: Analysis, groups: Map<string, GroupSummary>): Figure[] {
  const figures: Figure[] = [];
  for (const c of a.critic) {
    const withTerminalRows = c.offline.find((s) => s.q.length > 0);
    if (withTerminalRows !== undefined) {
      const series: LineSeries[] = c.offline.map((s, i) => ({
        label: `Q: ${criticSeriesName(s)}`,
        colour: criticColour(s, i),
        points: s.q,
      }));
      series.push({
        label: 'Monte-Carlo return',
        colour: GREY,
        points: withTerminalRows.monteCarlo.map((p) => ({ x: p.x, y: p.y })),
        dashed: true,
      });
      figures.push(
        taskFigure(
          c,
          'critic-q',
          `${taskTitle(c)}: critic during offline pre-training`,
          "Mean Q1(s, a) on the subset's transitions of episodes that end in a terminal inside it (see above) against their Monte-Carlo discounted returns, over offline updates; IQM over seeds with 95% bands.",
          { xLabel: 'offline TD3+BC updates', yLabel: 'value', yScale: 'auto', series },
        ),
        taskFigure(
          c,
          'critic-over',
          `${taskTitle(c)}: overestimation Q − G (offline)`,
          'Mean of Q − G on the same transitions (positive: the critic overestimates); IQM over seeds with 95% bands.',
          {
            xLabel: 'offline TD3+BC updates',
            yLabel: 'Q − Monte-Carlo return',
            yScale: 'auto',
            series: c.offline.map((s, i) => ({
              label: criticSeriesName(s),
              colour: criticColour(s, i),
              points: s.overestimation,
            })),
            hLines: [{ y: 0, label: 'unbiased' }],
          },
        ),
      );
    }
    const withHeldOutCurve = c.offline.find((s) => s.heldOutCurve.heldOut.length > 0);
    if (withHeldOutCurve !== undefined) {
      const series: LineSeries[] = c.offline.flatMap((s, i) => {
        const colour = criticColour(s, i);
        // Short labels: two per series share the legend's width.
        const name = criticShortName(s);
        return [
          { label: `held-out rows, ${name}`, colour, points: s.heldOutCurve.heldOut },
          { label: `training rows, ${name}`, colour, points: s.heldOutCurve.train, dashed: true },
        ];
      });
      series.push({
        label: 'mean G, held-out rows',
        colour: GREY,
        points: withHeldOutCurve.heldOutCurve.monteCarlo.map((p) => ({ x: p.x, y: p.y })),
        dashed: true,
      });
      figures.push(
        taskFigure(
          c,
          'critic-held-out',
          `${taskTitle(c)}: critic error on the whole source dataset (offline)`,
          "Mean |Q1(s, a) − G| on the subset's whole source dataset (the held-out check, above, logged at every " +
            'offline evaluation): rows the critic trains on (dashed) and rows it never sees (solid); IQM over seeds ' +
            'with 95% bands. Pre-trainings from before this was logged are not in it.',
          { xLabel: 'offline TD3+BC updates', yLabel: 'mean |Q − G|', yScale: 'auto', series },
        ),
      );
    }
    const shifted = c.offline.filter((s) => s.targetShift.length > 0);
    if (shifted.length > 0) {
      const errors = shifted.map(
        (s) => `${criticShortName(s)}: ${s.targetShift.at(-1)!.error.toPrecision(3)}`,
      );
      figures.push(
        taskFigure(
          c,
          'critic-shift',
          `${taskTitle(c)}: world-model target shift (offline)`,
          "Q1(s′, π(s′)) − Q1(ŝ′, π(ŝ′)) on a batch of dataset transitions, ŝ′ the world model's prediction: " +
            'median with the within-batch 5–95% range, IQM over seeds. Mean ‖s′ − ŝ′‖² at the last update: ' +
            `${errors.join(', ')}.`,
          {
            xLabel: 'offline TD3+BC updates',
            yLabel: 'Q(s′) − Q(ŝ′)',
            yScale: 'auto',
            series: shifted.map((s, i) => ({
              label: `${criticShortName(s)}: median, 5–95% band`,
              colour: criticColour(s, i),
              points: s.targetShift.map((p) => ({ x: p.x, y: p.p50, low: p.p05, high: p.p95 })),
            })),
            hLines: [{ y: 0, label: 'no shift' }],
          },
        ),
      );
    }
    if (c.online.length > 0) {
      figures.push(
        taskFigure(
          c,
          'critic-online',
          `${taskTitle(c)}: on-policy overestimation while fine-tuning`,
          "Mean Q1(s, π(s)) − G along the policy's own evaluation episodes; IQM over seeds with 95% bands.",
          {
            xLabel: 'online environment steps',
            yLabel: 'Q − Monte-Carlo return',
            yScale: 'auto',
            series: c.online.map((s, i) => ({
              label: s.label,
              colour: variantColour(groups.get(s.groupId), i),
              points: s.overestimation,
            })),
            hLines: [{ y: 0, label: 'unbiased' }],
          },
        ),
      );
    }
  }
  return figures;
}

/** The pre-trained critic's held-out error against the score its run reached, every main task at once. */
export function criticOutcomeFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
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
  return figures;
}
