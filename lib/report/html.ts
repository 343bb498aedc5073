// The report page: one self-contained HTML file with the figures inline (also written to figures/), the
// tables, the claims and the method notes. No scripts, no external resources.
import type { Analysis } from './analysis.ts';
import type { BudgetRow } from './budgets.ts';
import { CRITIC_HELD_OUT_NOTE, criticNote } from './critic-analysis.ts';
import { describeHeldOutGaps, heldOutGaps } from './critic-held-out-gap.ts';
import type { Figure } from './figure-parts.ts';
import { formatRange } from './format.ts';
import { describeFrozen } from './frozen-runs.ts';
import { describeRebuilds, type RebuildRow } from './rebuilds.ts';
import { envName, envNamesNote } from './short-task.ts';
import { escapeXml as esc } from './svg/xml.ts';
import {
  aggregateTable,
  budgetTable,
  claimsAtAGlanceTable,
  criticHeldOutTable,
  criticOutcomeTable,
  criticTable,
  finalScoresTable,
  headlineTable,
  pooledStepsTable,
  rebuildTable,
  runListTable,
  scratchBaselineNotes,
  scratchBaselineTable,
  sweepTable,
  type Table,
  thresholdTable,
  worldModelTable,
} from './tables.ts';
import type { Claim, Verdict } from './verdicts.ts';
import { describeWorldModels, WORLD_MODEL_NOTE, type WorldModelQuality } from './world-models.ts';

export interface PageInput {
  analysis: Analysis;
  figures: Figure[];
  claims: Claim[];
  budgets: BudgetRow[];
  rebuilds: RebuildRow[];
  worldModels: WorldModelQuality[];
  commit: string;
  resultCommits: string[];
  unfinishedDirs: string[];
}

const STYLE = `
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1200px; color: #111; line-height: 1.45; padding: 0 16px; }
h1 { font-size: 24px; } h2 { font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0 20px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } .caption { font-weight: bold; font-size: 13px; margin: 16px 0 4px; }
.scroll { overflow-x: auto; margin: 0 0 20px; } .scroll table { margin: 0; }
/* A table wider than the page scrolls sideways with its first column (what each row is) kept in view. */
.scroll td:first-child, .scroll th:first-child { position: sticky; left: 0; z-index: 1; }
.scroll td:first-child { background: #fff; } .claims-grid td:first-child { min-width: 16em; }
figure { margin: 16px 0 24px; } figcaption { font-size: 13px; color: #444; max-width: 900px; }
.meta { color: #555; font-size: 13px; }
.holds { color: #006d44; font-weight: bold; } .does-not-hold { color: #b33a00; font-weight: bold; }
.inconclusive { color: #7a5a00; font-weight: bold; } .not-run { color: #777; font-weight: bold; }
`;

/** One commit is named; many are counted (the run list names each run's), so the header stays one line. */
export function writtenBy(commits: string[]): string {
  if (commits.length === 0) return 'results written by unrecorded commits';
  if (commits.length === 1) return `results written by commit ${esc(commits[0]!.slice(0, 12))}`;
  return `results written by ${commits.length} commits (each run's is in the run list)`;
}

/**
 * `classOf` may give a cell a CSS class (by its text and column), e.g. a verdict's colour; `tableClass` the
 * table one.
 */
function table(
  t: Table,
  classOf?: (cell: string, column: number) => string | undefined,
  tableClass?: string,
): string {
  if (t.rows.length === 0) return `<p class="meta">${esc(t.caption)}: no data.</p>`;
  const head = t.header.map((h) => `<th>${esc(h)}</th>`).join('');
  const td = (c: string, i: number) => {
    const cls = classOf?.(c, i);
    return `<td${cls ? ` class="${esc(cls)}"` : ''}>${esc(c)}</td>`;
  };
  const body = t.rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('\n');
  // The caption outside the scrolling box: it wraps at the page's width however wide the table is.
  return (
    `<p class="caption">${esc(t.caption)}</p>\n` +
    `<div class="scroll"><table${tableClass ? ` class="${esc(tableClass)}"` : ''}>\n` +
    `<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`
  );
}

function figures(list: Figure[], section: Figure['section']): string {
  const chosen = list.filter((f) => f.section === section);
  if (chosen.length === 0) return '<p class="meta">No runs for this section yet.</p>';
  return chosen
    .map(
      (f) =>
        `<figure id="${esc(f.file)}">\n${f.svg}<figcaption>${esc(f.caption)} (<a href="figures/${esc(f.file)}">${esc(f.file)}</a>)</figcaption>\n</figure>`,
    )
    .join('\n');
}

const VERDICTS: readonly Verdict[] = ['does not hold', 'holds', 'inconclusive', 'not run'];

/** A cell of the claims grid, coloured by the verdict it starts with. */
function verdictClass(cell: string, column: number): string | undefined {
  if (column === 0) return undefined;
  return VERDICTS.find((v) => cell.startsWith(v))?.replace(/ /g, '-');
}

function claims(list: Claim[]): string {
  if (list.length === 0)
    return '<p class="meta">No comparisons yet: needs finished scratch and pre-trained runs.</p>';
  const rows = list.map(
    (c) =>
      `<tr><td>${esc(envName(c.env))}</td><td>${esc(c.dataset)}</td><td>${esc(c.claim)}</td>` +
      `<td class="${c.verdict.replace(/ /g, '-')}">${esc(c.verdict)}</td><td>${esc(c.text)}</td></tr>`,
  );
  return `<table>\n<thead><tr><th>env</th><th>dataset</th><th>claim</th><th>verdict</th><th>evidence</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

export function renderPage(p: PageInput): string {
  const a = p.analysis;
  const frozen = describeFrozen(a.runList);
  const pooledSteps = pooledStepsTable(a);
  const headline = headlineTable(a);
  const names = envNamesNote(a.groups.map((g) => g.env));
  const smaller = p.budgets.filter((b) => b.smaller);
  const smallerList =
    smaller.length === 0
      ? '<p>None of our budgets is smaller than the paper’s.</p>'
      : `<ul>\n${smaller.map((b) => `<li>${esc(b.env)}: ${esc(b.parameter)} — ours ${esc(formatRange(b.oursMin, b.oursMax))}, the paper’s ${esc(b.paper)}</li>`).join('\n')}\n</ul>`;
  const unfinished =
    p.unfinishedDirs.length === 0
      ? ''
      : `<details><summary>${p.unfinishedDirs.length} unfinished runs (excluded from final statistics)</summary><ul>${p.unfinishedDirs.map((d) => `<li>${esc(d)}</li>`).join('')}</ul></details>`;
  const runList = `<details><summary>All ${a.runList.length} runs</summary>\n${table(runListTable(a))}\n</details>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>o2o: reproduction report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Small Dataset, Big Gains — reproduction report</h1>
<nav class="meta">Sections: <a href="#headline">headline</a> · <a href="#claims">claims</a> · <a href="#curves">learning curves</a> · <a href="#finals">final scores</a> · <a href="#ablations">ablations</a> · <a href="#critic">critic</a> · <a href="#world-model">world model</a> · <a href="#sweeps">sweeps</a> · <a href="#budgets">budgets</a> · <a href="#reproducibility">reproducibility</a> · <a href="#method">method</a></nav>
<p class="meta">Generated from commit ${esc(p.commit)}; ${writtenBy(p.resultCommits)}.
${a.runs.total} runs (${a.runs.finished} finished, ${a.runs.unfinished} unfinished), ${a.runs.offlineOnly} shared offline pre-trainings.
Intervals: 95% percentile bootstrap over seeds, ${a.settings.resamples} resamples, seed ${a.settings.seed}.${names === undefined ? '' : `\n${esc(names)}`}</p>
${unfinished}
${runList}
<h2 id="headline">Headline: environment steps to reach TD3-from-scratch's final return</h2>
${headline ? table(headline) : ''}
${a.thresholds.map((t) => table(thresholdTable(t))).join('\n') || '<p class="meta">Needs finished TD3-from-scratch runs and pre-trained runs on the same env.</p>'}
${pooledSteps ? table(pooledSteps) : ''}
<h2 id="claims">The paper's claims</h2>
${p.claims.length > 0 ? table(claimsAtAGlanceTable(p.claims), verdictClass, 'claims-grid') : ''}
${claims(p.claims)}
<h2 id="curves">Learning curves</h2>
${figures(p.figures, 'curves')}
<h2 id="finals">Final scores</h2>
${table(finalScoresTable(a))}
${frozen ? `<p>${esc(frozen)}</p>` : ''}
${table(aggregateTable(a))}
<h2 id="ablations">Ablations: which pre-trained parts, with and without augmentation</h2>
${figures(p.figures, 'ablations')}
<h2 id="critic">Critic analysis</h2>
<p>${esc(criticNote(a))}</p>
${table(criticTable(a))}
<p>${esc(CRITIC_HELD_OUT_NOTE)}</p>
${criticHeldOutTable(a).rows.length > 0 ? `${table(criticHeldOutTable(a))}\n<p>${esc(describeHeldOutGaps(heldOutGaps(a.critic)))}</p>` : '<p class="meta">No shared pre-training has been checked yet.</p>'}
${figures(p.figures, 'critic')}
${criticOutcomeTable(a).rows.length > 0 ? table(criticOutcomeTable(a)) : ''}
<h2 id="world-model">World model: held-out one-step error</h2>
<p>${esc(WORLD_MODEL_NOTE)} ${esc(describeWorldModels(p.worldModels))}</p>
${p.worldModels.length > 0 ? table(worldModelTable(p.worldModels)) : '<p class="meta">No world model has been built in these results yet.</p>'}
${figures(p.figures, 'world-model')}
<h2 id="sweeps">Sweeps</h2>
${a.sweeps.length > 0 ? table(sweepTable(a)) : ''}
${figures(p.figures, 'sweeps')}
<h2 id="budgets">Budgets vs the paper</h2>
<p>Where our budgets are smaller than the paper's:</p>
${smallerList}
${table(budgetTable(p.budgets))}
${table(scratchBaselineTable(a))}
${scratchBaselineNotes(a)
  .map((note) => `<p>${esc(note)}</p>`)
  .join('\n')}
<h2 id="reproducibility">Reproducibility</h2>
<p>${esc(describeRebuilds(p.rebuilds))}</p>
${p.rebuilds.length > 0 ? `<details><summary>The ${p.rebuilds.length} rebuilds</summary>\n${table(rebuildTable(p.rebuilds))}\n</details>` : ''}
<h2 id="method">Method</h2>
<ul>
<li>Runs are grouped by their config.json (env × dataset × variant × pre-trained parts × augmentation fraction); seeds of a group are its samples. Unfinished runs (no done.json) are counted and drawn faint, never used in a statistic.</li>
<li>IQM is the 25% trimmed mean as scipy.stats.trim_mean computes it for rliable: floor(n/4) runs cut from each end, so with 5 seeds it is the mean of the middle 3.</li>
<li>Confidence intervals are percentile bootstrap intervals (rliable's method): seeds are resampled with replacement within each env (stratified), the statistic is recomputed, and the 2.5th and 97.5th percentiles are reported.</li>
<li>Threshold: the mean final evaluation return of the env's TD3-from-scratch runs. A run reaches it at the first online evaluation whose return${a.settings.window > 1 ? `, averaged over the last ${a.settings.window} evaluations,` : ''} is at or above it; a run that never does is censored at its budget (“&gt; budget”; an IQM over censored runs is a lower bound, shown “≥”). The ratio is IQM(variant steps) / IQM(scratch steps); its bootstrap resamples scratch and variant seeds separately and recomputes the threshold from the resampled scratch runs. Where scratch's own first evaluation (step 0) already reaches its final return (steps IQM 0), no run can need fewer steps: that env gets no ratio (“n/a”) and stays out of the pooled ratio.</li>
<li>Claims: a verdict needs the two sides' 95% intervals to separate and at least 3 finished seeds on each side. Beside it, each final-score comparison quotes its paired view: runs of one seed share their data subset (and, within one kind of pre-training, the pre-trained networks), so the mean of the per-seed differences, with its bootstrap interval, is free of the subset's luck. It is the more powerful test on 3–5 pairs and the less safe one, so it informs and does not decide.</li>
<li>Scores are D4RL-normalised: 100 · (return − random) / (expert − random) with D4RL's reference returns.</li>
<li>Online phase: TD3 from scratch takes uniformly random actions for its first start steps; a pre-trained run instead acts with its actor plus exploration noise for as many warm-up steps, without updates, then fine-tunes (the paper's protocol). The actor-only and critic-only ablations (not in the author's public code, whose fine-tuning always loads both parts) fine-tune one pre-trained part beside a freshly initialised other part (network, target and Adam state); in critic-only runs that fresh actor is the warm-up policy, so their first steps collect that untrained policy's actions (plus noise) rather than uniform ones. The step budgets are in the budgets section.</li>
</ul>
</body>
</html>
`;
}
