// The bounded window of transition batches produced in actor mode but not yet acknowledged. Batches are
// numbered 1, 2, 3, ... without gaps; an ack releases every batch up to its seq. The producer waits for
// space (backpressure) and consumers wait for the next seq, so nothing is dropped and nothing acked is
// ever handed out again.

export class TransitionWindow<T> {
  /** Unacked batches, oldest first: held[i] has seq `firstSeq + i`. */
  private held: T[] = [];
  private firstSeq = 1;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`TransitionWindow: capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** Seq the next pushed batch gets. */
  get nextSeq(): number {
    return this.firstSeq + this.held.length;
  }

  /** Oldest unacked seq (== nextSeq when nothing is held). */
  get oldestSeq(): number {
    return this.firstSeq;
  }

  get size(): number {
    return this.held.length;
  }

  get full(): boolean {
    return this.held.length >= this.capacity;
  }

  /** Appends a batch (only when not full) and returns its seq. */
  push(batch: T): number {
    if (this.full) throw new Error('TransitionWindow: push into a full window');
    this.held.push(batch);
    this.wake();
    return this.nextSeq - 1;
  }

  /** The batch with this seq, if it is still held. */
  get(seq: number): T | undefined {
    return this.held[seq - this.firstSeq];
  }

  /**
   * Releases every batch with seq ≤ `seq`; acks at or below an earlier one change nothing. Throws
   * RangeError for a seq that was never produced.
   */
  ack(seq: number): void {
    if (seq >= this.nextSeq) {
      throw new RangeError(`seq ${seq} was not produced yet (newest is ${this.nextSeq - 1})`);
    }
    const drop = seq - this.firstSeq + 1;
    if (drop <= 0) return;
    this.held.splice(0, drop);
    this.firstSeq += drop;
    this.wake();
  }

  /** Resolves at the next push, ack or close (callers re-check their condition in a loop). */
  changed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiter for good (shutdown). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
