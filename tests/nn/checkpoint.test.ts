// safetensors encoding and checkpoints: exact round trips, the on-disk layout Python's safetensors
// expects, and failures (wrong shape, truncation, version, missing tensor) that name tensor and file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORMAT_VERSION_KEY, loadCheckpoint, saveCheckpoint } from '../../lib/nn/checkpoint.ts';
import { mseLoss } from '../../lib/nn/losses.ts';
import { Matrix } from '../../lib/nn/matrix.ts';
import { ModuleGroup } from '../../lib/nn/module-group.ts';
import { Adam } from '../../lib/nn/optim.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsMetadata,
} from '../../lib/nn/safetensors.ts';
import { mlp } from '../../lib/nn/sequential.ts';
import { randomMatrix } from './fd.ts';

describe('nn safetensors and checkpoints', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-nn-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes the documented layout: u64 LE header length, 8-byte padded JSON, contiguous data', () => {
    const a = new Float32Array([1, -2.5, 3e-8, Number.NaN, -0, 7]);
    const bytes = encodeSafetensors(
      [
        ['w', { shape: [2, 3], data: a }],
        ['b', { shape: [2], data: new Float32Array([4, 5]) }],
      ],
      {
        note: 'x',
      },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    assert.deepEqual(header.__metadata__, { note: 'x' });
    assert.deepEqual(header.w, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    assert.deepEqual(header.b, { dtype: 'F32', shape: [2], data_offsets: [24, 32] });
    assert.equal(bytes.length, 8 + n + 32);
    // Raw little-endian float32 bytes, bit-exact (NaN and -0 included).
    assert.deepEqual(
      Buffer.from(bytes.subarray(8 + n, 8 + n + 24)),
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    );
    const back = decodeSafetensors(bytes);
    assert.deepEqual(new Uint8Array(back.tensors.get('w')!.data.buffer), new Uint8Array(a.buffer));
    assert.deepEqual(back.tensors.get('w')!.shape, [2, 3]);
  });

  it('round-trips networks and Adam state exactly; training continues identically after reload', () => {
    const make = (seed: number) => {
      const q1 = mlp({ inputs: 5, hidden: [16, 16], outputs: 1, rng: seed });
      const q2 = mlp({ inputs: 5, hidden: [16, 16], outputs: 1, rng: seed + 1 });
      const critics = new ModuleGroup({ q1, q2 });
      return { q1, q2, critics, opt: new Adam(critics.params(), { lr: 3e-4 }) };
    };
    const x = randomMatrix(8, 5, 1);
    const y = randomMatrix(8, 1, 2);
    const g = new Matrix(8, 1);
    const train = (s: ReturnType<typeof make>, steps: number) => {
      for (let i = 0; i < steps; i++) {
        s.opt.zeroGrad();
        mseLoss(s.q1.forward(x), y, g);
        s.q1.backward(g);
        mseLoss(s.q2.forward(x), y, g);
        s.q2.backward(g);
        s.opt.step();
      }
    };
    const a = make(10);
    train(a, 5);
    const path = join(dir, 'ckpt.safetensors');
    saveCheckpoint(
      path,
      { modules: { critic: a.critics }, optimizers: { critic_optimizer: a.opt } },
      { phase: 'offline' },
    );
    const file = readSafetensors(path);
    assert.equal(file.metadata[FORMAT_VERSION_KEY], '1');
    assert.equal(file.metadata['phase'], 'offline');
    assert.equal(file.metadata['critic_optimizer.step'], '5');
    assert.deepEqual(file.tensors.get('critic.q1.layers.0.weight')!.shape, [16, 5]);
    assert.deepEqual(file.tensors.get('critic.q2.layers.4.bias')!.shape, [1]);
    assert.ok(file.tensors.has('critic_optimizer.exp_avg_sq.q2.layers.2.weight'));

    const b = make(20);
    b.opt.setLr(1);
    loadCheckpoint(path, { modules: { critic: b.critics }, optimizers: { critic_optimizer: b.opt } });
    assert.equal(b.opt.stepCount, 5);
    assert.equal(b.opt.hyper.lr, 3e-4);
    b.critics.params().forEach((p, i) => {
      assert.deepEqual(p.value, a.critics.params()[i]!.value);
    });
    train(a, 3);
    train(b, 3);
    b.critics.params().forEach((p, i) => {
      assert.deepEqual(p.value, a.critics.params()[i]!.value, p.name);
    });
  });

  it('a wrong shape fails naming the tensor and the file, and leaves the network untouched', () => {
    const path = join(dir, 'small.safetensors');
    saveCheckpoint(path, { modules: { actor: mlp({ inputs: 4, hidden: [8], outputs: 2, rng: 1 }) } });
    const other = mlp({ inputs: 4, hidden: [9], outputs: 2, rng: 2 });
    const before = other.params().map((p) => p.value.slice());
    assert.throws(
      () => loadCheckpoint(path, { modules: { actor: other } }),
      (e: Error) =>
        e.message.includes(path) &&
        e.message.includes("tensor 'actor.layers.0.weight' has shape [8,4], expected [9,4]"),
    );
    other.params().forEach((p, i) => {
      assert.deepEqual(p.value, before[i]);
    });
    assert.throws(
      () => loadCheckpoint(path, { modules: { critic: other } }),
      /tensor 'critic.layers.0.weight' is missing/,
    );
  });

  it('a truncated file fails naming the tensor and the file', () => {
    const path = join(dir, 'trunc.safetensors');
    saveCheckpoint(path, { modules: { actor: mlp({ inputs: 4, hidden: [8], outputs: 2, rng: 1 }) } });
    const full = readFileSync(path);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, full.subarray(0, full.length - 4));
    assert.throws(
      () => readSafetensors(cut),
      (e: Error) => e.message.startsWith(cut) && /truncated: tensor '[^']+' needs bytes/.test(e.message),
    );
    writeFileSync(cut, full.subarray(0, 20));
    assert.throws(() => readSafetensors(cut), /truncated: header claims/);
    writeFileSync(cut, full.subarray(0, 5));
    assert.throws(() => readSafetensors(cut), /too short/);
    assert.throws(() => readSafetensors(join(dir, 'absent.safetensors')), /cannot read safetensors file/);
  });

  it('rejects unknown format versions, non-F32 dtypes, gaps and bad JSON', () => {
    const t: [string, { shape: number[]; data: Float32Array }][] = [
      ['w', { shape: [2], data: new Float32Array(2) }],
    ];
    const path = join(dir, 'v2.safetensors');
    writeFileSync(path, encodeSafetensors(t, { [FORMAT_VERSION_KEY]: '2' }));
    assert.throws(() => loadCheckpoint(path, {}), /unsupported format version '2', expected '1'/);
    writeFileSync(path, encodeSafetensors(t));
    assert.throws(() => loadCheckpoint(path, {}), /unsupported format version \(missing\)/);
    const withHeader = (h: object, dataBytes: number) => {
      const json = Buffer.from(JSON.stringify(h));
      const out = new Uint8Array(8 + json.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    assert.throws(
      () => decodeSafetensors(withHeader({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), 'f'),
      /f: tensor 'w': dtype F16/,
    );
    assert.throws(
      () => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'f'),
      /tensor 'w' starts at byte 4, expected 0/,
    );
    assert.throws(
      () => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)),
      /shape \[3\] needs 12/,
    );
    const bad = new Uint8Array(12);
    new DataView(bad.buffer).setBigUint64(0, 4n, true);
    bad.set(Buffer.from('{no}'), 8);
    assert.throws(() => decodeSafetensors(bad, 'j'), /j: header is not valid JSON/);
  });
});

describe('safetensors metadata without the data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-st-meta-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the header only: the same metadata as a full read; a truncated header is named', () => {
    const file = join(dir, 'm.safetensors');
    const tensors: [string, { shape: number[]; data: Float32Array }][] = [
      ['w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ];
    writeFileSync(file, encodeSafetensors(tensors, { a: '1', b: 'two' }));
    assert.deepEqual(readSafetensorsMetadata(file), readSafetensors(file).metadata);
    assert.deepEqual(readSafetensorsMetadata(file), { a: '1', b: 'two' });
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    assert.throws(() => readSafetensorsMetadata(file), /m\.safetensors: truncated: header claims \d+ bytes/);
    assert.throws(() => readSafetensorsMetadata(join(dir, 'none')), /none: cannot read safetensors file/);
  });
});
