// The coordinator against handlers registered through the real phase worker on a real nats-server (the
// unit under test is the coordinator: phase order, inputs handed on, state.json, resume, failure).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import {
  type PhaseHandler,
  type PhaseWorkerHandle,
  runPhaseWorker,
} from '../../lib/services/phase-worker.ts';
import { parseSpec } from '../../lib/services/spec.ts';
import { runExperiment } from '../../services/coordinator/coordinator.ts';
import { loadState } from '../../services/coordinator/state.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';

const quiet = (): void => {};

describe('coordinator', function () {
  this.timeout(120_000);
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let root: string;
  const workers: PhaseWorkerHandle[] = [];
  const calls: string[] = [];
  let failOnline = true;

  const handlers: [Phase, string, PhaseHandler][] = [
    [
      Phase.PHASE_WORLD_MODEL,
      'world_model',
      async (ctx) => {
        assert.equal(ctx.request.inputs['dataset'], 'dataset.hdf5');
        return { outputs: { world_model: 'wm.safetensors' }, metrics: { heldout_mse: 0.1 } };
      },
    ],
    [
      Phase.PHASE_OFFLINE,
      'offline',
      async (ctx) => {
        assert.equal(ctx.request.inputs['world_model'], 'wm.safetensors');
        return { outputs: { agent: 'offline.safetensors' }, metrics: { updates: 10 } };
      },
    ],
    [
      Phase.PHASE_ONLINE,
      'online',
      async (ctx) => {
        assert.equal(ctx.request.inputs['agent'], 'offline.safetensors');
        ctx.progress({ step: 5, total: 10, metrics: { last_return: 3 } });
        if (failOnline) throw new Error('simulator went away');
        return { outputs: { agent: 'final.safetensors' }, metrics: { steps: 10 } };
      },
    ],
    [
      Phase.PHASE_EVALUATION,
      'evaluation',
      async (ctx) => {
        assert.equal(ctx.request.inputs['agent'], 'final.safetensors');
        return { metrics: { return_mean: 42 } };
      },
    ],
  ];

  before(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    root = mkdtempSync(join(tmpdir(), 'o2o-coord-'));
    for (const [phase, name, handler] of handlers) {
      workers.push(
        await runPhaseWorker(
          nc,
          phase,
          async (ctx) => {
            calls.push(`${name}#${ctx.request.attempt}`);
            return await handler(ctx);
          },
          { durableName: `fake-${name}`, service: 'fake', runRoot: root, log: quiet },
        ),
      );
    }
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await nc?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const spec = parseSpec({
    name: 'coord-test',
    env: 'InvertedPendulum-v5',
    dataset: { generate: { kind: 'random', transitions: 50 } },
    timeouts: { worldModel: 20, offline: 20, online: 20, evaluation: 20 },
  });

  it('stops at a failed phase, then a resume skips the finished phases and retries it', async () => {
    const runDir = join(root, 'run1');
    const progress: string[] = [];
    await assert.rejects(
      runExperiment({ nc, spec, runRoot: root, runDir, log: (l) => progress.push(l), progressEveryMs: 0 }),
      /online failed \(attempt 1, fake@.*\): simulator went away/,
    );
    assert.deepEqual(calls, ['world_model#1', 'offline#1', 'online#1']);
    assert.ok(
      progress.some((l) => /^online 5\/10 \(50%\).*last_return 3/.test(l)),
      progress.join('\n'),
    );
    const failed = loadState(runDir);
    assert.equal(failed?.phases.dataset?.status, 'done');
    assert.equal(failed?.phases.dataset?.metrics['transitions'], 50);
    assert.equal(failed?.phases.online?.status, 'failed');
    assert.ok(existsSync(join(runDir, 'report.md')), 'a failed run still gets a report');

    await assert.rejects(runExperiment({ nc, spec, runRoot: root, runDir, log: quiet }), /--resume/);
    const other = parseSpec({ ...spec, seed: 9 });
    await assert.rejects(
      runExperiment({ nc, spec: other, runRoot: root, runDir, resume: true, log: quiet }),
      /spec differs/,
    );

    failOnline = false;
    calls.length = 0;
    const outcome = await runExperiment({ nc, spec, runRoot: root, runDir, resume: true, log: quiet });
    assert.deepEqual(calls, ['online#2', 'evaluation#1']);
    assert.equal(outcome.state.runId, failed?.runId);
    assert.equal(outcome.state.phases.online?.attempt, 2);
    assert.equal(outcome.state.phases.evaluation?.metrics['return_mean'], 42);
    const report = readFileSync(outcome.reportPath, 'utf8');
    assert.match(report, /\| evaluation \| done \|/);
    assert.match(report, /Final evaluation: mean return 42/);

    calls.length = 0;
    await runExperiment({ nc, spec, runRoot: root, runDir, resume: true, log: quiet });
    assert.deepEqual(calls, [], 'a finished run resumes to nothing');
  });

  it('skips the world model and offline phases for the scratch variant', async () => {
    calls.length = 0;
    const scratch = parseSpec({ ...spec, name: 'scratch', variant: 'scratch' });
    // The fake online handler insists on an offline agent input, which scratch does not hand on: the
    // online phase fails, after the skipped ones were recorded and nothing else was requested.
    const runDir = join(root, 'run2');
    await assert.rejects(
      runExperiment({ nc, spec: scratch, runRoot: root, runDir, log: quiet }),
      /online failed/,
    );
    const state = loadState(runDir);
    assert.equal(state?.phases.world_model?.status, 'skipped');
    assert.equal(state?.phases.offline?.status, 'skipped');
    assert.deepEqual(calls, ['online#1']);
  });
});
