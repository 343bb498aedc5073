// `o2o report`: the experiment report from results/ (HTML page with SVG figures, markdown summary, JSON
// with every number). See lib/report/build.ts.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';
import { buildReport } from '../../lib/report/build.ts';
import { ResultsError } from '../../lib/report/results.ts';
import { type CommandSpec, integerFlag, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';

const spec = {
  flags: {
    results: { type: 'string' },
    out: { type: 'string' },
    resamples: { type: 'string' },
    seed: { type: 'string' },
    window: { type: 'string' },
  },
  schema: z.object({
    results: z.string().min(1).default('results'),
    out: z.string().min(1).default('report'),
    resamples: integerFlag('resamples', 1).default(2000),
    seed: integerFlag('seed', 0).default(0),
    window: integerFlag('window', 1).default(1),
    _: z.array(z.string()).max(0, 'report takes no positional arguments'),
  }),
  help: [
    'usage: o2o report [--results DIR] [--out DIR] [flags]',
    '',
    'Builds the experiment report from a results tree: index.html (figures inline), figures/*.svg,',
    'summary.md and report.json. Deterministic for the same results and commit.',
    '  --results DIR   results tree (default results)',
    '  --out DIR       output directory (default report)',
    '  --resamples N   bootstrap resamples per interval (default 2000)',
    '  --seed S        bootstrap seed (default 0)',
    '  --window W      evaluations averaged before comparing with the threshold (default 1: none)',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

/** The commit of the code building the report (this checkout's, wherever the command runs from). */
function currentCommit(): string {
  try {
    const repo = resolve(import.meta.dirname, '..', '..');
    return execFileSync('git', ['-C', repo, 'rev-parse', '--short=12', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export const reportCommand: Command = {
  summary: 'the experiment report from results/: HTML + SVG figures, summary, JSON',
  async run(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, spec);
    if (flags === 'help') {
      console.log(spec.help);
      return 0;
    }
    try {
      const built = buildReport({
        results: flags.results,
        out: flags.out,
        commit: currentCommit(),
        settings: { resamples: flags.resamples, seed: flags.seed, window: flags.window },
        log: (line) => console.error(`[report] ${line}`),
      });
      console.log(built.files.find((f) => f.endsWith('index.html')));
      return 0;
    } catch (err) {
      if (err instanceof ResultsError) throw new UsageError(err.message);
      throw err;
    }
  },
};
