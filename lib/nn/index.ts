// lib/nn public API: see README.md in this folder.
export {
  type CheckpointParts,
  FORMAT_VERSION_KEY,
  loadCheckpoint,
  NN_FORMAT_VERSION,
  saveCheckpoint,
} from './checkpoint.ts';
export {
  type GemmBackendInfo,
  type GemmBackendName,
  gemmBackend,
  nativeAvailable,
  setGemmBackend,
  sgemm,
} from './gemm.ts';
export { initLinearPytorch, linearInitBound } from './init.ts';
export { type Layer, LayerNorm, Linear, type Param, ReLU, Scale, Tanh } from './layers.ts';
export { klStandardNormal, meanLoss, mseLoss } from './losses.ts';
export { BufferCache, Matrix } from './matrix.ts';
export { ModuleGroup } from './module-group.ts';
export { addInto, Concat, reparameterize, reparameterizeBackward } from './ops.ts';
export { Adam, type AdamOptions, clipGradNorm, copyParams, softUpdate, zeroGrad } from './optim.ts';
export { NnRng } from './rng.ts';
export {
  decodeSafetensors,
  encodeSafetensors,
  type F32Tensor,
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from './safetensors.ts';
export { type Activation, type MlpOptions, type Module, mlp, Sequential } from './sequential.ts';
