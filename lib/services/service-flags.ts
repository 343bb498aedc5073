// Command-line overrides of a service's settings: `--flag value` or `--flag=value`, each one a known
// flag, so a typo fails at start-up instead of being ignored. Every service's config.ts reads its
// environment variables and then these.

/** A service setting that is missing, malformed or unknown; main.ts prints it and exits. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The flags given, by name (without the dashes); unknown flags and missing values are ConfigErrors. */
export function parseServiceFlags(argv: readonly string[], known: Iterable<string>): Map<string, string> {
  const names = new Set(known);
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!names.has(name))
      throw new ConfigError(`unknown flag --${name} (known: --${[...names].join(', --')})`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}
