import assert from 'node:assert/strict';
import { hrTimeToNsString } from '../../lib/telemetry/span-record.ts';

describe('telemetry: span record times', () => {
  it('writes [seconds, nanoseconds] as exact decimal nanoseconds', () => {
    const cases: [number, number][] = [
      [1795595579, 313000000],
      [1795595579, 5],
      [1, 0],
      [0, 42],
      [0, 0],
      [4102444800, 999999999],
    ];
    for (const t of cases) {
      assert.equal(hrTimeToNsString(t), (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString(), `${t}`);
    }
  });
});
