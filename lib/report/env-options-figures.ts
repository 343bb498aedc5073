// TD3 from scratch on an env built with other options than Gymnasium's defaults (e.g. Ant-v5 without its
// contact forces; a task env of its own), beside scratch on the env as Gymnasium makes it: one figure per
// env id that has such runs.
import type { Analysis, GroupSummary } from './analysis.ts';
import { curveChart, curveSeries, type Figure, slug } from './figure-parts.ts';
import { baseEnv } from './groups.ts';
import { colour } from './svg/palette.ts';

export function envOptionsFigures(a: Analysis, groups: Map<string, GroupSummary>): Figure[] {
  const out: Figure[] = [];
  for (const env of [...new Set(a.groups.map((g) => baseEnv(g.env)))].sort()) {
    const scratch = a.groups.filter(
      (g) => baseEnv(g.env) === env && g.variant === 'scratch' && !g.criticLayerNorm,
    );
    if (!scratch.some((g) => g.envOptions !== '')) continue;
    const shown = scratch
      .flatMap((g) => (a.curves[`${g.env}|none`] ?? []).filter((c) => c.groupId === g.id))
      .filter((c) => c.online.length > 0 || c.partial.length > 0);
    // Legend-width names: the options themselves are in the caption.
    const optioned = shown.filter((c) => groups.get(c.groupId)!.envOptions !== '');
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
      svg: curveChart({
        title,
        env,
        hasOffline: false,
        series: shown.flatMap((c) => {
          const i = optioned.indexOf(c);
          if (i < 0) return curveSeries([c], groups);
          const own = colour(3 + i);
          return curveSeries([{ ...c, label: nameOf(i) }], groups).map((x) => ({ ...x, colour: own }));
        }),
      }),
      section: 'curves',
      env,
      dataset: 'none',
    });
  }
  return out;
}
