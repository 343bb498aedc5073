// `o2o trace summary [<file-or-dir>] [--json] [--traces N]`: per service and operation span counts and
// p50/p99 durations, and the services each trace crossed, from the JSONL span files the services write
// with O2O_TRACE_FILE / O2O_TRACE_DIR.
import { z } from 'zod';
import { formatTraceSummary, summarizeTraceFiles } from '../../lib/telemetry/summary.ts';
import { type CommandSpec, integerFlag, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';

const spec = {
  flags: {
    json: { type: 'boolean' },
    traces: { type: 'string' },
  },
  schema: z.object({
    json: z.boolean().default(false),
    traces: integerFlag('traces', 0).default(20),
    _: z
      .array(z.string())
      .refine((a) => a[0] === 'summary' && a.length <= 2, 'expected: summary [<file-or-dir>]'),
  }),
  help: [
    'usage: o2o trace summary [<file-or-dir>] [--json] [--traces N]',
    '',
    'Summarises span JSONL files (one file, or a directory of <service>-<pid>.jsonl written with',
    'O2O_TRACE_DIR): per service and operation, span counts, errors, p50/p99/max durations; per trace,',
    'the services it crossed and how many parent spans are missing. Without a path: $O2O_TRACE_DIR,',
    'else $O2O_TRACE_FILE.',
    '  --json       print one JSON object (all traces) instead of tables',
    '  --traces N   list at most N traces in the table (default 20; the widest first)',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

function envPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ['O2O_TRACE_DIR', 'O2O_TRACE_FILE']) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

export const traceCommand: Command = {
  summary: 'span files written by the services: per-operation latency, services per trace',
  async run(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, spec);
    if (flags === 'help') {
      console.log(spec.help);
      return 0;
    }
    const path = flags._[1] ?? envPath(process.env);
    if (path === undefined)
      throw new UsageError(
        `no span file given and neither O2O_TRACE_DIR nor O2O_TRACE_FILE is set\n\n${spec.help}`,
      );
    let summary: ReturnType<typeof summarizeTraceFiles>;
    try {
      summary = summarizeTraceFiles(path);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (flags.json) console.log(JSON.stringify(summary));
    else console.log(formatTraceSummary(summary, flags.traces));
    for (const problem of summary.malformed.slice(0, 5)) console.error(`malformed span line: ${problem}`);
    return summary.spans === 0 ? 1 : 0;
  },
};
