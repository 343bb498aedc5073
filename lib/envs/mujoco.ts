// One MuJoCo WebAssembly instance per process (mujoco-js, MuJoCo 3.3.8), shared by every environment:
// each model gets its own MjModel/MjData inside the one wasm heap.
import loadMujoco, { type MainModule, type MjData, type MjModel } from 'mujoco-js';

export type { MainModule, MjData, MjModel };

/** The loaded module. Top-level await keeps environment constructors synchronous. */
export const mujoco: MainModule = await loadMujoco();

const MODEL_DIR = '/o2o-models';
mujoco.FS.mkdir(MODEL_DIR);
let modelCounter = 0;

/**
 * Compiles an MJCF document. The XML goes through the in-memory file system because
 * `MjModel.loadFromXML` only takes a path; the file is removed once compiled.
 * @param label names the model in error messages
 */
export function compileModel(xml: string, label: string): MjModel {
  const path = `${MODEL_DIR}/${modelCounter++}-${label.replace(/[^A-Za-z0-9_.-]/g, '_')}.xml`;
  mujoco.FS.writeFile(path, xml);
  try {
    return mujoco.MjModel.loadFromXML(path);
  } catch (err) {
    throw new Error(`MuJoCo could not compile model '${label}': ${describeWasmError(err)}`);
  } finally {
    mujoco.FS.unlink(path);
  }
}

/** Emscripten throws C++ exceptions as objects carrying only a type name (e.g. mjXError). */
function describeWasmError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'name' in err) return `MuJoCo raised ${String(err.name)}`;
  return String(err);
}

/**
 * The size in bytes of the wasm heap. The module does not export its HEAP views, but every array
 * field of an MjData is a view on the same memory, so any of them tells the size.
 */
export function wasmHeapBytes(data: MjData): number {
  return (data.qpos as Float64Array).buffer.byteLength;
}
