// FloatBatch (proto/o2o/v1/common.proto) <-> Float32Array. A batch is rows × cols float32 values,
// row-major, little-endian, packed in `data`; every decode checks the sizes against what the caller
// expects, so a malformed request fails here with a message instead of deep inside a network.
import type { FloatBatch } from '../../generated/proto/o2o/v1/common.js';

/** Raised for a batch whose shape or contents are wrong; services map it to INVALID_ARGUMENT. */
export class FloatBatchError extends Error {
  override readonly name = 'FloatBatchError';
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs `rows` × `cols` values (row-major) into a FloatBatch; `values` may be longer (only the prefix is sent). */
export function encodeFloatBatch(values: Float32Array, rows: number, cols: number): FloatBatch {
  const n = rows * cols;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new FloatBatchError(`batch shape must be non-negative integers, got ${rows}×${cols}`);
  }
  if (values.length < n)
    throw new FloatBatchError(`batch ${rows}×${cols} needs ${n} values, got ${values.length}`);
  if (!littleEndian) throw new FloatBatchError('big-endian hosts are not supported');
  // One copy into a Buffer that the protobuf writer then copies into the message.
  const data = Buffer.from(values.buffer, values.byteOffset, n * 4);
  return { rows, cols, data };
}

export interface DecodeExpectation {
  /** What the batch is, for messages ("states", "actions"). */
  name: string;
  /** Required column count. */
  cols: number;
  /** Required row count, when the caller knows it. */
  rows?: number;
  /** Largest acceptable row count. */
  maxRows?: number;
  /** Reject NaN and ±Infinity (default true). */
  finite?: boolean;
  /**
   * Return a view of the message's bytes instead of a copy when they are 4-byte aligned (default false).
   * The view shares memory with the decoded message (and keeps its bytes alive): right when nothing else
   * uses those bytes, as with a message just received; not for a message that is re-encoded or reused.
   */
  view?: boolean;
}

/**
 * Unpacks a FloatBatch into a Float32Array, validating the declared shape, the byte length, the
 * expected dimensions and (by default) that every value is finite. A fresh aligned copy owned by the
 * caller, unless `view` is set and the bytes are aligned.
 */
export function decodeFloatBatch(batch: FloatBatch | undefined, expect: DecodeExpectation): Float32Array {
  const { name } = expect;
  if (batch === undefined) throw new FloatBatchError(`${name}: missing`);
  const { rows, cols, data } = batch;
  if (cols !== expect.cols)
    throw new FloatBatchError(`${name}: expected ${expect.cols} columns, got ${cols}`);
  if (expect.rows !== undefined && rows !== expect.rows) {
    throw new FloatBatchError(`${name}: expected ${expect.rows} rows, got ${rows}`);
  }
  if (expect.maxRows !== undefined && rows > expect.maxRows) {
    throw new FloatBatchError(`${name}: ${rows} rows exceed the limit of ${expect.maxRows}`);
  }
  const want = rows * cols * 4;
  if (data.length !== want) {
    throw new FloatBatchError(`${name}: ${rows}×${cols} float32 needs ${want} bytes, got ${data.length}`);
  }
  let out: Float32Array;
  if (expect.view === true && data.byteOffset % 4 === 0) {
    out = new Float32Array(data.buffer, data.byteOffset, rows * cols);
  } else {
    out = new Float32Array(rows * cols);
    new Uint8Array(out.buffer).set(data);
  }
  if (expect.finite ?? true) {
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i]!)) {
        const row = Math.floor(i / cols);
        throw new FloatBatchError(`${name}: value at row ${row}, column ${i - row * cols} is ${out[i]}`);
      }
    }
  }
  return out;
}
