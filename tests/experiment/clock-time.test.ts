// --stop-at takes the next moment at HH:MM, --built-since the last one: across midnight they move a day
// in opposite directions.
import assert from 'node:assert/strict';
import { clockTime } from '../../lib/experiment/clock-time.ts';

const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo, d, h, mi, 0, 0);

describe('clockTime', () => {
  const now = at(2026, 11, 7, 12, 20);

  it('takes today for a deadline still to come and for a start already past', () => {
    assert.equal(clockTime('14:52', 'next', now), at(2026, 11, 7, 14, 52).getTime());
    assert.equal(clockTime('09:05', 'last', now), at(2026, 11, 7, 9, 5).getTime());
  });

  it('moves a past deadline to tomorrow and a start still to come to yesterday', () => {
    assert.equal(clockTime('09:05', 'next', now), at(2026, 11, 8, 9, 5).getTime());
    assert.equal(clockTime('23:30', 'last', now), at(2026, 11, 6, 23, 30).getTime());
  });

  it('counts the present minute as past: a deadline now is tomorrow, a start now is now', () => {
    assert.equal(clockTime('12:20', 'next', now), at(2026, 11, 8, 12, 20).getTime());
    assert.equal(clockTime('12:20', 'last', now), now.getTime());
  });
});
