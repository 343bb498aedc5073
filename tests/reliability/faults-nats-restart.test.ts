// Fault: nats-server restarts (same port, same JetStream store) in the middle of a run.
// 1. Phase worker and requestPhase on connections made with natsOptionsFromEnv (as every service makes
//    them): one request is in a handler when the server goes down, another is published while it is
//    down. Both results arrive after the restart, each handler ran once, and the results are in the stream.
// 2. `o2o run` (launcher, real processes): nats-server is stopped mid online phase; the launcher starts
//    it again, every service reconnects and the run finishes with every phase done.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase, PhaseRequest, PhaseResult } from '../../generated/proto/o2o/v1/events.js';
import { natsOptionsFromEnv } from '../../lib/services/nats-options.ts';
import { requestPhase, resultReader } from '../../lib/services/phase-client.ts';
import { runPhaseWorker } from '../../lib/services/phase-worker.ts';
import { loadState, PHASE_ORDER } from '../../services/coordinator/state.ts';
import { launch } from '../../services/launcher/launch.ts';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';

const quiet = (): void => {};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('fault: nats-server restart', function () {
  this.timeout(240_000);

  describe('phase requests across the restart', () => {
    let server: NatsServerHandle;
    let runRoot: string;
    const conns: NatsConnection[] = [];
    const open = async () => {
      const nc = await connect(natsOptionsFromEnv({ O2O_NATS_URL: server.url }));
      conns.push(nc);
      return nc;
    };
    before(async () => {
      server = await startNatsServer();
      runRoot = mkdtempSync(join(tmpdir(), 'o2o-fault-nats-'));
    });
    after(async () => {
      await Promise.all(conns.map((c) => c.close()));
      await server?.stop();
      rmSync(runRoot, { recursive: true, force: true });
    });

    it('delivers a result of a request in flight and of one published during the outage, each handled once', async () => {
      const [workerConn, clientConn] = await Promise.all([open(), open()]);
      const handled: string[] = [];
      let releaseFirst!: () => void;
      const firstMayFinish = new Promise<void>((r) => {
        releaseFirst = r;
      });
      let firstStarted!: () => void;
      const started = new Promise<void>((r) => {
        firstStarted = r;
      });
      const worker = await runPhaseWorker(
        workerConn,
        Phase.PHASE_EVALUATION,
        async (ctx) => {
          handled.push(ctx.request.runId);
          if (ctx.request.runId === 'run-1') {
            firstStarted();
            await firstMayFinish;
          }
          return { metrics: { value: handled.length } };
        },
        { durableName: 'faults-eval', service: 'test', runRoot, ackWaitMs: 2000, log: quiet },
      );
      const request = (runId: string) =>
        PhaseRequest.fromPartial({
          runId,
          phase: Phase.PHASE_EVALUATION,
          attempt: 1,
          runDir: join(runRoot, runId),
          specJson: '{}',
        });
      const first = requestPhase(clientConn, request('run-1'), { timeoutMs: 60_000 });
      await started;

      await server.kill(); // down, with the first request in its handler
      const second = requestPhase(clientConn, request('run-2'), { timeoutMs: 60_000 });
      await sleep(1500);
      releaseFirst(); // the first handler finishes while the server is still down
      await sleep(500);
      await server.restart();

      const [r1, r2] = await Promise.all([first, second]);
      assert.equal(r1.ok, true, r1.error);
      assert.equal(r2.ok, true, r2.error);
      assert.deepEqual(handled.toSorted(), ['run-1', 'run-2'], 'each request handled once');
      await worker.stop();

      // Both results are in the (file-stored) stream exactly once per run.
      const reader = await resultReader(clientConn, Phase.PHASE_EVALUATION);
      const seen = new Map<string, number>();
      const batch = await reader.fetch({ max_messages: 100, expires: 1000 });
      for await (const m of batch) {
        const r = PhaseResult.decode(m.data);
        seen.set(r.runId, (seen.get(r.runId) ?? 0) + 1);
      }
      assert.equal(seen.get('run-1'), 1, 'run-1 result stored');
      assert.equal(seen.get('run-2'), 1, 'run-2 result stored');
    });
  });

  describe('o2o run', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'o2o-fault-nats-run-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('finishes every phase when nats-server is restarted mid online phase', async () => {
      writeFileSync(
        join(dir, 'spec.yaml'),
        `
name: faults-nats
seed: 9
env: InvertedPendulum-v5
variant: scratch
dataset: { generate: { kind: random, transitions: 20 } }
agent: { hidden: [16, 16] }
online: { steps: 500, simulators: 1, startSteps: 50, batchSize: 32, evalEvery: 250, evalEpisodes: 1 }
evaluation: { episodes: 1 }
`,
      );
      const launcherLines: string[] = [];
      const serviceLines: string[] = [];
      let natsPid = 0;
      let natsStarts = 0;
      let restartedMidPhase: Promise<number> | undefined;
      let runOver = false; // ends the polling if the run finished without the restart
      const stopNatsMidOnline = async (address: string): Promise<number> => {
        const client = new LearnerServiceClient(address);
        try {
          while (!runOver) {
            const s = await client.status().catch(() => undefined);
            if (s !== undefined && s.phase === 'online' && s.step >= 100) {
              process.kill(natsPid, 'SIGTERM');
              return s.step;
            }
            await sleep(20);
          }
          return -1;
        } finally {
          client.close();
        }
      };
      const result = await launch({
        specPath: join(dir, 'spec.yaml'),
        runDir: join(dir, 'run'),
        env: { O2O_LEARNER_ACK_WAIT_MS: '3000', O2O_LEARNER_PROGRESS_MS: '200', O2O_COORD_PROGRESS_MS: '0' },
        restart: { maxRestarts: 1, initialBackoffMs: 1000, maxBackoffMs: 1000 },
        log: (line) => launcherLines.push(line),
        forward: (line) => serviceLines.push(line),
        onReady: (label, info) => {
          if (label === 'nats-server') {
            natsPid = info.pid;
            natsStarts++;
          }
          if (label === 'learner' && restartedMidPhase === undefined)
            restartedMidPhase = stopNatsMidOnline(info.address!);
        },
        graceMs: 10_000,
      });
      runOver = true;
      const transcript = () => [...launcherLines, ...serviceLines].join('\n');
      assert.equal(result.ok, true, `run failed: ${result.reason}\n${transcript()}`);
      const atStep = await restartedMidPhase;
      assert.equal(natsStarts, 2, `nats-server started twice\n${transcript()}`);
      assert.ok(
        launcherLines.some((l) => /nats-server exited unexpectedly \(\w+\); restart 1\/1/.test(l)),
        transcript(),
      );
      const state = loadState(result.runDir)!;
      for (const phase of PHASE_ORDER) {
        assert.ok(
          ['done', 'skipped'].includes(state.phases[phase]?.status ?? ''),
          `${phase}: ${state.phases[phase]?.status}`,
        );
      }
      assert.equal(state.phases.online?.attempt, 1);
      assert.equal(state.phases.online?.metrics['steps'], 500);
      assert.equal(state.phases.evaluation?.status, 'done');
      console.log(`      nats-server restarted at online step ${atStep}`);
    });
  });
});
