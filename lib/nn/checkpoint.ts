// Networks and Adam states <-> one safetensors file. Tensor names:
//   <module>.<param>                 e.g. actor.layers.0.weight   ([out, in], PyTorch's Linear layout)
//   <optimizer>.exp_avg.<param>      Adam first moment, same shape as the parameter
//   <optimizer>.exp_avg_sq.<param>   Adam second moment
// Metadata: o2o.nn.format_version, and per optimizer <optimizer>.step / .lr / .beta1 / .beta2 / .eps /
// .weight_decay. A module registered under '' is saved without prefix (layers.0.weight).
import type { Param } from './layers.ts';
import type { Adam } from './optim.ts';
import { type F32Tensor, readSafetensors, writeSafetensors } from './safetensors.ts';
import type { Module } from './sequential.ts';

export const NN_FORMAT_VERSION = '1';
export const FORMAT_VERSION_KEY = 'o2o.nn.format_version';

export interface CheckpointParts {
  modules?: Record<string, Module>;
  optimizers?: Record<string, Adam>;
}

function qualified(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function* partTensors(parts: CheckpointParts): Generator<[string, Param, Float32Array]> {
  for (const [prefix, m] of Object.entries(parts.modules ?? {})) {
    for (const p of m.params()) yield [qualified(prefix, p.name), p, p.value];
  }
  for (const [prefix, opt] of Object.entries(parts.optimizers ?? {})) {
    if (prefix === '') throw new RangeError('checkpoint: optimizers need a non-empty name');
    for (let i = 0; i < opt.params.length; i++) {
      const p = opt.params[i]!;
      yield [`${prefix}.exp_avg.${p.name}`, p, opt.expAvg[i]!];
      yield [`${prefix}.exp_avg_sq.${p.name}`, p, opt.expAvgSq[i]!];
    }
  }
}

export function saveCheckpoint(
  path: string,
  parts: CheckpointParts,
  metadata: Record<string, string> = {},
): void {
  const meta: Record<string, string> = { ...metadata, [FORMAT_VERSION_KEY]: NN_FORMAT_VERSION };
  for (const [prefix, opt] of Object.entries(parts.optimizers ?? {})) {
    const h = opt.hyper;
    Object.assign(meta, {
      [`${prefix}.step`]: String(opt.stepCount),
      [`${prefix}.lr`]: String(h.lr),
      [`${prefix}.beta1`]: String(h.beta1),
      [`${prefix}.beta2`]: String(h.beta2),
      [`${prefix}.eps`]: String(h.eps),
      [`${prefix}.weight_decay`]: String(h.weightDecay),
    });
  }
  const tensors: [string, F32Tensor][] = [];
  const seen = new Set<string>();
  for (const [name, p, data] of partTensors(parts)) {
    if (seen.has(name)) throw new RangeError(`saveCheckpoint(${path}): duplicate tensor name '${name}'`);
    seen.add(name);
    tensors.push([name, { shape: p.shape, data }]);
  }
  writeSafetensors(path, tensors, meta);
}

function parseMeta(meta: Record<string, string>, key: string, path: string): number {
  const raw = meta[key];
  const v = raw === undefined ? Number.NaN : Number(raw);
  if (!Number.isFinite(v)) throw new Error(`${path}: metadata '${key}' is missing or not a number (${raw})`);
  return v;
}

/**
 * Loads the given parts in place from a checkpoint. Every tensor the parts expect must be present with
 * the same shape (errors name the tensor and file); tensors of other parts in the file are ignored.
 * Returns the file's metadata.
 */
export function loadCheckpoint(path: string, parts: CheckpointParts): Record<string, string> {
  const { tensors, metadata } = readSafetensors(path);
  const version = metadata[FORMAT_VERSION_KEY];
  if (version !== NN_FORMAT_VERSION) {
    throw new Error(
      `${path}: unsupported format version ${version === undefined ? '(missing)' : `'${version}'`}, expected '${NN_FORMAT_VERSION}'`,
    );
  }
  // Validate everything before writing anything, so a bad file leaves the networks untouched.
  const plan: [Float32Array, Float32Array][] = [];
  for (const [name, p, dest] of partTensors(parts)) {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`${path}: tensor '${name}' is missing`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(`${path}: tensor '${name}' has shape [${t.shape}], expected [${p.shape}]`);
    }
    plan.push([dest, t.data]);
  }
  const steps: [Adam, number][] = [];
  for (const [prefix, opt] of Object.entries(parts.optimizers ?? {})) {
    const step = parseMeta(metadata, `${prefix}.step`, path);
    if (!Number.isInteger(step) || step < 0)
      throw new Error(`${path}: metadata '${prefix}.step' is invalid (${step})`);
    steps.push([opt, step]);
    // Hyperparameters travel with the state: the online phase continues the offline optimiser.
    opt.hyper.lr = parseMeta(metadata, `${prefix}.lr`, path);
    opt.hyper.beta1 = parseMeta(metadata, `${prefix}.beta1`, path);
    opt.hyper.beta2 = parseMeta(metadata, `${prefix}.beta2`, path);
    opt.hyper.eps = parseMeta(metadata, `${prefix}.eps`, path);
    opt.hyper.weightDecay = parseMeta(metadata, `${prefix}.weight_decay`, path);
  }
  for (const [dest, src] of plan) dest.set(src);
  for (const [opt, step] of steps) opt.stepCount = step;
  return metadata;
}
