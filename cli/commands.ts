// The registry of `o2o` subcommands. Each lives in cli/commands/<name>.ts.
import { demoCommand } from './commands/demo.ts';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  demo: demoCommand,
};
