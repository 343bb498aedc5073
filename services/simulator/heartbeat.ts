// Announces a simulator on NATS: a SimulatorHeartbeat on subjects.simulatorHeartbeat every interval, so
// learners and the coordinator discover it (watchSimulators in client.ts) and notice when it is gone.
// The connection reconnects forever; heartbeats published while disconnected are simply skipped.
import { connect, type NatsConnection } from 'nats';
import { SimulatorHeartbeat } from '../../generated/proto/o2o/v1/events.js';
import { describeNatsOptions, natsOptionsFromEnv } from '../../lib/services/nats-options.ts';
import { subjects } from '../../lib/services/subjects.ts';

export interface HeartbeatSource {
  /** The current heartbeat contents (read at every beat). */
  heartbeat(): SimulatorHeartbeat;
}

export interface Heartbeats {
  /** Stops beating and closes the connection (drained, at most 2 s). */
  stop(): Promise<void>;
}

function log(message: string): void {
  process.stderr.write(`[simulator] ${message}\n`);
}

/**
 * Connects to NATS (in the background: the simulator serves gRPC meanwhile) and publishes a heartbeat
 * every `intervalMs`. `env` supplies O2O_NATS_URL and the NATS credentials (lib/services/nats-options.ts).
 */
export function startHeartbeats(
  source: HeartbeatSource,
  intervalMs: number,
  env: NodeJS.ProcessEnv,
): Heartbeats {
  const options = {
    ...natsOptionsFromEnv(env),
    name: `o2o-simulator ${source.heartbeat().simulatorId}`,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: Math.min(1000, intervalMs),
    // Keep trying when NATS is not up yet (e.g. started in the same compose run).
    waitOnFirstConnect: true,
  };
  let nc: NatsConnection | undefined;
  let stopped = false;
  const connecting = connect(options).then(
    async (conn) => {
      if (stopped) {
        await conn.close();
        return;
      }
      nc = conn;
      log(`NATS connected (${describeNatsOptions(options)})`);
      beat();
      (async () => {
        for await (const s of conn.status()) {
          if (s.type === 'disconnect' || s.type === 'reconnect') log(`NATS ${s.type}`);
        }
      })().catch(() => {});
    },
    (err: unknown) => log(`NATS connection failed: ${(err as Error).message}`),
  );
  const beat = (): void => {
    if (nc === undefined || nc.isClosed()) return;
    try {
      nc.publish(subjects.simulatorHeartbeat, SimulatorHeartbeat.encode(source.heartbeat()).finish());
    } catch (err) {
      log(`heartbeat not sent: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(beat, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (nc !== undefined && !nc.isClosed()) {
        // drain() waits for the server; while NATS is down that could be forever, so bound it.
        const conn = nc;
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
        await Promise.race([conn.drain().catch(() => {}), timeout]);
        if (!conn.isClosed()) await conn.close();
      }
      // A connect still pending is closed as soon as it resolves (see above); do not wait for it.
      void connecting;
    },
  };
}
