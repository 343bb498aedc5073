// Fuzzes the NATS side of the world-model service: malformed PhaseRequests published on its JetStream
// subject — garbage bytes, wrong Phase enum values, empty run ids, run directories and inputs that
// escape the run root, missing datasets, specs that are not JSON or break the schema, unknown env ids.
// Each decodable request must be answered with a failed PhaseResult carrying a message (undecodable
// ones are dropped), nothing may start training, and the service keeps serving gRPC afterwards.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import { Phase, PhaseRequest, PhaseResult } from '../../generated/proto/o2o/v1/events.js';
import { type SpawnedService, spawnService } from '../../lib/services/spawn-service.ts';
import { subjects } from '../../lib/services/subjects.ts';
import { WorldModelServiceClient } from '../../services/world-model/client.ts';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.ts';
import { makeRunRoot, type RunRootFixture } from '../services/world-model-fixtures.ts';
import { FuzzRng, garbage } from './fuzz-harness.ts';

const COUNT = Math.max(50, Math.floor(Number(process.env['O2O_FUZZ_REQUESTS'] ?? 1000) / 5));
const TINY = { worldModel: { epochs: 1, hidden: [4], latentDim: 2, batchSize: 64 } };

function malformed(rng: FuzzRng, attempt: number): { bytes: Buffer; label: string } {
  const base: PhaseRequest = {
    runId: 'fuzz',
    phase: Phase.PHASE_WORLD_MODEL,
    attempt,
    runDir: 'run-a',
    specJson: JSON.stringify({ env: 'InvertedPendulum-v5', ...TINY }),
    inputs: { dataset: 'dataset.hdf5' },
  };
  // Exactly one thing is wrong, so no request is a valid training request.
  const wrong: [string, Partial<PhaseRequest>][] = [
    ['phase enum', { phase: rng.pick([0, 3, 4, 6, 99, 123456]) as Phase }],
    ['empty run_id', { runId: rng.pick(['', '   ']) }],
    ['run_dir escapes', { runDir: rng.pick(['', '..', '../x', '/etc', 'a/../../b']) }],
    [
      'dataset escapes',
      { inputs: { dataset: rng.pick(['../../etc/passwd', '/etc/passwd', '', 'a/../../x']) } },
    ],
    ['dataset missing', { inputs: rng.pick<Record<string, string>>([{}, { dataset: 'none.hdf5' }]) }],
    ['spec not JSON', { specJson: rng.pick(['{', 'null x', '\u0000', '{"a":']) }],
    [
      'spec schema',
      {
        specJson: rng.pick([
          '{"seed":-1}',
          '{"worldModel":{"epochs":0}}',
          '{"worldModel":{"hidden":[0]}}',
          '{"worldModel":{"lr":5}}',
          '[]',
          '"x"',
        ]),
      },
    ],
    [
      'unknown env',
      { specJson: JSON.stringify({ env: rng.pick(['../../etc', 'Nope-v0', 'x'.repeat(300)]), ...TINY }) },
    ],
  ];
  if (rng.chance(0.2)) {
    const g = garbage(rng, Buffer.from(PhaseRequest.encode(base).finish()));
    return { bytes: g.bytes, label: g.label };
  }
  const [label, patch] = rng.pick(wrong);
  return { bytes: Buffer.from(PhaseRequest.encode({ ...base, ...patch }).finish()), label };
}

describe('fuzz: world-model phase requests over NATS JetStream (real processes)', function () {
  this.timeout(240_000);
  let fx: RunRootFixture;
  let nats: NatsServerHandle;
  let wm: SpawnedService;
  let nc: NatsConnection;

  before(async () => {
    fx = await makeRunRoot('o2o-fuzz-phase-');
    mkdirSync(join(fx.root, 'run-a'));
    copyFileSync(join(fx.root, fx.dataset), join(fx.root, 'run-a', 'dataset.hdf5'));
    nats = await startNatsServer();
    wm = await spawnService({
      name: 'world-model',
      main: fileURLToPath(new URL('../../services/world-model/main.ts', import.meta.url)),
      env: { O2O_NATS_URL: nats.url, O2O_RUN_ROOT: fx.root, O2O_WM_PHASE_WORKER: 'true' },
      readyTimeoutMs: 60_000,
      stopGraceMs: 10_000,
    });
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc?.close();
    await wm?.stop();
    await nats?.stop();
    if (fx !== undefined) rmSync(fx.root, { recursive: true, force: true });
  });

  it(`answers ${COUNT} malformed requests with failed results, trains nothing, keeps serving`, async () => {
    const rng = new FuzzRng(8);
    const results = new Map<number, PhaseResult>();
    const sub = nc.subscribe(subjects.phaseResult(Phase.PHASE_WORLD_MODEL));
    void (async () => {
      for await (const m of sub) {
        const r = PhaseResult.decode(m.data);
        results.set(r.attempt, r);
      }
    })();
    await nc.flush();
    const js = nc.jetstream();
    const expected = new Map<number, string>();
    for (let attempt = 1; attempt <= COUNT; attempt++) {
      const { bytes, label } = malformed(rng, attempt);
      let decoded: PhaseRequest | undefined;
      try {
        decoded = PhaseRequest.decode(bytes);
      } catch {
        decoded = undefined; // the worker drops it (term); no result
      }
      if (decoded !== undefined) expected.set(decoded.attempt, label);
      await js.publish(subjects.phaseRequest(Phase.PHASE_WORLD_MODEL), bytes);
    }
    const deadline = Date.now() + 120_000;
    while ([...expected.keys()].some((a) => !results.has(a)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    sub.unsubscribe();
    const missing = [...expected].filter(([a]) => !results.has(a));
    assert.deepEqual(
      missing.slice(0, 10),
      [],
      `requests without a result; service log:\n${wm.stderr().slice(-3000)}`,
    );
    const statuses = new Map<string, number>();
    for (const [attempt, label] of expected) {
      const r = results.get(attempt)!;
      assert.equal(r.ok, false, `${label} (attempt ${attempt}) succeeded`);
      assert.ok(r.error.length > 8, `${label}: no message`);
      const key = `${label}: ${r.error.replace(/[0-9'"].*$/, '').slice(0, 40)}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    console.log(
      `phase requests: ${COUNT} published, ${expected.size} decodable, all failed with a message\n` +
        [...statuses].map(([k, n]) => `  ${n} × ${k}`).join('\n'),
    );
    const client = new WorldModelServiceClient(wm.address, { tls: null });
    try {
      const info = await client.info();
      assert.equal(info.trained, false, 'a malformed request trained a model');
    } finally {
      client.close();
    }
  });
});
