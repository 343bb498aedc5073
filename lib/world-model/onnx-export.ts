// Exports a trained VAE world model's prediction pass as an ONNX model (opset 13, standard operators
// only), written with the ONNX subset schema in proto/onnx/onnx-subset.proto:
//
//   inputs  states [N, obsDim], actions [N, actDim]   (+ noise [N, latentDim] in the stochastic graph)
//   ŝ = (states − mean) / scale
//   h = trunk(ŝ) (Gemm + Relu per layer);  z = Gemm_μ(h)   (stochastic: z += exp(0.5·Gemm_logσ²(h))·noise)
//   z' = z + transition(Concat(z, actions))   ('direct' mode: z' = transition(...))
//   next_states = decoder(z')·scale + mean
//
// Linear layers are Gemm with transB = 1, so the native [out, in] weights are stored as they are.
import { writeFileSync } from 'node:fs';
import {
  type GraphProto,
  ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../../generated/proto/onnx/onnx-subset.js';
import { Linear, ReLU, type Sequential } from '../nn/index.ts';
import type { NativeVaeWorldModel } from './native-vae-world-model.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
const FLOAT = 1;
const ATTR_INT = 2;

export interface OnnxExportOptions {
  /** Add a `noise` input and sample z = μ + σ·noise (default: deterministic, z = μ). */
  stochastic?: boolean;
}

/** Builds the node list and initializers; names are unique and descriptive (encoder.trunk.0.gemm, ...). */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  constant(name: string, values: Float32Array, dims: number[]): string {
    const copy = Float32Array.from(values);
    this.initializers.push({
      name,
      dims,
      dataType: FLOAT,
      rawData: Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength),
    });
    return name;
  }

  op(opType: string, inputs: string[], output: string, attrs: Record<string, number> = {}): string {
    this.nodes.push({
      name: `${output}/${opType}`,
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([name, i]) => ({ name, i, type: ATTR_INT, f: 0, ints: [] })),
      docString: '',
      domain: '',
    });
    return output;
  }

  /** A native Sequential of Linear (+ ReLU) layers as Gemm (+ Relu) nodes. */
  stack(seq: Sequential, prefix: string, input: string): string {
    let x = input;
    seq.layers.forEach((layer, i) => {
      if (layer instanceof Linear) {
        const w = this.constant(`${prefix}.${i}.weight`, layer.weight.value, [
          layer.outFeatures,
          layer.inFeatures,
        ]);
        const b = this.constant(`${prefix}.${i}.bias`, layer.bias.value, [layer.outFeatures]);
        x = this.op('Gemm', [x, w, b], `${prefix}.${i}.gemm`, { transB: 1 });
      } else if (layer instanceof ReLU) x = this.op('Relu', [x], `${prefix}.${i}.relu`);
      else
        throw new Error(
          `exportVaeOnnx: ${prefix} layer ${i} (${layer.constructor.name}) has no ONNX mapping here`,
        );
    });
    return x;
  }
}

function tensorInput(name: string, cols: number): ValueInfoProto {
  return {
    name,
    docString: '',
    type: {
      value: {
        $case: 'tensorType',
        value: {
          elemType: FLOAT,
          shape: {
            dim: [
              { value: { $case: 'dimParam', value: 'N' } },
              { value: { $case: 'dimValue', value: cols } },
            ],
          },
        },
      },
    },
  };
}

/** The ONNX ModelProto of the model's prediction pass. */
export function vaeOnnxModel(model: NativeVaeWorldModel, options: OnnxExportOptions = {}): ModelProto {
  const { vae, normalizer } = model;
  const c = vae.config;
  const g = new GraphBuilder();
  const mean = g.constant('normalizer.mean', normalizer.mean, [c.obsDim]);
  const scale = g.constant(
    'normalizer.scale',
    Float32Array.from(normalizer.std, (s) => s + normalizer.eps),
    [c.obsDim],
  );
  const centred = g.op('Sub', ['states', mean], 'states.centred');
  const sHat = g.op('Div', [centred, scale], 'states.normalized');
  const h = g.stack(vae.encoderTrunk, 'encoder.trunk', sHat);
  let z = g.stack(vae.encoderMean, 'encoder.mean', h);
  const inputs = [tensorInput('states', c.obsDim), tensorInput('actions', c.actDim)];
  if (options.stochastic === true) {
    inputs.push(tensorInput('noise', c.latentDim));
    const logVar = g.stack(vae.encoderLogVar, 'encoder.log_var', h);
    const half = g.constant('const.half', Float32Array.of(0.5), []);
    const std = g.op('Exp', [g.op('Mul', [logVar, half], 'latent.half_log_var')], 'latent.std');
    z = g.op('Add', [z, g.op('Mul', [std, 'noise'], 'latent.scaled_noise')], 'latent.sample');
  }
  const za = g.op('Concat', [z, 'actions'], 'transition.input', { axis: 1 });
  const t = g.stack(vae.transition, 'transition', za);
  const zNext = c.transitionMode === 'delta' ? g.op('Add', [z, t], 'latent.next') : t;
  const pred = g.stack(vae.decoder, 'decoder', zNext);
  const scaled = g.op('Mul', [pred, scale], 'next_states.scaled');
  g.op('Add', [scaled, mean], 'next_states');
  const graph: GraphProto = {
    name: options.stochastic === true ? 'vae_world_model_stochastic' : 'vae_world_model_deterministic',
    node: g.nodes,
    initializer: g.initializers,
    input: inputs,
    output: [tensorInput('next_states', c.obsDim)],
    docString: 'o2o VAE world model: raw (state, action) -> raw next state',
  };
  return {
    irVersion: ONNX_IR_VERSION,
    producerName: 'o2o',
    producerVersion: '1',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: [
      { key: 'o2o.world_model.config', value: JSON.stringify(c) },
      { key: 'o2o.world_model.stochastic', value: String(options.stochastic === true) },
    ],
  };
}

export function encodeVaeOnnx(model: NativeVaeWorldModel, options: OnnxExportOptions = {}): Uint8Array {
  return ModelProto.encode(vaeOnnxModel(model, options)).finish();
}

/** Writes the ONNX file; returns its size in bytes. */
export function exportVaeOnnx(
  model: NativeVaeWorldModel,
  path: string,
  options: OnnxExportOptions = {},
): number {
  const bytes = encodeVaeOnnx(model, options);
  writeFileSync(path, bytes);
  return bytes.length;
}
