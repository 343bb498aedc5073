// Reads a dataset in whichever layout it is stored and writes it in a chosen one: a directory (or a
// main_data.hdf5 inside one) is Minari, any other HDF5 file is D4RL.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { readD4rl, writeD4rl } from './d4rl.ts';
import type { OfflineDataset } from './dataset.ts';
import { DatasetError } from './errors.ts';
import { type ReadResult, readMinari, writeMinari } from './minari.ts';

export type DatasetFormat = 'minari' | 'd4rl';

export function detectFormat(path: string): DatasetFormat {
  const full = resolve(path);
  if (!existsSync(full)) throw new DatasetError('not-found', { file: full }, 'no such file or directory');
  if (statSync(full).isDirectory() || basename(full) === 'main_data.hdf5') return 'minari';
  return 'd4rl';
}

export async function loadDataset(
  path: string,
  options: { envId?: string } = {},
): Promise<ReadResult & { format: DatasetFormat }> {
  const format = detectFormat(path);
  const result = format === 'minari' ? await readMinari(path, options) : await readD4rl(path, options);
  return { ...result, format };
}

export async function saveDataset(
  dataset: OfflineDataset,
  format: DatasetFormat,
  path: string,
): Promise<string> {
  if (format === 'minari') return (await writeMinari(dataset, path)).datasetDir;
  return writeD4rl(dataset, path);
}
