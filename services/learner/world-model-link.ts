// The learner's connection to the world-model service for augmentation, with its outage policy: when
// the service is unreachable (UNAVAILABLE, DEADLINE_EXCEEDED, a full queue) or comes back without the
// model (FAILED_PRECONDITION after a restart), the call is retried on a fresh connection after an
// exponentially growing pause, re-Loading the model when needed, until O2O_LEARNER_WM_WAIT_MS is spent;
// then it fails with an error naming the address and the budget. Each wait is reported through
// `onCondition` ("world model unreachable at ADDR, retry k/n, next in Xs"), and '' once it answers again.
// There is no fallback: augmentation never silently continues with p = 0.
import { status } from '@grpc/grpc-js';
import type { WorldModel, WorldModelInfo } from '../../lib/world-model/types.ts';
import { RemoteWorldModel, RemoteWorldModelError, WorldModelServiceClient } from '../world-model/client.ts';

export interface WorldModelWaitPolicy {
  /** Longest total pause across the retries of one call (ms). */
  waitMs: number;
  /** First pause (ms), doubled per retry up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Deadline of one attempt (ms). */
  callTimeoutMs: number;
}

export const DEFAULT_WM_WAIT: WorldModelWaitPolicy = {
  waitMs: 120_000,
  initialBackoffMs: 500,
  maxBackoffMs: 10_000,
  callTimeoutMs: 30_000,
};

/** Statuses worth waiting out: the service is down, slow, full, or restarted without its model. */
const WAIT_FOR = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.FAILED_PRECONDITION,
]);

export class WorldModelUnavailableError extends Error {
  override readonly name = 'WorldModelUnavailableError';
}

/** The pauses before retry 1, 2, …, n: doubling from initialBackoffMs, capped, summing to ≤ waitMs. */
export function retrySchedule(p: WorldModelWaitPolicy): number[] {
  const out: number[] = [];
  let total = 0;
  for (let pause = p.initialBackoffMs; ; pause = Math.min(pause * 2, p.maxBackoffMs)) {
    if (total + pause > p.waitMs) {
      // The remainder, so the last retry lands at the end of the budget rather than short of it.
      if (p.waitMs - total >= 1) out.push(p.waitMs - total);
      return out;
    }
    out.push(pause);
    total += pause;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WorldModelLink implements WorldModel {
  /** The served model's dims (set by open(); a service that comes back with others is refused). */
  info: WorldModelInfo = { implementation: '', obsDim: 0, actDim: 0 };
  /** Retries made so far (all calls), and outages survived (calls that needed at least one retry). */
  retries = 0;
  outages = 0;
  private remote: RemoteWorldModel | undefined;
  private readonly schedule: number[];

  private constructor(
    readonly address: string,
    /** Model path relative to the service's run root (what Load takes). */
    readonly modelPath: string,
    readonly policy: WorldModelWaitPolicy,
    private readonly onCondition: (message: string) => void,
  ) {
    this.schedule = retrySchedule(policy);
  }

  /** Connects (waiting out an outage like any call), loading `modelPath` if the service serves another. */
  static async open(
    address: string,
    modelPath: string,
    policy: WorldModelWaitPolicy = DEFAULT_WM_WAIT,
    onCondition: (message: string) => void = () => {},
  ): Promise<WorldModelLink> {
    for (const [k, v] of Object.entries(policy)) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`world-model wait policy: ${k} must be an integer >= 1, got ${v}`);
      }
    }
    const link = new WorldModelLink(address, modelPath, policy, onCondition);
    const remote = await link.retrying('Load', () => link.connect());
    link.remote = remote;
    link.info = remote.info;
    return link;
  }

  async predictNextStates(
    states: Float32Array,
    actions: Float32Array,
    count: number,
    out: Float32Array,
    options?: { deterministic?: boolean },
  ): Promise<void> {
    await this.retrying('Predict', async () => {
      this.remote ??= await this.connect();
      await this.remote.predictNextStates(states, actions, count, out, options);
    });
  }

  close(): void {
    this.remote?.close();
    this.remote = undefined;
  }

  /** A fresh connection to a service serving this link's model (Load when it serves something else). */
  private async connect(): Promise<RemoteWorldModel> {
    // One attempt per retry: the link owns the waiting (the client's own retry budget is ~0).
    const options = { callTimeoutMs: this.policy.callTimeoutMs, retryTotalMs: 1 };
    const admin = new WorldModelServiceClient(this.address, options);
    try {
      const info = await admin.info();
      if (!info.trained || info.modelPath !== this.modelPath) await admin.load(this.modelPath);
    } finally {
      admin.close();
    }
    const remote = await RemoteWorldModel.connect(this.address, options);
    if (this.info.obsDim > 0) {
      if (remote.info.obsDim !== this.info.obsDim || remote.info.actDim !== this.info.actDim) {
        remote.close();
        throw new Error(
          `world-model service at ${this.address} came back with dims ${remote.info.obsDim}/${remote.info.actDim}, expected ${this.info.obsDim}/${this.info.actDim}`,
        );
      }
    }
    return remote;
  }

  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const n = this.schedule.length;
    let waited = 0;
    for (let k = 0; ; k++) {
      try {
        const result = await attempt();
        if (k > 0) {
          this.outages++;
          this.onCondition('');
        }
        return result;
      } catch (err) {
        const code = err instanceof RemoteWorldModelError ? err.code : undefined;
        if (code === undefined || !WAIT_FOR.has(code)) throw err;
        this.remote?.close();
        this.remote = undefined;
        const reason = (err as Error).message;
        if (k >= n) {
          const message =
            `world model unreachable at ${this.address}: ${what} gave up after ${k} retries over ${(waited / 1000).toFixed(1)} s ` +
            `(O2O_LEARNER_WM_WAIT_MS=${this.policy.waitMs}); last error: ${reason}`;
          this.onCondition(message);
          throw new WorldModelUnavailableError(message);
        }
        const pause = this.schedule[k]!;
        this.retries++;
        this.onCondition(
          `world model unreachable at ${this.address}, retry ${k + 1}/${n}, next in ${(pause / 1000).toFixed(1)} s (${status[code]})`,
        );
        await sleep(pause);
        waited += pause;
      }
    }
  }
}
