// Builds the report from a results tree: reads the runs, computes every number, draws the figures and
// writes report/index.html, report/figures/*.svg, report/summary.md and report/report.json. The output is
// a function of the results and the commit string only (no clock), so rebuilding changes nothing.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Analysis, analyse, type ReportSettings } from './analysis.ts';
import { type BudgetRow, compareBudgets } from './budgets.ts';
import { checkClaims } from './claims.ts';
import { buildFigures } from './figures.ts';
import { isFinished } from './groups.ts';
import { renderPage } from './html.ts';
import { renderSummary } from './markdown.ts';
import { type RebuildRow, readRebuildChecks } from './rebuilds.ts';
import { readResults } from './results.ts';
import type { Claim } from './verdicts.ts';
import { readWorldModelReports, summariseWorldModels, type WorldModelQuality } from './world-models.ts';

export interface BuildOptions {
  results: string;
  out: string;
  /** Shown as "generated from commit X". */
  commit: string;
  settings?: Partial<ReportSettings>;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface BuiltReport {
  analysis: Analysis;
  claims: Claim[];
  budgets: BudgetRow[];
  rebuilds: RebuildRow[];
  worldModels: WorldModelQuality[];
  files: string[];
}

export function buildReport(o: BuildOptions): BuiltReport {
  const log = o.log ?? (() => {});
  log(`reading ${o.results}`);
  const runs = readResults(o.results);
  const offline = runs.filter((r) => r.offlineOnly).length;
  log(`${runs.length - offline} runs and ${offline} shared pre-trainings; computing statistics`);
  const analysis = analyse(runs, o.settings);
  const claims = checkClaims(analysis);
  const budgets = compareBudgets(runs);
  const rebuilds = readRebuildChecks(o.results);
  const worldModels = summariseWorldModels(readWorldModelReports(o.results), analysis.settings);
  log(`${analysis.groups.length} groups; drawing figures`);
  const figures = buildFigures(analysis);
  const figuresDir = join(o.out, 'figures');
  mkdirSync(figuresDir, { recursive: true });
  // Figures of groups that no longer exist would otherwise linger next to the page.
  for (const f of readdirSync(figuresDir)) if (f.endsWith('.svg')) rmSync(join(figuresDir, f));
  const files: string[] = [];
  const write = (path: string, content: string) => {
    writeFileSync(path, content);
    files.push(path);
  };
  for (const f of figures) write(join(figuresDir, f.file), f.svg);
  const page = {
    analysis,
    figures,
    claims,
    budgets,
    rebuilds,
    worldModels,
    commit: o.commit,
    resultCommits: [...new Set(runs.map((r) => r.config.commit).filter((c): c is string => !!c))].sort(),
    unfinishedDirs: runs.filter((r) => !r.offlineOnly && !isFinished(r)).map((r) => r.dir),
  };
  write(join(o.out, 'index.html'), renderPage(page));
  write(join(o.out, 'summary.md'), renderSummary(page));
  const json = {
    generatedFrom: o.commit,
    ...analysis,
    claims,
    budgets,
    rebuilds,
    worldModels,
    figures: figures.map((f) => f.file),
  };
  write(join(o.out, 'report.json'), `${JSON.stringify(json, null, 1)}\n`);
  log(`wrote ${files.length} files to ${o.out}`);
  return { analysis, claims, budgets, rebuilds, worldModels, files };
}
