// The input check every WorldModel implementation runs before predicting, so that swapping one for another
// (native, tfjs, ONNX Runtime) never changes which inputs are refused or what the error says.
import type { WorldModelInfo } from './types.ts';

function checkRawBatch(name: string, arr: unknown, count: number, dim: number, finite: boolean): void {
  if (!(arr instanceof Float32Array))
    throw new TypeError(`predictNextStates: ${name} must be a Float32Array`);
  if (arr.length !== count * dim)
    throw new RangeError(
      `predictNextStates: ${name} has ${arr.length} values, expected count·dim = ${count}·${dim} = ${count * dim}`,
    );
  if (!finite) return;
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i]!))
      throw new RangeError(
        `predictNextStates: ${name}[row ${Math.floor(i / dim)}, col ${i % dim}] is ${arr[i]}`,
      );
  }
}

/** Throws, naming the argument (and the row and column of a non-finite value), unless the batch is valid. */
export function checkPredictArgs(
  info: Pick<WorldModelInfo, 'obsDim' | 'actDim'>,
  states: Float32Array,
  actions: Float32Array,
  count: number,
  out: Float32Array,
): void {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`predictNextStates: count must be a positive integer, got ${count}`);
  checkRawBatch('states', states, count, info.obsDim, true);
  checkRawBatch('actions', actions, count, info.actDim, true);
  checkRawBatch('out', out, count, info.obsDim, false);
}
