// What a build or run ran on. The same code and seed give the same floating-point results only on the same
// matrix-product kernels (OpenBLAS picks them per CPU, and they sum in different orders), so markers and
// done records name them: a rebuild that differs from the build it replaced can then say whether the
// kernels changed in between. Pure (the report reads it); current-platform.ts reads the machine.

export interface BuildPlatform {
  /** The GEMM backend and kernel family, e.g. "native OpenBLAS (1 thread, Zen kernels)". */
  gemm: string;
  /** The CPU model as the OS names it. */
  cpu: string;
  /** Node.js's version (V8's Math functions come with it). */
  node: string;
}

/** Whether two builds ran on the same kernels and Node.js: what bit-identical results need. */
export function samePlatform(a: BuildPlatform, b: BuildPlatform): boolean {
  return a.gemm === b.gemm && a.node === b.node;
}

/** Whether the kernels changed between two builds: 'unknown' when either does not say. */
export function platformChange(
  previous: BuildPlatform | undefined,
  current: BuildPlatform | undefined,
): 'same' | 'changed' | 'unknown' {
  if (previous === undefined || current === undefined) return 'unknown';
  return samePlatform(previous, current) ? 'same' : 'changed';
}

/** "the previous build on …, this one on …", or what is not known of it. */
export function describePlatforms(
  previous: BuildPlatform | undefined,
  current: BuildPlatform | undefined,
): string {
  const on = (p: BuildPlatform) => `${p.gemm}, Node.js ${p.node}`;
  if (previous === undefined) return 'the previous build does not record its kernels';
  if (current === undefined) return 'this build does not record its kernels';
  return samePlatform(previous, current)
    ? `both builds on ${on(current)}`
    : `the previous build on ${on(previous)}, this one on ${on(current)}`;
}
