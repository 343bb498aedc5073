// Every file the learner reads or writes lies inside O2O_RUN_ROOT: a request's run_dir and the inputs
// named in it are resolved against it and refused when they would escape it.
import { isAbsolute, relative, resolve } from 'node:path';

export function confine(root: string, path: string, what: string): string {
  const base = resolve(root);
  const full = resolve(base, path);
  const rel = relative(base, full);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`${what}: '${path}' is outside the run root ${base}`);
  }
  return full;
}

/** The run directory of a request and a resolver for the paths inside it. */
export function runPaths(root: string, runDir: string) {
  const dir = confine(root, runDir, 'run_dir');
  return { dir, file: (path: string, what: string) => confine(dir, path, what) };
}
