// How the report names tasks: the env option sets the grid runs by short names, so that "Ant-v5
// (contactCostWeight=0, includeCfrcExtInObservation=false)" does not fill its tables, headings and task lists.
import { baseEnv, describeEnvOptions, type TaskRef, taskEnv } from './groups.ts';

const NAMED_OPTION_SETS: readonly { name: string; options: Readonly<Record<string, unknown>> }[] = [
  // The paper's Ant (D4RL's, whose contact forces read zero): see experiments/paper.yaml.
  { name: 'no contact forces', options: { contactCostWeight: 0, includeCfrcExtInObservation: false } },
];

export interface ShortTaskEnv {
  /** "Ant-v5 (no contact forces)"; the task env itself when its options have no short name. */
  label: string;
  /** "Ant-v5 (no contact forces) is Ant-v5 with contactCostWeight=0, …" when `label` is a short name. */
  legend?: string;
}

/** The short label of a task env (groups' taskEnv form: the id, then its options in parentheses). */
export function shortTaskEnv(env: string): ShortTaskEnv {
  const id = baseEnv(env);
  const named = NAMED_OPTION_SETS.find((s) => taskEnv(id, describeEnvOptions(s.options)) === env);
  if (named === undefined) return { label: env };
  const label = `${id} (${named.name})`;
  return { label, legend: `${label} is ${id} with ${describeEnvOptions(named.options)}` };
}

/** How the report names a task env: its short name when it has one. */
export function envName(env: string): string {
  return shortTaskEnv(env).label;
}

/** "Ant-v5 (no contact forces), medium-10k": a task in a title, caption or heading. */
export function taskTitle(t: TaskRef): string {
  return t.dataset === undefined ? envName(t.env) : `${envName(t.env)}, ${t.dataset}`;
}

/** "Ant-v5 (no contact forces) medium-10k": a task in a table cell or column heading. */
export function taskLabel(t: Required<TaskRef>): string {
  return `${envName(t.env)} ${t.dataset}`;
}

/**
 * A list of tasks grouped by env, envs by their short names, in the order they first appear:
 * "Ant-v5 (no contact forces) medium-10k, medium-replay-10k; Hopper-v5 medium-10k".
 */
export function describeTasks(tasks: readonly TaskRef[]): string {
  const datasets = new Map<string, string[]>();
  for (const t of tasks) {
    const list = datasets.get(t.env) ?? [];
    if (t.dataset !== undefined) list.push(t.dataset);
    datasets.set(t.env, list);
  }
  return [...datasets]
    .map(([env, list]) => [envName(env), list.join(', ')].filter((s) => s !== '').join(' '))
    .join('; ');
}

/** "over 2 tasks (HalfCheetah-v5 medium-10k, medium-replay-10k)": the tasks a pooled statement is over. */
export function overTasks(tasks: readonly TaskRef[]): string {
  return `over ${tasks.length} task${tasks.length === 1 ? '' : 's'} (${describeTasks(tasks)})`;
}

/**
 * What the short env names among these envs stand for, each once, as a sentence for the report's top
 * (undefined when none has one): "Short names: Ant-v5 (no contact forces) is Ant-v5 with …".
 */
export function envNamesNote(envs: Iterable<string>): string | undefined {
  const legends = [...new Set(envs)].flatMap((env) => shortTaskEnv(env).legend ?? []);
  return legends.length === 0 ? undefined : `Short names: ${legends.join('; ')}.`;
}
