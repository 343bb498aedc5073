// A shared cache entry (world model, offline pre-training) is built when its marker and its model file are
// both here: markers are committed, model files are not, so a fresh clone has markers whose entries must
// be built again. The scheduler and the run estimates decide this the same way the stages do.
import { existsSync } from 'node:fs';

export function isBuilt(marker: string, file: string): boolean {
  return existsSync(marker) && existsSync(file);
}
