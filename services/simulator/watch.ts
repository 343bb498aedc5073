// The live set of simulators, from their heartbeats on NATS: added, restarted (a new incarnation) and
// gone (missed beats), for the learner's actor mode and the coordinator.
import type { NatsConnection, Subscription } from 'nats';
import { SimulatorHeartbeat } from '../../generated/proto/o2o/v1/events.js';
import { envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { subjects } from '../../lib/services/subjects.ts';

/** A simulator seen on NATS. */
export interface LiveSimulator {
  heartbeat: SimulatorHeartbeat;
  /** Local clock (ms) of the last heartbeat. */
  lastSeenMs: number;
}

export type SimulatorChange =
  | { type: 'added'; simulator: LiveSimulator }
  /** Same id, higher incarnation: its unacked batches are lost and its seqs restart at 1. */
  | { type: 'restarted'; simulator: LiveSimulator; previousIncarnation: number }
  | { type: 'gone'; simulator: LiveSimulator };

export interface WatchOptions {
  /** Only simulators of this env id, and with envOptions (absent: the env's defaults). */
  envId?: string;
  envOptions?: Record<string, unknown>;
  /** The simulators' heartbeat interval (ms); default 1000. */
  heartbeatMs?: number;
  /** Missed intervals after which a simulator is gone; default 3. */
  missedBeats?: number;
  onChange?(change: SimulatorChange): void;
}

export interface SimulatorWatch {
  /** The simulators heard from recently, by id. */
  live(): Map<string, LiveSimulator>;
  /** Resolves once `predicate(live)` holds (checked at every heartbeat and expiry), or rejects at the timeout. */
  waitFor(predicate: (live: Map<string, LiveSimulator>) => boolean, timeoutMs: number): Promise<void>;
  stop(): void;
}

/** Tracks the live simulators from their heartbeats on NATS. */
export function watchSimulators(nc: NatsConnection, options: WatchOptions = {}): SimulatorWatch {
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const expireMs = heartbeatMs * (options.missedBeats ?? 3);
  const wantedOptions = envOptionsJson(options.envOptions);
  const foreign = (hb: SimulatorHeartbeat): boolean =>
    options.envId !== undefined && (hb.envId !== options.envId || hb.envOptionsJson !== wantedOptions);
  const live = new Map<string, LiveSimulator>();
  const checks = new Set<() => void>();
  const notify = (change: SimulatorChange | undefined) => {
    if (change !== undefined) options.onChange?.(change);
    for (const check of [...checks]) check();
  };
  const sub: Subscription = nc.subscribe(subjects.simulatorHeartbeat, {
    callback: (err, msg) => {
      if (err) return;
      let hb: SimulatorHeartbeat;
      try {
        hb = SimulatorHeartbeat.decode(msg.data);
      } catch {
        return; // not a heartbeat: ignore rather than trust it
      }
      if (hb.simulatorId === '' || foreign(hb)) return;
      const previous = live.get(hb.simulatorId);
      if (previous !== undefined && hb.incarnation < previous.heartbeat.incarnation) return; // a stale beat
      const simulator = { heartbeat: hb, lastSeenMs: Date.now() };
      live.set(hb.simulatorId, simulator);
      if (previous === undefined) notify({ type: 'added', simulator });
      else if (hb.incarnation > previous.heartbeat.incarnation) {
        notify({ type: 'restarted', simulator, previousIncarnation: previous.heartbeat.incarnation });
      } else notify(undefined);
    },
  });
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, simulator] of live) {
        if (now - simulator.lastSeenMs > expireMs) {
          live.delete(id);
          notify({ type: 'gone', simulator });
        }
      }
    },
    Math.max(10, Math.floor(heartbeatMs / 4)),
  );
  return {
    live: () => new Map(live),
    waitFor(predicate, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(live)) return;
          clearTimeout(timer);
          checks.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`watchSimulators: condition not met within ${timeoutMs} ms (${live.size} live)`));
        }, timeoutMs);
        checks.add(check);
        check();
      });
    },
    stop() {
      clearInterval(sweep);
      sub.unsubscribe();
    },
  };
}
