// The safetensors container (as read by Python's `safetensors`): 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {string: string}}
// padded with spaces to 8 bytes, then the tensors' raw little-endian bytes back to back.
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';

export interface F32Tensor {
  shape: readonly number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  tensors: Map<string, F32Tensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
// Python's safetensors refuses headers above 100 MB; so do we (a corrupt length would allocate wildly).
const MAX_HEADER_BYTES = 100_000_000;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('safetensors: this module assumes a little-endian host');
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function encodeSafetensors(
  tensors: Iterable<[string, F32Tensor]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new TypeError(`safetensors: metadata '${k}' must be a string`);
  }
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  const entries = [...tensors];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === METADATA_KEY || name.length === 0)
      throw new RangeError(`safetensors: invalid tensor name '${name}'`);
    if (name in header) throw new RangeError(`safetensors: duplicate tensor '${name}'`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RangeError(`safetensors: tensor '${name}' has invalid shape [${t.shape}]`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new RangeError(
        `safetensors: tensor '${name}' shape [${t.shape}] does not match ${t.data.length} elements`,
      );
    }
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const rawLen = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (rawLen % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

type Fail = (msg: string) => never;

/** The header's length from the 8-byte little-endian field, checked against the `following` bytes. */
function headerLength(lengthField: Uint8Array, following: number, fail: Fail): number {
  const headerLen = Number(new DataView(lengthField.buffer, lengthField.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is implausible (corrupt file?)`);
  if (headerLen > following)
    fail(`truncated: header claims ${headerLen} bytes but only ${following} follow the length field`);
  return headerLen;
}

/** The header's JSON object. */
function parseHeader(headerBytes: Uint8Array, fail: Fail): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(
      Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.length).toString('utf8'),
    );
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('header is not a JSON object');
  return header as Record<string, unknown>;
}

/** The string pairs of the header's __metadata__ entry (absent: none). */
function parseMetadata(raw: unknown, fail: Fail): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (raw === undefined) return metadata;
  if (raw === null || typeof raw !== 'object') fail('__metadata__ is not an object');
  for (const [k, v] of Object.entries(raw as object)) {
    if (typeof v !== 'string') fail(`__metadata__ '${k}' is not a string`);
    metadata[k] = v as string;
  }
  return metadata;
}

/** Parses and validates a safetensors buffer; `source` (e.g. the file path) prefixes every error. */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContent {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const headerLen = headerLength(bytes.subarray(0, 8), bytes.length - 8, fail);
  const header = parseHeader(bytes.subarray(8, 8 + headerLen), fail);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata = parseMetadata(header[METADATA_KEY], fail);
  const tensors = new Map<string, F32Tensor>();
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info === null || typeof info !== 'object') fail(`tensor '${name}': entry is not an object`);
    if (info.dtype !== 'F32')
      fail(`tensor '${name}': dtype ${String(info.dtype)} is not supported (only F32)`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}': invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}': invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const n = elementCount(shape as number[]);
    if (end - begin !== n * 4) {
      fail(
        `tensor '${name}': data_offsets [${begin}, ${end}) hold ${end - begin} bytes, shape [${shape}] needs ${n * 4}`,
      );
    }
    if (end > dataLen) {
      fail(
        `truncated: tensor '${name}' needs bytes [${begin}, ${end}) of the data section, which has only ${dataLen}`,
      );
    }
    // Copy: the tensor's byte offset need not be 4-aligned in the caller's buffer.
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape: shape as number[], data });
    spans.push([begin, end, name]);
  }
  // Like the reference implementation: tensors must tile the data section exactly.
  spans.sort((a, b) => a[0] - b[0]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected)
      fail(`tensor '${name}' starts at byte ${begin}, expected ${expected} (overlap or gap)`);
    expected = end;
  }
  if (expected !== dataLen) fail(`data section has ${dataLen} bytes but the tensors cover ${expected}`);
  return { tensors, metadata };
}

/** Writes atomically (temp file then rename), so a crash never leaves a half-written checkpoint. */
export function writeSafetensors(
  path: string,
  tensors: Iterable<[string, F32Tensor]>,
  metadata: Record<string, string> = {},
): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  renameSync(tmp, path);
}

export function readSafetensors(path: string): SafetensorsContent {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read safetensors file (${(e as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * The metadata alone, read from the header without the tensor data (status reports on large checkpoints).
 * Validates only what it reads (the header, not the tensors).
 */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fail = (msg: string): never => {
    throw new Error(`${path}: ${msg}`);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return fail(`cannot read safetensors file (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const lengthField = Buffer.alloc(8);
    if (size < 8) fail(`truncated: ${size} bytes, too short for the 8-byte header length`);
    readSync(fd, lengthField, 0, 8, 0);
    const headerBytes = Buffer.alloc(headerLength(lengthField, size - 8, fail));
    readSync(fd, headerBytes, 0, headerBytes.length, 8);
    return parseMetadata(parseHeader(headerBytes, fail)[METADATA_KEY], fail);
  } finally {
    closeSync(fd);
  }
}
