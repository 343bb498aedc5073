import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase, type PhaseProgress, PhaseRequest, PhaseResult } from '../../generated/proto/o2o/v1/events.js';
import { requestPhase, resultReader } from '../../lib/services/phase-client.ts';
import { phaseResultPath } from '../../lib/services/phase-stream.ts';
import { runPhaseWorker } from '../../lib/services/phase-worker.ts';
import { subjects } from '../../lib/services/subjects.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';

const quiet = (): void => {};

describe('phase worker and client over JetStream', function () {
  this.timeout(40_000);
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let runRoot: string;

  before(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
  });
  beforeEach(() => {
    runRoot = mkdtempSync(join(tmpdir(), 'o2o-phase-'));
  });
  afterEach(() => rmSync(runRoot, { recursive: true, force: true }));

  const request = (runId: string, phase: Phase, attempt = 1): PhaseRequest =>
    PhaseRequest.fromPartial({
      runId,
      phase,
      attempt,
      runDir: join(runRoot, runId),
      specJson: '{}',
      inputs: { dataset: 'dataset.hdf5' },
    });

  it('round-trips a request to a result with outputs, metrics and progress', async () => {
    let calls = 0;
    const worker = await runPhaseWorker(
      nc,
      Phase.PHASE_WORLD_MODEL,
      async (ctx) => {
        calls += 1;
        assert.equal(ctx.request.inputs['dataset'], 'dataset.hdf5');
        ctx.progress({ step: 1, total: 2, metrics: { loss: 0.5 } });
        await new Promise((r) => setTimeout(r, 100));
        return { outputs: { world_model: 'wm.safetensors' }, metrics: { mse: 0.25 } };
      },
      { durableName: 'wm-roundtrip', service: 'test', runRoot, log: quiet },
    );
    const progress: PhaseProgress[] = [];
    const result = await requestPhase(nc, request('run-a', Phase.PHASE_WORLD_MODEL), {
      timeoutMs: 10_000,
      onProgress: (p) => progress.push(p),
    });
    await worker.stop();
    assert.equal(result.ok, true, result.error);
    assert.equal(result.runId, 'run-a');
    assert.deepEqual(result.outputs, { world_model: 'wm.safetensors' });
    assert.equal(result.metrics['mse'], 0.25);
    assert.ok(result.handledBy.startsWith('test@'));
    assert.equal(calls, 1);
    assert.equal(progress.length, 1);
    assert.equal(progress[0]?.step, 1);
    assert.equal(progress[0]?.metrics['loss'], 0.5);
    assert.ok(existsSync(phaseResultPath(join(runRoot, 'run-a'), Phase.PHASE_WORLD_MODEL)));
  });

  it('reports a handler failure as ok=false with the message, and refuses a run dir outside the root', async () => {
    const worker = await runPhaseWorker(
      nc,
      Phase.PHASE_OFFLINE,
      async () => {
        throw new Error('dataset: too small');
      },
      { durableName: 'offline-fail', service: 'test', runRoot, log: quiet },
    );
    const failed = await requestPhase(nc, request('run-b', Phase.PHASE_OFFLINE), { timeoutMs: 10_000 });
    assert.equal(failed.ok, false);
    assert.match(failed.error, /dataset: too small/);
    const outside = PhaseRequest.fromPartial({ ...request('run-c', Phase.PHASE_OFFLINE), runDir: '/etc' });
    const refused = await requestPhase(nc, outside, { timeoutMs: 10_000 });
    await worker.stop();
    assert.equal(refused.ok, false);
    assert.match(refused.error, /run_dir: .*not inside the run root/);
  });

  it('redelivers a request whose worker died before acking it', async () => {
    const dying = await connect({ servers: server.url });
    let firstStarted!: () => void;
    const started = new Promise<void>((r) => {
      firstStarted = r;
    });
    await runPhaseWorker(
      dying,
      Phase.PHASE_ONLINE,
      async () => {
        firstStarted();
        return await new Promise(() => {}); // hangs until its connection is gone
      },
      { durableName: 'online-shared', service: 'first', runRoot, ackWaitMs: 1000, log: quiet },
    );
    const pending = requestPhase(nc, request('run-d', Phase.PHASE_ONLINE), { timeoutMs: 20_000 });
    await started;
    await dying.close(); // the worker "crashes": no ack, no result
    const second = await runPhaseWorker(
      nc,
      Phase.PHASE_ONLINE,
      async () => ({ metrics: { final_return: 42 } }),
      { durableName: 'online-shared', service: 'second', runRoot, ackWaitMs: 1000, log: quiet },
    );
    const result = await pending;
    await second.stop();
    assert.equal(result.ok, true, result.error);
    assert.ok(result.handledBy.startsWith('second@'), result.handledBy);
    assert.equal(result.metrics['final_return'], 42);
  });

  it('answers a redelivered request from the stored result without running the handler again', async () => {
    let calls = 0;
    const worker = await runPhaseWorker(
      nc,
      Phase.PHASE_EVALUATION,
      async () => {
        calls += 1;
        return { metrics: { mean_return: 7 + calls } };
      },
      { durableName: 'eval-idem', service: 'test', runRoot, log: quiet },
    );
    const req = request('run-e', Phase.PHASE_EVALUATION, 1);
    const first = await requestPhase(nc, req, { timeoutMs: 10_000 });
    // The same request arriving again (as when a worker published its result but died before acking):
    // published without a msgID so the server does not de-duplicate it.
    const js = nc.jetstream();
    await js.publish(subjects.phaseRequest(Phase.PHASE_EVALUATION), PhaseRequest.encode(req).finish());
    const results = await readResults(nc, Phase.PHASE_EVALUATION, 'run-e', 2);
    // A new attempt is new work.
    const retried = await requestPhase(nc, request('run-e', Phase.PHASE_EVALUATION, 2), {
      timeoutMs: 10_000,
    });
    await worker.stop();
    assert.equal(first.metrics['mean_return'], 8);
    assert.deepEqual(
      results.map((r) => r.metrics['mean_return']),
      [8, 8],
    );
    assert.equal(retried.metrics['mean_return'], 9);
    assert.equal(calls, 2, 'the repeat of attempt 1 is answered from the record; attempt 2 runs');
  });
});

/** The first `count` results of a run on a phase's result subject (waits up to 10 s). */
async function readResults(
  nc: NatsConnection,
  phase: Phase,
  runId: string,
  count: number,
): Promise<PhaseResult[]> {
  const consumer = await resultReader(nc, phase);
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), 10_000);
  const found: PhaseResult[] = [];
  for await (const m of messages) {
    const r = PhaseResult.decode(m.data);
    if (r.runId === runId) found.push(r);
    if (found.length === count) break;
  }
  clearTimeout(timer);
  messages.stop();
  return found;
}
