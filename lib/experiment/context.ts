// What every stage of the pipeline gets from its caller: the run, where to say things, progress output,
// and when to stop (Ctrl-C, SIGTERM, the grid's time budget).
import type { RunConfig } from './run-config.ts';

export interface ProgressSink {
  update(step: number, note?: string): void;
  done(): void;
  /** Clears a redrawn line before other output. */
  clear(): void;
}

/** A progress output for `stage`, counting to `total` from `start` (a resumed stage starts above 0). */
export type ProgressFactory = (stage: string, total: number, start: number) => ProgressSink;

export interface StageContext {
  config: RunConfig;
  log(line: string): void;
  progress: ProgressFactory;
  /** Polled between units of work; true checkpoints and returns 'interrupted'. */
  shouldStop(): boolean;
}

export const silentProgress: ProgressFactory = () => ({ update() {}, done() {}, clear() {} });

/** Lets timers and signal handlers run (training loops are otherwise synchronous). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Canonical JSON for comparing cache keys (fixed key order as built by the callers). */
export function sameKey(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
