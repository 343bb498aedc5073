/** numpy's clip for one value: NaN stays NaN (as np.clip), so a broken state is never hidden. */
export function clip(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
