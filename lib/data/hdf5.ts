// Thin, checked access to HDF5 through h5wasm. Files are screened before HDF5 sees them (existence,
// size, signature, superblock end-of-file address), because HDF5 reports damage on stderr and throws
// opaque errors; whatever still fails inside h5wasm is caught and turned into a DatasetError.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset, Group, File as H5File } from 'h5wasm/node';
import { DatasetError } from './errors.ts';

type H5Wasm = typeof import('h5wasm/node')['default'];

let loaded: Promise<H5Wasm> | undefined;

/** h5wasm, imported on first use (it is a large wasm module) and ready. */
export function h5wasm(): Promise<H5Wasm> {
  loaded ??= (async () => {
    const module = (await import('h5wasm/node')).default;
    await module.ready;
    return module;
  })();
  return loaded;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function readBytes(fd: number, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  const got = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, got);
}

function littleEndian(bytes: Uint8Array, offset: number, size: number): number {
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i] ?? 0);
  return Number(value);
}

/** Throws unless `file` exists, is non-empty, starts an HDF5 superblock and is as long as it claims. */
export function screenHdf5File(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new DatasetError('not-found', { file }, 'is not a regular file');
    size = stat.size;
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError('not-found', { file }, 'no such file');
  }
  if (size === 0) throw new DatasetError('empty-file', { file }, 'file is empty (0 bytes), not an HDF5 file');
  const fd = openSync(file, 'r');
  try {
    // The superblock sits at offset 0, 512, 1024, 2048, ... (a user block may precede it).
    for (let at = 0; at + SIGNATURE.length <= size; at = at === 0 ? 512 : at * 2) {
      const head = readBytes(fd, at, 64);
      if (!SIGNATURE.every((b, i) => head[i] === b)) continue;
      const version = head[8]!;
      let offsetSize: number;
      let baseAt: number;
      if (version === 0 || version === 1) {
        offsetSize = head[13]!;
        baseAt = version === 0 ? 24 : 28;
      } else {
        offsetSize = head[9]!;
        baseAt = 12;
      }
      if (![2, 4, 8].includes(offsetSize) || baseAt + 3 * offsetSize > head.length) {
        throw new DatasetError('not-hdf5', { file }, `unreadable HDF5 superblock (version ${version})`);
      }
      const base = littleEndian(head, baseAt, offsetSize);
      const eof = littleEndian(head, baseAt + 2 * offsetSize, offsetSize);
      if (base + eof > size) {
        throw new DatasetError(
          'truncated',
          { file },
          `truncated HDF5 file: ${size} bytes on disk, the superblock records ${base + eof}`,
        );
      }
      return;
    }
  } finally {
    closeSync(fd);
  }
  throw new DatasetError('not-hdf5', { file }, 'not an HDF5 file (no HDF5 signature)');
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 0 ? message : 'unknown h5wasm failure';
}

/** Opens an HDF5 file for reading after screening it. */
export async function openForRead(file: string): Promise<H5File> {
  // Screen first: a file that is not HDF5 is reported without paying for the wasm module.
  screenHdf5File(file);
  const h5 = await h5wasm();
  try {
    return new h5.File(resolve(file), 'r');
  } catch (err) {
    throw new DatasetError('hdf5', { file }, `HDF5 could not open the file (${describe(err)})`);
  }
}

export async function createFile(file: string): Promise<H5File> {
  const h5 = await h5wasm();
  try {
    return new h5.File(resolve(file), 'w');
  } catch (err) {
    throw new DatasetError('hdf5', { file }, `HDF5 could not create the file (${describe(err)})`);
  }
}

export function closeQuietly(handle: H5File): void {
  try {
    handle.close();
  } catch {
    // Closing a file that HDF5 already gave up on has nothing left to release.
  }
}

export interface Matrix<T> {
  data: T;
  rows: number;
  width: number;
}

/** The object at `path`, or null when absent; a failed read is an error naming the file and path. */
function getEntity(root: Group, file: string, path: string): unknown {
  try {
    return root.get(path) ?? null;
  } catch (err) {
    throw new DatasetError(
      'hdf5',
      { file, field: path },
      `HDF5 could not read the object (${describe(err)})`,
    );
  }
}

/** The entity at `path` if it is a group; null when absent. */
export async function getGroup(root: Group, file: string, path: string): Promise<Group | null> {
  const h5 = await h5wasm();
  const entity = getEntity(root, file, path);
  if (entity === null) return null;
  if (!(entity instanceof h5.Group)) {
    throw new DatasetError('dtype', { file, field: path }, 'expected a group');
  }
  return entity;
}

async function getDataset(root: Group, file: string, path: string): Promise<Dataset | null> {
  const h5 = await h5wasm();
  const entity = getEntity(root, file, path);
  if (entity === null) return null;
  if (entity instanceof h5.Group) {
    throw new DatasetError(
      'dtype',
      { file, field: path },
      'is a group (e.g. a Dict space), expected an array',
    );
  }
  if (!(entity instanceof h5.Dataset)) {
    throw new DatasetError('dtype', { file, field: path }, 'is not an array dataset');
  }
  return entity;
}

export async function hasEntity(root: Group, path: string): Promise<boolean> {
  try {
    return root.get(path) !== null;
  } catch {
    return false;
  }
}

function shapeOf(dataset: Dataset, file: string, path: string): [number, number] {
  const shape = dataset.shape;
  if (shape === null || shape.length === 0) {
    throw new DatasetError('shape', { file, field: path }, 'is a scalar, expected one row per step');
  }
  if (shape.length > 2) {
    throw new DatasetError(
      'shape',
      { file, field: path },
      `has shape [${shape.join(', ')}], expected 1-D or 2-D`,
    );
  }
  return [shape[0]!, shape[1] ?? 1];
}

function readValue(dataset: Dataset, file: string, path: string): unknown {
  try {
    return dataset.value;
  } catch (err) {
    throw new DatasetError(
      'hdf5',
      { file, field: path },
      `HDF5 could not read the values (${describe(err)})`,
    );
  }
}

/** A float dataset of 1 or 2 dims; null if absent. `precision` picks the returned array type. */
export async function readFloatMatrix(
  root: Group,
  file: string,
  path: string,
  precision: 'f32' | 'keep' = 'f32',
): Promise<Matrix<Float32Array | Float64Array> | null> {
  const dataset = await getDataset(root, file, path);
  if (!dataset) return null;
  const metadata = dataset.metadata;
  if (metadata.type !== 1 || (metadata.size !== 4 && metadata.size !== 8)) {
    throw new DatasetError(
      'dtype',
      { file, field: path },
      `has dtype ${JSON.stringify(dataset.dtype)}, expected 32- or 64-bit floats`,
    );
  }
  const [rows, width] = shapeOf(dataset, file, path);
  const value = readValue(dataset, file, path);
  if (!(value instanceof Float32Array || value instanceof Float64Array) || value.length !== rows * width) {
    throw new DatasetError('dtype', { file, field: path }, 'values did not read back as a float array');
  }
  const data = precision === 'f32' && value instanceof Float64Array ? Float32Array.from(value) : value;
  return { data, rows, width };
}

export async function requireFloatMatrix(
  root: Group,
  file: string,
  path: string,
): Promise<Matrix<Float32Array>> {
  const matrix = await readFloatMatrix(root, file, path, 'f32');
  if (!matrix) throw new DatasetError('missing-field', { file, field: path }, 'required dataset is missing');
  return matrix as Matrix<Float32Array>;
}

/** A boolean-like 1-D dataset (bool/enum, integer or float holding only 0 and 1); null if absent. */
export async function readFlags(root: Group, file: string, path: string): Promise<Uint8Array | null> {
  const dataset = await getDataset(root, file, path);
  if (!dataset) return null;
  const metadata = dataset.metadata;
  if (metadata.type !== 0 && metadata.type !== 1 && metadata.type !== 8) {
    throw new DatasetError(
      'dtype',
      { file, field: path },
      `has dtype ${JSON.stringify(dataset.dtype)}, expected booleans (bool, integer or 0/1 floats)`,
    );
  }
  const [rows, width] = shapeOf(dataset, file, path);
  if (width !== 1) {
    throw new DatasetError('shape', { file, field: path }, `has ${width} columns, expected one flag per row`);
  }
  const value = readValue(dataset, file, path);
  if (!ArrayBuffer.isView(value) || (value as { length?: number }).length !== rows) {
    throw new DatasetError('dtype', { file, field: path }, 'values did not read back as an array of flags');
  }
  const source = value as unknown as ArrayLike<number | bigint>;
  const flags = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = Number(source[i]);
    if (v !== 0 && v !== 1) {
      throw new DatasetError('flag-value', { file, field: path, index: i }, `flag is ${v}, expected 0 or 1`);
    }
    flags[i] = v;
  }
  return flags;
}

export async function requireFlags(root: Group, file: string, path: string): Promise<Uint8Array> {
  const flags = await readFlags(root, file, path);
  if (!flags) throw new DatasetError('missing-field', { file, field: path }, 'required dataset is missing');
  return flags;
}

/** An attribute as a JS value (bigints become numbers), undefined when absent. */
export function readAttribute(entity: Group | Dataset, file: string, name: string): unknown {
  try {
    const attribute = entity.attrs[name];
    if (!attribute) return undefined;
    const value = attribute.value;
    if (typeof value === 'bigint') return Number(value);
    if (ArrayBuffer.isView(value) && (value as { length?: number }).length === 1) {
      return Number((value as unknown as ArrayLike<number | bigint>)[0]);
    }
    return value;
  } catch (err) {
    throw new DatasetError(
      'hdf5',
      { file, field: `${entity.path}@${name}` },
      `HDF5 could not read the attribute (${describe(err)})`,
    );
  }
}

/** A string dataset's text (scalar or first element); undefined when absent or not text. */
export async function readText(root: Group, file: string, path: string): Promise<string | undefined> {
  const dataset = await getDataset(root, file, path);
  if (!dataset) return undefined;
  const value = readValue(dataset, file, path);
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

export function writeMatrix(
  group: Group,
  name: string,
  data: Float32Array | Float64Array | Uint8Array | Uint32Array,
  rows: number,
  width: number,
  keepRank2: boolean,
): void {
  group.create_dataset({ name, data, shape: keepRank2 ? [rows, width] : [rows] });
}
