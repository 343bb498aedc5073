// Locates the shared reference material (Gymnasium's model files, kept outside the repository as a
// test oracle). Without it, the tests that need it are skipped and say why, except in CI, where the
// parity tests must run and a missing reference fails them.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `$O2O_SHARED_DIR` if set, else the `shared/` folder beside the repository. */
export function sharedDir(): string {
  return process.env['O2O_SHARED_DIR'] ?? join(repoRoot, '..', 'shared');
}

/** The folder holding Gymnasium's model files, or undefined when it is absent. */
export function gymnasiumModelsDir(): string | undefined {
  const dir = join(sharedDir(), 'reference', 'gymnasium-mujoco');
  return existsSync(join(dir, 'SOURCE.md')) ? dir : undefined;
}

/**
 * For a mocha `before` hook: returns the reference folder, or skips the suite with a message when it is
 * absent. Under CI=true absence is an error, so that CI cannot pass without running the parity checks.
 */
export function requireGymnasiumModels(ctx: Mocha.Context): string {
  const dir = gymnasiumModelsDir();
  if (dir !== undefined) return dir;
  const where = join(sharedDir(), 'reference', 'gymnasium-mujoco');
  if (process.env['CI'] === 'true') {
    throw new Error(`CI=true but the reference models are missing at ${where}; set O2O_SHARED_DIR`);
  }
  console.warn(`    (skipped: reference models not found at ${where}; set O2O_SHARED_DIR to run)`);
  ctx.skip();
}
