// The `o2o` command line: one subcommand per job, each validating its own flags.

import { UsageError } from './args.ts';
import { commands } from './commands.ts';

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return [
    'usage: o2o <command> [flags]',
    '',
    'commands:',
    ...lines,
    '',
    'o2o <command> --help for its flags',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`o2o: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`o2o ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
