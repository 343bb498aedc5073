// Transition storage for off-policy learning: preallocated columnar Float32 arrays, overwritten as a
// ring once full, sampled uniformly with a seeded PRNG into a batch whose arrays are reused.
import type { DatasetColumns } from '../data/dataset.ts';
import { Rng } from '../envs/rng.ts';

/** A batch of transitions, row-major: row i of `obs` is obs[i*obsDim .. (i+1)*obsDim). */
export interface TransitionBatch {
  size: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  /** 1 where the episode terminated (no bootstrap), 0 otherwise; truncation is not termination. */
  terminated: Float32Array;
}

export interface ReplayBufferOptions {
  obsDim: number;
  actDim: number;
  capacity: number;
  seed: number;
}

/** A replay buffer's contents and position (`ReplayBuffer.exportState`); arrays hold `count` rows. */
export interface ReplayBufferState {
  obsDim: number;
  actDim: number;
  capacity: number;
  next: number;
  count: number;
  rng: [number, number, number, number];
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  terminated: Float32Array;
}

export function allocateBatch(size: number, obsDim: number, actDim: number): TransitionBatch {
  return {
    size,
    obs: new Float32Array(size * obsDim),
    actions: new Float32Array(size * actDim),
    rewards: new Float32Array(size),
    nextObs: new Float32Array(size * obsDim),
    terminated: new Float32Array(size),
  };
}

export class ReplayBuffer {
  readonly obsDim: number;
  readonly actDim: number;
  readonly capacity: number;
  private readonly store: TransitionBatch;
  private readonly rng: Rng;
  private next = 0;
  private count = 0;
  private batch: TransitionBatch | undefined;

  constructor(options: ReplayBufferOptions) {
    for (const key of ['obsDim', 'actDim', 'capacity'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`ReplayBuffer: ${key} must be a positive integer, got ${v}`);
    }
    this.obsDim = options.obsDim;
    this.actDim = options.actDim;
    this.capacity = options.capacity;
    this.store = allocateBatch(options.capacity, options.obsDim, options.actDim);
    this.rng = new Rng(options.seed);
  }

  /**
   * A buffer holding exactly the given transitions (an offline dataset's columns, row-major), e.g.
   * lib/data's OfflineDataset. Terminals mark terminations only; timeouts are not terminal.
   */
  static fromColumns(
    columns: Pick<
      DatasetColumns,
      'obsDim' | 'actDim' | 'observations' | 'actions' | 'rewards' | 'nextObservations' | 'terminals'
    >,
    seed: number,
  ): ReplayBuffer {
    const n = columns.rewards.length;
    const { obsDim, actDim } = columns;
    const sizes: [string, number, number][] = [
      ['observations', columns.observations.length, n * obsDim],
      ['nextObservations', columns.nextObservations.length, n * obsDim],
      ['actions', columns.actions.length, n * actDim],
      ['terminals', columns.terminals.length, n],
    ];
    for (const [name, got, want] of sizes) {
      if (got !== want)
        throw new RangeError(`ReplayBuffer.fromColumns: ${name} has ${got} values, expected ${want}`);
    }
    const buffer = new ReplayBuffer({ obsDim, actDim, capacity: Math.max(1, n), seed });
    const s = buffer.store;
    s.obs.set(columns.observations);
    s.nextObs.set(columns.nextObservations);
    s.actions.set(columns.actions);
    s.rewards.set(columns.rewards);
    for (let i = 0; i < n; i++) s.terminated[i] = columns.terminals[i] ? 1 : 0;
    buffer.count = n;
    buffer.next = n % buffer.capacity;
    return buffer;
  }

  /** The stored rows, the ring position and the sampling generator's state, for checkpoints. */
  exportState(): ReplayBufferState {
    const s = this.store;
    const n = this.count;
    return {
      obsDim: this.obsDim,
      actDim: this.actDim,
      capacity: this.capacity,
      next: this.next,
      count: n,
      rng: this.rng.getState(),
      obs: s.obs.slice(0, n * this.obsDim),
      actions: s.actions.slice(0, n * this.actDim),
      rewards: s.rewards.slice(0, n),
      nextObs: s.nextObs.slice(0, n * this.obsDim),
      terminated: s.terminated.slice(0, n),
    };
  }

  /** The buffer `exportState` described: same rows, ring position and sampling stream. */
  static fromState(state: ReplayBufferState): ReplayBuffer {
    const buffer = new ReplayBuffer({ ...state, seed: 0 });
    const n = state.count;
    if (!Number.isInteger(n) || n < 0 || n > state.capacity)
      throw new RangeError(`ReplayBuffer.fromState: count ${n} outside [0, ${state.capacity}]`);
    if (!Number.isInteger(state.next) || state.next < 0 || state.next >= state.capacity)
      throw new RangeError(`ReplayBuffer.fromState: next ${state.next} outside [0, ${state.capacity})`);
    const sizes: [string, number, number][] = [
      ['obs', state.obs.length, n * state.obsDim],
      ['nextObs', state.nextObs.length, n * state.obsDim],
      ['actions', state.actions.length, n * state.actDim],
      ['rewards', state.rewards.length, n],
      ['terminated', state.terminated.length, n],
    ];
    for (const [name, got, want] of sizes) {
      if (got !== want)
        throw new RangeError(`ReplayBuffer.fromState: ${name} has ${got} values, expected ${want}`);
    }
    const s = buffer.store;
    s.obs.set(state.obs);
    s.actions.set(state.actions);
    s.rewards.set(state.rewards);
    s.nextObs.set(state.nextObs);
    s.terminated.set(state.terminated);
    buffer.count = n;
    buffer.next = state.next;
    buffer.rng.setState(state.rng);
    return buffer;
  }

  /** The sampling generator's state alone (cheap, unlike exportState): with the rows kept elsewhere. */
  samplerState(): [number, number, number, number] {
    return this.rng.getState();
  }

  /** Transitions currently held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Appends one transition, overwriting the oldest once full. Arrays are copied. */
  add(
    obs: ArrayLike<number>,
    action: ArrayLike<number>,
    reward: number,
    nextObs: ArrayLike<number>,
    terminated: boolean,
  ): void {
    this.checkRow(obs, this.obsDim, 'obs');
    this.checkRow(action, this.actDim, 'action');
    this.checkRow(nextObs, this.obsDim, 'nextObs');
    if (!Number.isFinite(reward)) throw new RangeError(`ReplayBuffer.add: reward is ${reward}`);
    const i = this.next;
    const s = this.store;
    for (let k = 0; k < this.obsDim; k++) {
      s.obs[i * this.obsDim + k] = obs[k]!;
      s.nextObs[i * this.obsDim + k] = nextObs[k]!;
    }
    for (let k = 0; k < this.actDim; k++) s.actions[i * this.actDim + k] = action[k]!;
    s.rewards[i] = reward;
    s.terminated[i] = terminated ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * Draws `batchSize` transitions uniformly with replacement. Returns a batch owned by the buffer and
   * overwritten by the next call, unless `out` is given.
   */
  sample(batchSize: number, out?: TransitionBatch): TransitionBatch {
    if (this.count === 0) throw new Error('ReplayBuffer.sample: the buffer is empty');
    const batch = out ?? this.reusableBatch(batchSize);
    if (batch.size !== batchSize)
      throw new RangeError(`ReplayBuffer.sample: out has size ${batch.size}, not ${batchSize}`);
    for (let row = 0; row < batchSize; row++) {
      this.copyRow(Math.floor(this.rng.nextDouble() * this.count), batch, row);
    }
    return batch;
  }

  /**
   * Copies stored transition `index` into row `row` of `batch`. Plain loops: rows are a few dozen floats,
   * and `set(subarray(...))` allocated three views per row (~4% of an online TD3 step in a profile).
   */
  private copyRow(index: number, batch: TransitionBatch, row: number): void {
    const s = this.store;
    const o = this.obsDim;
    const a = this.actDim;
    const from = index * o;
    const to = row * o;
    for (let i = 0; i < o; i++) {
      batch.obs[to + i] = s.obs[from + i]!;
      batch.nextObs[to + i] = s.nextObs[from + i]!;
    }
    for (let i = 0; i < a; i++) batch.actions[row * a + i] = s.actions[index * a + i]!;
    batch.rewards[row] = s.rewards[index]!;
    batch.terminated[row] = s.terminated[index]!;
  }

  private reusableBatch(size: number): TransitionBatch {
    if (this.batch === undefined || this.batch.size !== size) {
      if (!Number.isInteger(size) || size < 1)
        throw new RangeError(`ReplayBuffer.sample: batch size ${size}`);
      this.batch = allocateBatch(size, this.obsDim, this.actDim);
    }
    return this.batch;
  }

  private checkRow(row: ArrayLike<number>, dim: number, name: string): void {
    if (row.length !== dim)
      throw new RangeError(`ReplayBuffer.add: ${name} has length ${row.length}, expected ${dim}`);
  }
}
