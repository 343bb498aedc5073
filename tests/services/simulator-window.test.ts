// The actor-mode window on its own: gapless seqs, cumulative acks, capacity, waiters woken.
import assert from 'node:assert/strict';
import { TransitionWindow } from '../../services/simulator/transition-window.ts';

describe('services/simulator TransitionWindow', () => {
  it('numbers batches without gaps, releases on cumulative acks and refuses pushes when full', () => {
    const w = new TransitionWindow<string>(3);
    assert.deepEqual([w.push('a'), w.push('b'), w.push('c')], [1, 2, 3]);
    assert.equal(w.full, true);
    assert.throws(() => w.push('d'), /full window/);
    w.ack(2);
    assert.deepEqual([w.oldestSeq, w.size, w.get(1), w.get(2), w.get(3)], [3, 1, undefined, undefined, 'c']);
    w.ack(1); // an older ack changes nothing
    assert.equal(w.size, 1);
    assert.equal(w.push('d'), 4);
    assert.throws(() => w.ack(5), /seq 5 was not produced yet \(newest is 4\)/);
    w.ack(4);
    assert.deepEqual([w.size, w.oldestSeq, w.nextSeq], [0, 5, 5]);
    assert.throws(() => new TransitionWindow(0), /capacity must be a positive integer/);
  });

  it('wakes waiters on push, ack and close', async () => {
    const w = new TransitionWindow<number>(1);
    const woken: string[] = [];
    const pushed = w.changed().then(() => woken.push('push'));
    w.push(1);
    await pushed;
    const acked = w.changed().then(() => woken.push('ack'));
    w.ack(1);
    await acked;
    const closed = w.changed().then(() => woken.push('close'));
    w.close();
    await closed;
    await w.changed(); // resolves at once once closed
    assert.deepEqual(woken, ['push', 'ack', 'close']);
  });
});
