// Column arithmetic on row-major float32 observations, shared by the transition rewrites
// (derive-transitions.ts, gym-v2-rows.ts).

/** The first `kept` of each row's `width` values (a copy; the whole array when nothing is dropped). */
export function leadingColumns(all: Float32Array, width: number, kept: number): Float32Array {
  if (kept === width) return all.slice();
  const rows = all.length / width;
  const out = new Float32Array(rows * kept);
  for (let r = 0; r < rows; r++) out.set(all.subarray(r * width, r * width + kept), r * kept);
  return out;
}

/** Σ x² over columns [from, width) of row `row`. */
export function trailingSumOfSquares(all: Float32Array, width: number, row: number, from: number): number {
  let sum = 0;
  for (let i = row * width + from; i < (row + 1) * width; i++) sum += all[i]! ** 2;
  return sum;
}
