// FloatBatch decoding as the world-model Predict path uses it: `view` shares the message's bytes when
// they are aligned and copies when they are not, with the same validation either way.
import assert from 'node:assert/strict';
import { FloatBatch } from '../../generated/proto/o2o/v1/common.js';
import { decodeFloatBatch, encodeFloatBatch, FloatBatchError } from '../../lib/services/float-batch.ts';

const values = Float32Array.from({ length: 12 }, (_, i) => i / 3 - 1);

/** The batch as the receiving side sees it: decoded from wire bytes placed at `offset` in a buffer. */
function received(offset: number): FloatBatch {
  const wire = FloatBatch.encode(encodeFloatBatch(values, 4, 3)).finish();
  const buf = new Uint8Array(offset + wire.length);
  buf.set(wire, offset);
  return FloatBatch.decode(buf.subarray(offset));
}

describe('FloatBatch decode views', () => {
  it('returns a view of aligned bytes and a copy of unaligned ones, equal values either way', () => {
    for (let offset = 0; offset < 8; offset++) {
      const batch = received(offset);
      const aligned = batch.data.byteOffset % 4 === 0;
      const view = decodeFloatBatch(batch, { name: 'states', cols: 3, view: true });
      assert.deepEqual(Array.from(view), Array.from(values));
      assert.equal(view.buffer === batch.data.buffer, aligned, `offset ${offset}`);
      const copy = decodeFloatBatch(batch, { name: 'states', cols: 3 });
      assert.notEqual(copy.buffer, batch.data.buffer);
      assert.deepEqual(Array.from(copy), Array.from(values));
    }
  });

  it('validates a view like a copy: non-finite values and wrong sizes name the field', () => {
    const bad = Float32Array.from(values);
    bad[7] = Number.NaN;
    const batch = encodeFloatBatch(bad, 4, 3);
    assert.throws(
      () => decodeFloatBatch(batch, { name: 'states', cols: 3, view: true }),
      (e: unknown) =>
        e instanceof FloatBatchError && /states: value at row 2, column 1 is NaN/.test(e.message),
    );
    assert.throws(
      () => decodeFloatBatch({ ...batch, rows: 5 }, { name: 'actions', cols: 3, view: true }),
      /actions: 5×3 float32 needs 60 bytes, got 48/,
    );
  });
});
