// The world model's view of an offline dataset: columnar transitions (field names as lib/data's
// DatasetColumns, so a loaded dataset can be passed as is), which rows it may learn from, and a seeded
// train / held-out split.
import { NnRng } from '../nn/index.ts';

export interface TransitionData {
  obsDim: number;
  actDim: number;
  /** rows × obsDim: the state each action was taken in. */
  observations: Float32Array;
  actions: Float32Array;
  nextObservations: Float32Array;
  /** 1 where the transition ends in a termination; such rows are left out. */
  terminals?: Uint8Array;
  /** 1 where the transition ends in a time-out; such rows are left out. */
  timeouts?: Uint8Array;
  /** Optional extra selection: only rows with mask 1 are used. */
  mask?: Uint8Array;
}

function assertFinite(data: Float32Array, dim: number, what: string, where: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!))
      throw new RangeError(`${where}: ${what}[row ${Math.floor(i / dim)}, col ${i % dim}] is ${data[i]}`);
  }
}

/** Checks shapes and values; returns the row count. */
export function validateTransitions(d: TransitionData, where = 'world-model data'): number {
  for (const k of ['obsDim', 'actDim'] as const) {
    if (!Number.isInteger(d[k]) || d[k] < 1)
      throw new RangeError(`${where}: ${k} must be a positive integer, got ${d[k]}`);
  }
  if (!(d.observations instanceof Float32Array))
    throw new TypeError(`${where}: observations must be a Float32Array`);
  if (d.observations.length % d.obsDim !== 0)
    throw new RangeError(
      `${where}: observations has ${d.observations.length} values, not a multiple of obsDim ${d.obsDim}`,
    );
  const rows = d.observations.length / d.obsDim;
  const expect: [string, ArrayLike<number> | undefined, number][] = [
    ['actions', d.actions, rows * d.actDim],
    ['nextObservations', d.nextObservations, rows * d.obsDim],
    ['terminals', d.terminals, rows],
    ['timeouts', d.timeouts, rows],
    ['mask', d.mask, rows],
  ];
  for (const [what, col, len] of expect) {
    if (col === undefined) {
      if (what === 'actions' || what === 'nextObservations')
        throw new TypeError(`${where}: ${what} is missing`);
      continue;
    }
    if (col.length !== len)
      throw new RangeError(`${where}: ${what} has ${col.length} values, expected ${len} (${rows} rows)`);
  }
  assertFinite(d.observations, d.obsDim, 'observations', where);
  assertFinite(d.actions, d.actDim, 'actions', where);
  assertFinite(d.nextObservations, d.obsDim, 'nextObservations', where);
  return rows;
}

/** Rows the world model learns from: selected by the mask and ending in neither a termination nor a time-out. */
export function usableRows(d: TransitionData): Int32Array {
  const rows = validateTransitions(d);
  const keep: number[] = [];
  for (let i = 0; i < rows; i++) {
    if (d.mask !== undefined && d.mask[i] === 0) continue;
    if (d.terminals?.[i] || d.timeouts?.[i]) continue;
    keep.push(i);
  }
  return Int32Array.from(keep);
}

/** In-place Fisher–Yates shuffle drawn from `rng`. */
export function shuffleInPlace(a: Int32Array, rng: NnRng): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

export interface RowSplit {
  train: Int32Array;
  heldOut: Int32Array;
}

/** A seeded split of `rows`: round(fraction · n) held out (at least 1 when fraction > 0), the rest for training. */
export function splitRows(rows: Int32Array, heldOutFraction: number, seed: number): RowSplit {
  if (!(heldOutFraction >= 0 && heldOutFraction < 1))
    throw new RangeError(`splitRows: heldOutFraction must be in [0, 1), got ${heldOutFraction}`);
  const shuffled = shuffleInPlace(rows.slice(), new NnRng(seed));
  let k = Math.round(heldOutFraction * rows.length);
  if (heldOutFraction > 0) k = Math.max(1, k);
  if (rows.length - k < 1)
    throw new RangeError(`splitRows: ${rows.length} rows leave nothing to train on after holding out ${k}`);
  // Sorted so that gathering walks memory forward; the order carries no information.
  return { heldOut: shuffled.slice(0, k).sort(), train: shuffled.slice(k).sort() };
}

/** dst[r] = src[rows[from + r]] for r < count, rows of `dim`. */
export function gatherRows(
  src: Float32Array,
  dim: number,
  rows: ArrayLike<number>,
  from: number,
  count: number,
  dst: Float32Array,
): Float32Array {
  for (let r = 0; r < count; r++) {
    const s = rows[from + r]! * dim;
    const o = r * dim;
    for (let j = 0; j < dim; j++) dst[o + j] = src[s + j]!;
  }
  return dst;
}

/**
 * The world model's seeded train / held-out split of the usable rows (derived from `seed`, so the VAE and
 * the control models of one seed train and are scored on the same rows). `who` names the caller in errors.
 */
export function worldModelSplit(
  data: TransitionData,
  seed: number,
  heldOutFraction: number,
  who: string,
): RowSplit {
  const rows = usableRows(data);
  if (rows.length < 2)
    throw new RangeError(
      `${who}: only ${rows.length} usable transitions (non-terminal, non-timeout, masked in)`,
    );
  return splitRows(rows, heldOutFraction, seed + 2);
}
