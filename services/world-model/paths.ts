// Every path a client names is relative to the run root: absolute paths, `..` escapes and NUL bytes are
// refused, so a request can never read or write outside the directory the service was given.
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class PathError extends Error {
  override readonly name = 'PathError';
}

/** The absolute path of `rel` inside `root`; throws PathError naming `field` when it would escape. */
export function resolveInRunRoot(root: string, rel: string, field: string): string {
  if (typeof rel !== 'string' || rel.trim() === '') throw new PathError(`${field}: must be a non-empty path`);
  if (rel.includes('\0')) throw new PathError(`${field}: contains a NUL byte`);
  if (isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel))
    throw new PathError(`${field}: '${rel}' is absolute; paths are relative to the run root`);
  if (rel.split(/[\\/]/).includes('..'))
    throw new PathError(`${field}: '${rel}' contains '..'; paths must stay inside the run root`);
  const base = resolve(root);
  const full = resolve(base, rel);
  const back = relative(base, full);
  if (back === '' || back.startsWith(`..${sep}`) || back === '..' || isAbsolute(back))
    throw new PathError(`${field}: '${rel}' does not name a file inside the run root`);
  return full;
}

/** `full` relative to `root` (for answers: clients only ever see run-root-relative paths). */
export function relativeToRunRoot(root: string, full: string): string {
  return relative(resolve(root), full).split(sep).join('/');
}
