// A handler that lost something it can get back throws PhaseRetryLater: the phase worker hands the
// request back (nak with a delay) instead of publishing a failure, and fails it only once its deliveries
// are spent. Real nats-server; the learner uses this when its lockstep simulator dies (faults-simulator-crash).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Phase, PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import { requestPhase } from '../../lib/services/phase-client.ts';
import { PhaseRetryLater, runPhaseWorker } from '../../lib/services/phase-worker.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';

describe('fault: a handler hands its request back (PhaseRetryLater)', function () {
  this.timeout(30_000);
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let runRoot: string;
  before(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    runRoot = mkdtempSync(join(tmpdir(), 'o2o-fault-retry-'));
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
    rmSync(runRoot, { recursive: true, force: true });
  });

  const request = (runId: string) =>
    PhaseRequest.fromPartial({
      runId,
      phase: Phase.PHASE_ONLINE,
      attempt: 1,
      runDir: join(runRoot, runId),
      specJson: '{}',
    });

  it('redelivers it after the delay and publishes only the final outcome; gives up after maxDeliveries', async () => {
    const deliveries = new Map<string, number[]>();
    const worker = await runPhaseWorker(
      nc,
      Phase.PHASE_ONLINE,
      async (ctx) => {
        const times = deliveries.get(ctx.request.runId) ?? [];
        times.push(Date.now());
        deliveries.set(ctx.request.runId, times);
        if (ctx.request.runId === 'recovers' && times.length >= 2)
          return { metrics: { deliveries: times.length } };
        throw new PhaseRetryLater('simulator lost', 300);
      },
      { durableName: 'faults-retry', service: 'test', runRoot, maxDeliveries: 3, log: () => {} },
    );
    try {
      const ok = await requestPhase(nc, request('recovers'), { timeoutMs: 10_000 });
      assert.equal(ok.ok, true, ok.error);
      assert.equal(ok.metrics['deliveries'], 2);
      const [t1, t2] = deliveries.get('recovers')!;
      assert.ok(t2! - t1! >= 250, `redelivered after the delay (${t2! - t1!} ms)`);

      const failed = await requestPhase(nc, request('stays-lost'), { timeoutMs: 10_000 });
      assert.equal(failed.ok, false);
      assert.equal(failed.error, 'simulator lost (gave up after 3 deliveries)');
      assert.equal(deliveries.get('stays-lost')!.length, 3);
    } finally {
      await worker.stop();
    }
  });
});
