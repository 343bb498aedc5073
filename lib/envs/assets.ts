// The project's own MJCF model files (lib/envs/assets/*.xml), located relative to this module so that
// they load the same way whatever the working directory.
import { readFileSync } from 'node:fs';

export const MODEL_ASSETS = [
  'hopper',
  'walker2d',
  'half_cheetah',
  'ant',
  'inverted_pendulum',
  'inverted_double_pendulum',
] as const;

export type ModelAsset = (typeof MODEL_ASSETS)[number];

const cache = new Map<ModelAsset, string>();

/** The MJCF text of one model; read once per process. */
export function readModelXml(name: ModelAsset): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  if (!(MODEL_ASSETS as readonly string[]).includes(name)) {
    throw new Error(`unknown model asset '${String(name)}'; known: ${MODEL_ASSETS.join(', ')}`);
  }
  const url = new URL(`./assets/${name}.xml`, import.meta.url);
  let xml: string;
  try {
    xml = readFileSync(url, 'utf8');
  } catch (err) {
    throw new Error(`cannot read model file ${url.pathname}: ${(err as Error).message}`);
  }
  cache.set(name, xml);
  return xml;
}
