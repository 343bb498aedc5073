// The registry of `o2o` subcommands. Each lives in cli/commands/<name>.ts and is imported only when it
// runs, so that `o2o --help` does not pay for loading MuJoCo or native addons.

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

function lazy(summary: string, load: () => Promise<Command>): Command {
  return { summary, run: async (argv) => (await load()).run(argv) };
}

export const commands: Record<string, Command> = {
  demo: lazy('random-policy rollouts on a MuJoCo environment (returns, lengths, steps/s)', async () => {
    return (await import('./commands/demo.ts')).demoCommand;
  }),
  train: lazy('one variant end to end in-process: (world model,) TD3+BC offline, TD3 online', async () => {
    return (await import('./commands/train.ts')).trainCommand;
  }),
  dataset: lazy('offline datasets (Minari, D4RL): info, seeded subsets, conversion', async () => {
    return (await import('./commands/dataset.ts')).datasetCommand;
  }),
  run: lazy('an experiment spec through the services (starts NATS and each service)', async () => {
    return (await import('./commands/run.ts')).runCommand;
  }),
  experiment: lazy('the paper grid, resumable, into results/: run, paper, status', async () => {
    return (await import('./commands/experiment.ts')).experimentCommand;
  }),
  report: lazy('the experiment report from results/: HTML + SVG figures, summary, JSON', async () => {
    return (await import('./commands/report.ts')).reportCommand;
  }),
  trace: lazy('span files written by the services: per-operation latency, services per trace', async () => {
    return (await import('./commands/trace.ts')).traceCommand;
  }),
};
