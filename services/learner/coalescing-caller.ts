// One call at a time to one peer, newest wins: while a call is in flight, later requests replace each
// other and only the last runs when it returns. For calls whose newest value supersedes the older ones
// (cumulative acks, policy snapshots), so the learner can fire them without awaiting: a peer that hangs
// then holds one call of its own instead of the learner's main loop.

export class CoalescingCaller {
  private inFlight: Promise<void> | undefined;
  private pending: (() => Promise<unknown>) | undefined;
  private failed = false;

  /** `onError` is told of the first failure; later requests are ignored (the peer is being dropped). */
  constructor(private readonly onError: (error: Error) => void) {}

  /** Runs `call` now, or after the call in flight, unless a newer request replaces it first. */
  request(call: () => Promise<unknown>): void {
    if (this.failed) return;
    if (this.inFlight !== undefined) {
      this.pending = call;
      return;
    }
    this.inFlight = this.drain(call);
  }

  /** Resolves when no call is in flight or pending (a failure included). */
  settled(): Promise<void> {
    return this.inFlight ?? Promise.resolve();
  }

  private async drain(first: () => Promise<unknown>): Promise<void> {
    let call: (() => Promise<unknown>) | undefined = first;
    while (call !== undefined) {
      try {
        await call();
      } catch (e) {
        this.failed = true;
        this.pending = undefined;
        this.onError(e instanceof Error ? e : new Error(String(e)));
        break;
      }
      call = this.pending;
      this.pending = undefined;
    }
    this.inFlight = undefined;
  }
}
