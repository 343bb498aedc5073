// D4RL score normalisation: 100 · (return − random) / (expert − random), with D4RL's reference
// returns of a uniformly random policy and of an expert policy per locomotion task.

export interface ReferenceReturns {
  random: number;
  expert: number;
}

export const D4RL_REFERENCE_RETURNS: Readonly<Record<string, ReferenceReturns>> = {
  hopper: { random: -20.272305, expert: 3234.3 },
  halfcheetah: { random: -280.178953, expert: 12135.0 },
  walker2d: { random: 1.629008, expert: 4592.3 },
  ant: { random: -325.6, expert: 3879.7 },
};

/** Task family of an env id or D4RL dataset name: `Hopper-v5` and `hopper-medium-v2` → `hopper`. */
export function scoreFamily(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const family of Object.keys(D4RL_REFERENCE_RETURNS)) if (lower.startsWith(family)) return family;
  return undefined;
}

export function normalizedScore(family: string, episodeReturn: number): number {
  const ref = Object.hasOwn(D4RL_REFERENCE_RETURNS, family) ? D4RL_REFERENCE_RETURNS[family] : undefined;
  if (!ref) {
    throw new Error(
      `no D4RL reference returns for '${family}' (known: ${Object.keys(D4RL_REFERENCE_RETURNS).join(', ')})`,
    );
  }
  return (100 * (episodeReturn - ref.random)) / (ref.expert - ref.random);
}
