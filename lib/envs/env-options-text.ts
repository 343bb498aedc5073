// Env options as text: one canonical JSON form (keys sorted) that services compare and carry in messages,
// and the human form that names an env with its options in reports and errors.

/** The options with their keys sorted, so that equal options give equal JSON. */
export function sortedEnvOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Canonical JSON of env options: keys sorted; '' for none (the env's defaults). */
export function envOptionsJson(options: Readonly<Record<string, unknown>> | undefined): string {
  if (options === undefined || Object.keys(options).length === 0) return '';
  return JSON.stringify(sortedEnvOptions(options));
}

/**
 * The options in `text` (envOptionsJson's form; '' is none). Throws unless it is a JSON object, the message
 * starting with `what`, e.g. "env options" or "simulator 10.0.0.7:5000's env_options_json".
 */
export function parseEnvOptionsJson(text: string, what: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} are not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object, e.g. {"contactCostWeight":0}`);
  return value as Record<string, unknown>;
}

/** Whether two sets of options are the same env's (none and {} are both the defaults; key order does not count). */
export function sameEnvOptions(
  a: Readonly<Record<string, unknown>> | undefined,
  b: Readonly<Record<string, unknown>> | undefined,
): boolean {
  return envOptionsJson(a) === envOptionsJson(b);
}

/** "contactCostWeight=0, includeCfrcExtInObservation=false": keys sorted; '' for the defaults. */
export function describeEnvOptions(options: Readonly<Record<string, unknown>> | undefined): string {
  if (options === undefined) return '';
  return Object.keys(options)
    .sort()
    .map((k) => `${k}=${JSON.stringify(options[k])}`)
    .join(', ');
}

/**
 * The env with its options, "Ant-v5 (contactCostWeight=0, includeCfrcExtInObservation=false)"; the id
 * alone for the defaults. `envOptions` is describeEnvOptions' text.
 */
export function taskEnv(env: string, envOptions: string): string {
  return envOptions === '' ? env : `${env} (${envOptions})`;
}

/**
 * Throws "`what`: recorded on <env with recordedOn>, the run is on <env with runOn>" unless the two are the
 * same options (undefined and {}: the defaults): rows a service takes as they are, without rewriting.
 */
export function checkRecordedOnRunOptions(
  what: string,
  envId: string,
  recordedOn: Readonly<Record<string, unknown>> | undefined,
  runOn: Readonly<Record<string, unknown>> | undefined,
): void {
  if (!sameEnvOptions(recordedOn, runOn))
    throw new Error(
      `${what}: recorded on ${describeEnv(envId, recordedOn)}, the run is on ${describeEnv(envId, runOn)}`,
    );
}

/** The env and its options (an object) as taskEnv names them. */
export function describeEnv(env: string, options: Readonly<Record<string, unknown>> | undefined): string {
  return taskEnv(env, describeEnvOptions(options));
}
