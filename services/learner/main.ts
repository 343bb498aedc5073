// Entry point: node --import tsx services/learner/main.ts [--flag value ...]
// Reads O2O_LEARNER_* and the shared O2O_* variables (config.ts), serves the Learner gRPC API (Status,
// Evaluate), takes PHASE_OFFLINE / PHASE_ONLINE / PHASE_EVALUATION requests from JetStream through the
// phase worker, prints one JSON ready line, and on SIGINT/SIGTERM checkpoints a running online phase,
// hands the request back for redelivery (the restarted learner resumes from the checkpoint) and exits 0.
import { connect, type NatsConnection } from 'nats';
import { Phase, type PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import { announceReady, exitOnStopSignals } from '../../lib/services/lifecycle.ts';
import { natsOptionsFromEnv } from '../../lib/services/nats-options.ts';
import {
  type PhaseContext,
  type PhaseWorkerHandle,
  runPhaseWorker,
} from '../../lib/services/phase-worker.ts';
import { startTelemetry } from '../../lib/telemetry/index.ts';
import { watchSimulators } from '../simulator/watch.ts';
import { loadConfig } from './config.ts';
import { newStatus, type PhaseDeps, type PhaseHandler, PhaseInterrupted } from './deps.ts';
import { runEvaluationPhase } from './evaluation-phase.ts';
import { runOfflinePhase } from './offline-phase.ts';
import { runOnlinePhase } from './online-phase.ts';
import { startLearnerServer } from './server.ts';
import { openLockstepEnv, openWorldModel } from './wiring.ts';

function log(message: string): void {
  process.stderr.write(`[learner] ${message}\n`);
}

async function main(): Promise<void> {
  const telemetry = startTelemetry({ service: 'learner' });
  const config = loadConfig();
  const status = newStatus();
  let stopping = false;
  let nc: NatsConnection | undefined;
  const lastProgress = new Map<string, number>();

  const depsFor = (ctx: PhaseContext): PhaseDeps => ({
    runRoot: config.runRoot,
    openWorldModel: (path, seed, onCondition) => openWorldModel(config, path, seed, onCondition),
    openTrainEnv: (envId, _seed, envOptions) => openLockstepEnv(config, nc, envId, envOptions),
    onlineMode: config.onlineMode,
    openSimulatorDirectory: async (envId, envOptions) => {
      if (nc === undefined) throw new Error('actor mode needs NATS (O2O_NATS_URL is none)');
      return watchSimulators(nc, { envId, ...(envOptions === undefined ? {} : { envOptions }) });
    },
    checkpointEvery: config.checkpointEvery,
    offlineCheckpointEvery: config.offlineCheckpointEvery,
    progress: (request: PhaseRequest, report) => {
      const key = `${request.runId}/${request.phase}`;
      const now = Date.now();
      if (report.step < report.total && now - (lastProgress.get(key) ?? 0) < config.progressMs) return;
      lastProgress.set(key, now);
      ctx.progress(report);
    },
    stopping: () => stopping || ctx.signal.aborted,
    status,
    log,
  });

  // A phase interrupted by shutdown has written its checkpoint; it must not be reported as failed, so its
  // handler never settles and the request is handed back (nak) for redelivery.
  let interruptedAt: ((checkpoint: string) => void) | undefined;
  const interrupted = new Promise<string>((resolve) => {
    interruptedAt = resolve;
  });
  const wrap =
    (handler: PhaseHandler) =>
    async (
      ctx: PhaseContext,
    ): Promise<{ outputs: Record<string, string>; metrics: Record<string, number> }> => {
      try {
        return await handler(ctx.request, depsFor(ctx));
      } catch (err) {
        if (err instanceof PhaseInterrupted) {
          interruptedAt?.(err.checkpoint);
          return new Promise(() => {});
        }
        throw err;
      } finally {
        if (!stopping) status.phase = 'idle';
      }
    };

  const server = await startLearnerServer(status, config.onlineMode, config.listen, config.grpcTls.server);
  const workers: PhaseWorkerHandle[] = [];
  if (config.natsUrl !== 'none') {
    nc = await connect(natsOptionsFromEnv({ ...process.env, O2O_NATS_URL: config.natsUrl }));
    const handlers: [Phase, PhaseHandler, string][] = [
      [Phase.PHASE_OFFLINE, runOfflinePhase, 'learner-offline'],
      [Phase.PHASE_ONLINE, runOnlinePhase, 'learner-online'],
      [Phase.PHASE_EVALUATION, runEvaluationPhase, 'learner-evaluation'],
    ];
    for (const [phase, handler, durableName] of handlers) {
      workers.push(
        await runPhaseWorker(nc, phase, wrap(handler), {
          durableName,
          service: 'learner',
          runRoot: config.runRoot,
          // Offline updates and online steps can take a while between keep-alives on a busy machine.
          ackWaitMs: config.ackWaitMs,
          log,
        }),
      );
    }
  } else {
    log('O2O_NATS_URL=none: no phase requests, gRPC only');
  }
  log(
    `serving on ${server.address} (gRPC ${config.grpcTls.description}, online mode ${config.onlineMode}, run root ${config.runRoot})`,
  );
  announceReady('learner', server.address);
  exitOnStopSignals(log, 'stopping', async () => {
    stopping = true; // at once, before any await: trainOnline checks it after every step
    if (status.phase === 'online') {
      // Wait for the interrupted phase's checkpoint (bounded).
      const checkpoint = await Promise.race([
        interrupted,
        new Promise<string>((r) => setTimeout(() => r(''), 120_000).unref()),
      ]);
      if (checkpoint) log(`checkpoint written: ${checkpoint}`);
    }
    await Promise.all(workers.map((w) => w.stop({ abandon: true })));
    await server.shutdown();
    await nc?.drain();
    await telemetry.shutdown();
  });
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
