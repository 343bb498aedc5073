// report/summary.md: the headline tables, the claims with verdicts, the aggregate, and where budgets are
// smaller than the paper's, for reading without a browser.

import { CRITIC_HELD_OUT_NOTE, criticNote } from './critic-analysis.ts';
import { describeHeldOutGaps, heldOutGaps } from './critic-held-out-gap.ts';
import { describeCriticOutcome } from './critic-outcome.ts';
import { formatRange } from './format.ts';
import { describeFrozen } from './frozen-runs.ts';
import type { PageInput } from './html.ts';
import { describeRebuilds } from './rebuilds.ts';
import { envNamesNote, taskTitle } from './short-task.ts';
import {
  aggregateTable,
  claimsAtAGlanceTable,
  criticHeldOutTable,
  criticOutcomeTable,
  headlineTable,
  pooledStepsTable,
  scratchBaselineNotes,
  scratchBaselineTable,
  type Table,
  thresholdTable,
  worldModelTable,
} from './tables.ts';
import { describeWorldModels, WORLD_MODEL_NOTE } from './world-models.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

function markdownTable(t: Table): string {
  if (t.rows.length === 0) return `*${t.caption}: no data.*\n`;
  return [
    `**${t.caption}**`,
    '',
    `| ${t.header.map(cell).join(' | ')} |`,
    `| ${t.header.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    '',
  ].join('\n');
}

/** One heading per env × dataset, one statement per claim under it. */
function claimsByTask(p: PageInput): string[] {
  const lines: string[] = [];
  let task = '';
  for (const c of p.claims) {
    if (`${c.env} ${c.dataset}` !== task) {
      task = `${c.env} ${c.dataset}`;
      lines.push(...(lines.length > 0 ? [''] : []), `### ${taskTitle(c)}`, '');
    }
    lines.push(`- ${c.claim}: **${c.verdict}**. ${c.text}`);
  }
  return lines;
}

/** The rebuilds that came out different, as a list followed by a blank line (nothing when none did). */
function differences(p: PageInput): string[] {
  const lines = p.rebuilds
    .filter((r) => !r.identical)
    .map((r) => `- ${r.entry} (${r.stage}; ${r.platforms}): ${r.firstDifference ?? 'differs'}`);
  return lines.length > 0 ? [...lines, ''] : [];
}

export function renderSummary(p: PageInput): string {
  const a = p.analysis;
  const frozen = describeFrozen(a.runList);
  const pooledSteps = pooledStepsTable(a);
  const headline = headlineTable(a);
  const names = envNamesNote(a.groups.map((g) => g.env));
  const lines = [
    '# Reproduction summary',
    '',
    `Generated from commit ${p.commit}. ${a.runs.total} runs (${a.runs.finished} finished, ${a.runs.unfinished} unfinished). ` +
      `IQM over seeds with 95% stratified bootstrap intervals (${a.settings.resamples} resamples). Full report: index.html.` +
      (names === undefined ? '' : ` ${names}`),
    '',
    '## Steps to reach TD3-from-scratch’s final return',
    '',
    ...(headline ? [markdownTable(headline)] : []),
    ...(a.thresholds.length > 0
      ? a.thresholds.map((t) => markdownTable(thresholdTable(t)))
      : ['*No env has finished scratch and pre-trained runs yet.*', '']),
    ...(pooledSteps ? [markdownTable(pooledSteps)] : []),
    '## Claims',
    '',
    ...(p.claims.length > 0
      ? [markdownTable(claimsAtAGlanceTable(p.claims)), ...claimsByTask(p)]
      : ['*Nothing to compare yet.*']),
    '',
    '## Over all tasks',
    '',
    markdownTable(aggregateTable(a)),
    markdownTable(scratchBaselineTable(a)),
    ...scratchBaselineNotes(a).flatMap((note) => [note, '']),
    ...(frozen ? [frozen, ''] : []),
    '## Budgets smaller than the paper’s',
    '',
    ...(p.budgets.some((b) => b.smaller)
      ? p.budgets
          .filter((b) => b.smaller)
          .map(
            (b) =>
              `- ${b.env}: ${b.parameter} — ours ${formatRange(b.oursMin, b.oursMax)}, the paper’s ${b.paper}`,
          )
      : ['None.']),
    '',
    '## Critic analysis',
    '',
    criticNote(a),
    '',
    CRITIC_HELD_OUT_NOTE,
    '',
    ...(criticHeldOutTable(a).rows.length > 0
      ? [markdownTable(criticHeldOutTable(a)), describeHeldOutGaps(heldOutGaps(a.critic)), '']
      : ['*No shared pre-training has been checked yet.*', '']),
    ...(a.criticOutcome.points.length > 0
      ? [describeCriticOutcome(a.criticOutcome), '', markdownTable(criticOutcomeTable(a))]
      : []),
    '## World model: held-out one-step error',
    '',
    `${WORLD_MODEL_NOTE} ${describeWorldModels(p.worldModels)}`.trim(),
    '',
    ...(p.worldModels.length > 0
      ? [markdownTable(worldModelTable(p.worldModels))]
      : ['*No world model has been built in these results yet.*', '']),
    '## Reproducibility',
    '',
    describeRebuilds(p.rebuilds),
    '',
    ...differences(p),
  ];
  return lines.join('\n');
}
