// The world-model implementations the service can serve, behind one interface: each loads a model file
// saved by the native trainer and returns a WorldModel. The service never imports an implementation
// module directly; they are loaded on demand, so a missing optional runtime (onnxruntime-node, a tfjs
// native backend) only matters to whoever selects it (and onnx falls back to onnxruntime-web).
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import type { WorldModel } from '../../lib/world-model/types.ts';
import type { ImplementationName } from './config.ts';

export interface ServedModel {
  model: WorldModel;
  /** Implementation detail for Info (tfjs backend, onnxruntime version, format). */
  version: string;
  /** Releases native resources (tfjs tensors, ONNX sessions). */
  dispose(): void;
}

export interface WorldModelImplementation {
  readonly name: ImplementationName;
  /** Train is native whatever the serving implementation; false means the service refuses Train. */
  readonly canTrain: boolean;
  /** Loads a `vae-native/1` safetensors model saved by NativeVaeWorldModel.save. */
  load(path: string, seed: number): Promise<ServedModel>;
}

const native: WorldModelImplementation = {
  name: 'native',
  canTrain: true,
  async load(path, seed) {
    const model = NativeVaeWorldModel.load(path);
    model.reseedNoise(seed);
    return { model, version: 'vae-native/1 (lib/nn, OpenBLAS)', dispose: () => {} };
  },
};

const tfjs: WorldModelImplementation = {
  name: 'tfjs',
  canTrain: true,
  async load(path, seed) {
    const { TfjsVaeWorldModel } = await import('../../lib/world-model/tfjs-vae-world-model.ts');
    const model = await TfjsVaeWorldModel.load(path, { seed });
    return {
      model,
      version: `tfjs ${model.tfVersion}, backend ${model.backend}; training runs natively`,
      dispose: () => model.dispose(),
    };
  },
};

const onnx: WorldModelImplementation = {
  name: 'onnx',
  canTrain: true,
  async load(path, seed) {
    const { OnnxVaeWorldModel } = await import('../../lib/world-model/onnx-runtime-world-model.ts');
    const model = await OnnxVaeWorldModel.fromSafetensors(path, { seed });
    return {
      model,
      version: `${model.runtime}; training runs natively`,
      dispose: () => model.dispose(),
    };
  },
};

export function implementationNamed(name: ImplementationName): WorldModelImplementation {
  switch (name) {
    case 'native':
      return native;
    case 'tfjs':
      return tfjs;
    case 'onnx':
      return onnx;
  }
}
