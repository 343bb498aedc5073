// The machine this process runs on, as build-platform.ts records it (loads OpenBLAS: lib/nn's backend).
import { cpus } from 'node:os';
import { gemmBackend } from '../nn/gemm.ts';
import type { BuildPlatform } from './build-platform.ts';

export function currentPlatform(): BuildPlatform {
  return {
    gemm: gemmBackend().description,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
  };
}
