// `o2o run [SPEC] [--run-dir DIR] | --resume DIR`: one experiment through the services. Starts its own
// nats-server, world-model service, simulators and learner (services/launcher), runs the coordinator on
// the spec (default: services/coordinator/specs/default.yaml), stops everything and prints the report path.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type ExperimentSpec, loadSpecFile, SpecError } from '../../lib/services/spec.ts';
import { DEFAULT_SPEC_PATH } from '../../services/coordinator/config.ts';
import { launch } from '../../services/launcher/launch.ts';
import {
  type RestartPolicy,
  RestartPolicyError,
  restartPolicyFromEnv,
} from '../../services/launcher/restart-policy.ts';
import { type CommandSpec, parseFlags, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';

/**
 * Copies `file` to where the spec's dataset.file points inside `runDir`: the services read a dataset only
 * from the run directory. A usage error when the spec generates its data, `file` is missing, or another
 * file is already there.
 */
export function placeDataset(spec: ExperimentSpec, runDir: string, file: string): string {
  if (!('file' in spec.dataset))
    throw new UsageError(
      '--dataset: the spec generates its dataset (dataset.generate); give it dataset.file',
    );
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UsageError(
      `--dataset: ${file} is not a file (a D4RL .hdf5 file; o2o dataset convert turns a Minari dataset into one)`,
    );
  const target = join(runDir, spec.dataset.file);
  if (existsSync(target)) {
    if (readFileSync(target).equals(readFileSync(file))) return target;
    throw new UsageError(`--dataset: ${target} already holds another file (use another --run-dir)`);
  }
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
  return target;
}

const spec = {
  flags: {
    'run-dir': { type: 'string' },
    dataset: { type: 'string' },
    resume: { type: 'string' },
    simulators: { type: 'string' },
  },
  schema: z
    .object({
      'run-dir': z.string().min(1).optional(),
      dataset: z.string().min(1).optional(),
      resume: z.string().min(1).optional(),
      simulators: z.coerce.number().int().min(1).max(64).optional(),
      _: z.array(z.string()).max(1, 'run takes at most one SPEC'),
    })
    .refine(
      (f) =>
        f.resume === undefined || (f['run-dir'] === undefined && f.dataset === undefined && f._.length === 0),
      {
        message:
          '--resume DIR continues a run with its own spec and data: give no SPEC, --run-dir or --dataset with it',
        path: ['resume'],
      },
    ),
  help: [
    'usage: o2o run [SPEC] [--run-dir DIR] [--dataset FILE] [--simulators N]',
    '       o2o run --resume DIR',
    '',
    'Runs an experiment spec (YAML/JSON, see lib/services/spec.ts; default: the small Hopper-v5 run in',
    'services/coordinator/specs/default.yaml) through the services: starts nats-server, the world-model',
    'service, simulators and the learner, drives the phases, writes DIR/report.md, stops everything.',
    '',
    '  --run-dir DIR     where the run goes (default runs/<spec name>-<UTC time>)',
    "  --dataset FILE    copy FILE into the run directory where the spec's dataset.file says (a spec's",
    '                    paths stay inside its run directory), e.g. datasets/Ant-v5/medium-replay.hdf5',
    '  --resume DIR      continue the run in DIR, skipping the phases state.json marks finished',
    "  --simulators N    simulator processes (default: the spec's online.simulators)",
    '',
    'Spans of every service go to DIR/traces (o2o trace summary DIR/traces).',
  ].join('\n'),
} satisfies CommandSpec<z.ZodType>;

export const runCommand: Command = {
  summary: 'one experiment spec through the services (starts NATS and every service, writes report.md)',
  async run(argv: string[]): Promise<number> {
    const flags = parseFlags(argv, spec);
    if (flags === 'help') {
      console.log(spec.help);
      return 0;
    }
    const specPath = flags._[0] ?? DEFAULT_SPEC_PATH;
    let runDir: string;
    if (flags.resume !== undefined) {
      runDir = resolve(flags.resume);
      if (!existsSync(join(runDir, 'state.json'))) {
        throw new UsageError(`--resume ${flags.resume}: no state.json there (not a run directory)`);
      }
    } else {
      let parsed: ExperimentSpec;
      try {
        parsed = loadSpecFile(specPath); // fail on a bad spec before starting anything
      } catch (err) {
        if (err instanceof SpecError) throw new UsageError(err.message);
        throw err;
      }
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
      runDir = resolve(flags['run-dir'] ?? `runs/${parsed.name}-${stamp}`);
      if (flags.dataset !== undefined) placeDataset(parsed, runDir, flags.dataset);
    }
    let restart: RestartPolicy;
    try {
      restart = restartPolicyFromEnv(); // O2O_RUN_MAX_RESTARTS etc.: a bad value is a usage error
    } catch (err) {
      if (err instanceof RestartPolicyError) throw new UsageError(err.message);
      throw err;
    }
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await launch({
        ...(flags.resume === undefined ? { specPath } : { resume: true }),
        runDir,
        restart,
        ...(flags.simulators === undefined ? {} : { simulators: flags.simulators }),
        signal: abort.signal,
      });
      if (!result.ok) {
        console.error(`[launcher] run failed: ${result.reason}`);
        if (result.reportPath !== undefined) console.error(`[launcher] partial report: ${result.reportPath}`);
        console.error(`[launcher] resume with: o2o run --resume ${result.runDir}`);
        return abort.signal.aborted ? 130 : 1;
      }
      console.log(result.reportPath ?? `${result.runDir} (no report written)`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
