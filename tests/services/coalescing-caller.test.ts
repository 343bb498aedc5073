import assert from 'node:assert/strict';
import { CoalescingCaller } from '../../services/learner/coalescing-caller.ts';

/** A call that resolves (or rejects) when the test says so, recording that it started. */
function gate(started: string[], name: string) {
  let release!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return {
    call: () => {
      started.push(name);
      return done;
    },
    release: () => release(),
    fail: (e: Error) => fail(e),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescingCaller', () => {
  it('runs the first request at once and, of those made while it is in flight, only the newest', async () => {
    const started: string[] = [];
    const caller = new CoalescingCaller(() => assert.fail('no error expected'));
    const [a, b, c] = ['a', 'b', 'c'].map((n) => gate(started, n));
    caller.request(a!.call);
    caller.request(b!.call);
    caller.request(c!.call);
    assert.deepEqual(started, ['a']);
    a!.release();
    await tick();
    assert.deepEqual(started, ['a', 'c'], 'b was replaced by c');
    let settled = false;
    void caller.settled().then(() => {
      settled = true;
    });
    await tick();
    assert.equal(settled, false, 'c is still in flight');
    c!.release();
    await caller.settled();
    const d = gate(started, 'd');
    caller.request(d.call);
    assert.deepEqual(started, ['a', 'c', 'd'], 'idle again: the next request starts at once');
    d.release();
    await caller.settled();
  });

  it('reports the first failure once, drops what was pending and ignores later requests', async () => {
    const started: string[] = [];
    const errors: string[] = [];
    const caller = new CoalescingCaller((e) => errors.push(e.message));
    const [a, b] = ['a', 'b'].map((n) => gate(started, n));
    caller.request(a!.call);
    caller.request(b!.call);
    a!.fail(new Error('deadline exceeded'));
    await caller.settled();
    caller.request(gate(started, 'c').call);
    await tick();
    assert.deepEqual(errors, ['deadline exceeded']);
    assert.deepEqual(started, ['a']);
  });
});
