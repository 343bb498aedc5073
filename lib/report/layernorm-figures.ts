// The LayerNorm-critics extension's figures (not the paper's networks): per env × dataset with such runs,
// the main variants with and without LayerNorm in the critics.
import type { Analysis, GroupSummary } from './analysis.ts';
import { curveChart, curveSeries, type Figure, slug } from './figure-parts.ts';
import { isMainVariant } from './groups.ts';
import { taskTitle } from './short-task.ts';
import { colour } from './svg/palette.ts';

/**
 * The LayerNorm-critics extension, per env × dataset that has such runs: scratch, TD3+BC and TD3+BC+aug (both
 * parts, the main fraction, the VAE) with the paper's networks in their usual colours and with LayerNorm
 * critics in colours of their own; the offline phase before the online one, as in the learning curves.
 */
export function layerNormFigures(a: Analysis, pairs: string[], groups: Map<string, GroupSummary>): Figure[] {
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
    const title = `${taskTitle({ env, dataset })}: LayerNorm critics`;
    out.push({
      file: `layernorm-${slug(env)}-${slug(dataset)}.svg`,
      title,
      caption:
        'Not the paper’s networks: the same variants with LayerNorm in the critics’ hidden layers (“LN”: ' +
        'scratch sky blue, TD3+BC vermillion, TD3+BC+aug black) and without (blue, orange, green); IQM ' +
        'over seeds with 95% stratified bootstrap bands' +
        `${hasOffline ? '; the offline phase (dashed, x < 0: TD3+BC updates) before online fine-tuning' : ''}. ` +
        'Faint dashed lines are unfinished runs, excluded from the statistics.',
      svg: curveChart({
        title,
        env,
        hasOffline,
        series: chosen.flatMap((c) => {
          const g = groups.get(c.groupId)!;
          const series = curveSeries([{ ...c, label: layerNormLabel(g) }], groups);
          return g.criticLayerNorm
            ? series.map((x) => ({ ...x, colour: layerNormColour(g.variant) }))
            : series;
        }),
      }),
      section: 'critic',
      env,
      dataset,
    });
  }
  return out;
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
