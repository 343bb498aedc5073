// TD3 from scratch on an env built with other options than Gymnasium's defaults (e.g. Ant-v5 without its
// contact forces), beside scratch on the env as Gymnasium makes it: one figure per env that has such runs.
import type { Analysis, GroupSummary } from './analysis.ts';
import { curveSeries, curveYLabel, type Figure, phaseAxis, slug } from './figure-parts.ts';
import { isPaperScratch } from './groups.ts';
import { lineChart } from './svg/line-chart.ts';
import { colour } from './svg/palette.ts';

export function envOptionsFigures(a: Analysis, groups: Map<string, GroupSummary>): Figure[] {
  const out: Figure[] = [];
  for (const env of [...new Set(a.groups.map((g) => g.env))].sort()) {
    const chosen = (a.curves[`${env}|none`] ?? []).filter((c) => {
      const g = groups.get(c.groupId);
      return g !== undefined && g.variant === 'scratch' && !g.criticLayerNorm;
    });
    if (!chosen.some((c) => groups.get(c.groupId)!.envOptions !== '')) continue;
    const shown = chosen.filter((c) => c.online.length > 0 || c.partial.length > 0);
    // Legend-width names: the options themselves are in the caption.
    const optioned = shown.filter((c) => !isPaperScratch(groups.get(c.groupId)!));
    const nameOf = (i: number) =>
      optioned.length === 1 ? 'TD3 (scratch, env options)' : `TD3 (scratch, env options ${i + 1})`;
    const title = `${env}: TD3 from scratch with other env options`;
    out.push({
      file: `env-options-${slug(env)}.svg`,
      title,
      caption:
        `TD3 from scratch on ${env} as Gymnasium makes it (blue) and built with other options: ` +
        `${optioned.map((c, i) => `${nameOf(i)}: ${groups.get(c.groupId)!.envOptions}`).join('; ')}. ` +
        'IQM over seeds with 95% stratified bootstrap bands; faint dashed lines are unfinished runs, ' +
        'excluded from the statistics. The scores are D4RL-normalised with the same reference returns.',
      svg: lineChart({
        title,
        ...phaseAxis(false),
        yLabel: curveYLabel(env),
        series: shown.flatMap((c) => {
          const i = optioned.indexOf(c);
          if (i < 0) return curveSeries([c], groups);
          const own = colour(3 + i);
          return curveSeries([{ ...c, label: nameOf(i) }], groups).map((x) => ({ ...x, colour: own }));
        }),
        width: 900,
        height: 420,
      }),
      section: 'curves',
      env,
      dataset: 'none',
    });
  }
  return out;
}
