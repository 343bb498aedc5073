// The critic's held-out check rows as a file (critic-check.hdf5). The coordinator's dataset phase has the
// subset's source and draws them; the learner's offline phase gets only the subset, and evaluates each
// pre-training's critic on them. HDF5, so that the states and actions stay float32 as in the source and
// the Monte-Carlo returns float64 as computed (the check equals the in-process one exactly).
//   attributes: format, version, gamma, horizon, samples, seed, obs_dim, act_dim
//   train/ and held_out/: observations [n, obs_dim] f32, actions [n, act_dim] f32, returns [n] f64,
//                         attribute eligible (rows of that side whose return is known; n ≤ eligible)
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Group } from 'h5wasm/node';
import { z } from 'zod';
import { DatasetError } from '../data/errors.ts';
import {
  closeQuietly,
  createFile,
  getGroup,
  openForRead,
  readAttribute,
  readFloatMatrix,
} from '../data/hdf5.ts';
import type { HeldOutCheck, HeldOutCheckSide } from './critic-diagnostics.ts';

export const HELD_OUT_CHECK_FORMAT = 'o2o-critic-held-out-check';
const VERSION = 1;
const SIDES = { train: 'train', heldOut: 'held_out' } as const;

/** The drawn rows and the settings they were drawn with. */
export interface HeldOutCheckFile {
  check: HeldOutCheck;
  gamma: number;
  horizon: number;
  samples: number;
  seed: number;
}

const int = (min: number) => z.number().int().min(min);
const attributesSchema = z.object({
  format: z.literal(HELD_OUT_CHECK_FORMAT),
  version: z.literal(VERSION),
  gamma: z.number().min(0).max(1),
  horizon: int(1),
  samples: int(1),
  seed: int(0),
  obs_dim: int(1),
  act_dim: int(1),
});

/** Writes the file whole or not at all (a temporary file renamed into place). */
export async function writeHeldOutCheck(path: string, content: HeldOutCheckFile): Promise<void> {
  const file = resolve(path);
  const { check } = content;
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const handle = await createFile(partial);
  try {
    const attributes: z.input<typeof attributesSchema> = {
      format: HELD_OUT_CHECK_FORMAT,
      version: VERSION,
      gamma: content.gamma,
      horizon: content.horizon,
      samples: content.samples,
      seed: content.seed,
      obs_dim: check.obsDim,
      act_dim: check.actDim,
    };
    for (const [name, value] of Object.entries(attributes)) {
      if (typeof value === 'string') handle.create_attribute(name, value);
      else handle.create_attribute(name, value, null, Number.isInteger(value) ? '<q' : '<d');
    }
    for (const key of ['train', 'heldOut'] as const) {
      const side = check[key];
      const group = handle.create_group(SIDES[key]);
      group.create_attribute('eligible', side.eligible, null, '<q');
      group.create_dataset({
        name: 'observations',
        data: side.observations,
        shape: [side.count, check.obsDim],
      });
      group.create_dataset({ name: 'actions', data: side.actions, shape: [side.count, check.actDim] });
      group.create_dataset({ name: 'returns', data: side.returns, shape: [side.count] });
    }
  } catch (err) {
    closeQuietly(handle);
    rmSync(partial, { force: true });
    throw err;
  }
  closeQuietly(handle);
  renameSync(partial, file);
}

async function readSide(
  root: Group,
  file: string,
  path: string,
  dims: { obsDim: number; actDim: number; samples: number },
): Promise<HeldOutCheckSide> {
  const group = await getGroup(root, file, path);
  if (group === null)
    throw new DatasetError('missing-field', { file, field: path }, 'required group is missing');
  const eligible = int(0).safeParse(readAttribute(group, file, 'eligible'));
  if (!eligible.success) {
    throw new DatasetError('metadata', { file, field: `${path}@eligible` }, 'expected an integer ≥ 0');
  }
  const column = async (name: string, width: number, precision: 'f32' | 'keep') => {
    const field = `${path}/${name}`;
    const m = await readFloatMatrix(group, file, name, precision);
    if (m === null) throw new DatasetError('missing-field', { file, field }, 'required dataset is missing');
    if (m.width !== width) {
      throw new DatasetError('shape', { file, field }, `has ${m.width} columns, expected ${width}`);
    }
    return m;
  };
  const observations = await column('observations', dims.obsDim, 'f32');
  const actions = await column('actions', dims.actDim, 'f32');
  const returns = await column('returns', 1, 'keep');
  const count = observations.rows;
  if (actions.rows !== count || returns.rows !== count) {
    throw new DatasetError(
      'shape',
      { file, field: path },
      `observations, actions and returns have ${count}, ${actions.rows} and ${returns.rows} rows; expected one count`,
    );
  }
  if (count > Math.min(dims.samples, eligible.data)) {
    throw new DatasetError(
      'shape',
      { file, field: path },
      `has ${count} rows, more than min(samples ${dims.samples}, eligible ${eligible.data})`,
    );
  }
  for (const [name, m] of [
    ['observations', observations],
    ['actions', actions],
    ['returns', returns],
  ] as const) {
    const bad = m.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new DatasetError('non-finite', { file, field: `${path}/${name}`, index: bad }, 'is not finite');
  }
  return {
    eligible: eligible.data,
    count,
    observations: observations.data as Float32Array,
    actions: actions.data as Float32Array,
    returns: returns.data instanceof Float64Array ? returns.data : Float64Array.from(returns.data),
  };
}

export async function readHeldOutCheck(path: string): Promise<HeldOutCheckFile> {
  const file = resolve(path);
  const handle = await openForRead(file);
  try {
    const raw = Object.fromEntries(
      Object.keys(attributesSchema.shape).map((name) => [name, readAttribute(handle, file, name)]),
    );
    const parsed = attributesSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DatasetError('metadata', { file, field: `@${issue.path.join('.')}` }, issue.message);
    }
    const a = parsed.data;
    const dims = { obsDim: a.obs_dim, actDim: a.act_dim, samples: a.samples };
    const check: HeldOutCheck = {
      obsDim: a.obs_dim,
      actDim: a.act_dim,
      train: await readSide(handle, file, SIDES.train, dims),
      heldOut: await readSide(handle, file, SIDES.heldOut, dims),
    };
    return { check, gamma: a.gamma, horizon: a.horizon, samples: a.samples, seed: a.seed };
  } finally {
    closeQuietly(handle);
  }
}
