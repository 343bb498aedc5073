// Short names for the env option sets the grid runs: a table with a column per task stays readable when
// "Ant-v5 (contactCostWeight=0, includeCfrcExtInObservation=false)" heads two of its columns.
import { baseEnv, describeEnvOptions, taskEnv } from './groups.ts';

const NAMED_OPTION_SETS: readonly { name: string; options: Readonly<Record<string, unknown>> }[] = [
  // The paper's Ant (D4RL's, whose contact forces read zero): see experiments/paper.yaml.
  { name: 'no contact forces', options: { contactCostWeight: 0, includeCfrcExtInObservation: false } },
];

export interface ShortTaskEnv {
  /** "Ant-v5 (no contact forces)"; the task env itself when its options have no short name. */
  label: string;
  /** "Ant-v5 (no contact forces): Ant-v5 with contactCostWeight=0, …" when `label` is a short name. */
  legend?: string;
}

/** The short label of a task env (groups' taskEnv form: the id, then its options in parentheses). */
export function shortTaskEnv(env: string): ShortTaskEnv {
  const id = baseEnv(env);
  const named = NAMED_OPTION_SETS.find((s) => taskEnv(id, describeEnvOptions(s.options)) === env);
  if (named === undefined) return { label: env };
  const label = `${id} (${named.name})`;
  return { label, legend: `${label}: ${id} with ${describeEnvOptions(named.options)}` };
}
