// Fuzzes the learner's gRPC API (Status, Evaluate) on a real process with malformed requests: every one
// is refused with a client-error status and a message, the process stays up and answers a valid call
// afterwards, and its memory stays bounded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LearnerEvaluateRequest } from '../../generated/proto/o2o/v1/learner.js';
import { LearnerServiceClient } from '../../services/learner/client.ts';
import { type SpawnedLearner, spawnLearner } from '../../services/learner/spawn.ts';
import {
  type FuzzCase,
  FuzzRng,
  formatReport,
  fuzzRequestCount,
  garbage,
  rawClient,
  rssKb,
  runFuzz,
  varintField,
} from './fuzz-harness.ts';

const STATUS = '/o2o.v1.Learner/Status';
const EVALUATE = '/o2o.v1.Learner/Evaluate';
const MAX_MESSAGE = 64 << 20;

function learnerCases(n: number, seed: number): FuzzCase[] {
  const rng = new FuzzRng(seed);
  const cases: FuzzCase[] = [];
  const evaluate = (episodes: number, s: number) =>
    Buffer.from(LearnerEvaluateRequest.encode({ episodes, seed: s }).finish());
  // Two messages beyond the server's 64 MiB limit (an unknown field carrying the bulk).
  const huge = Buffer.concat([
    Buffer.from([0x7a]),
    encodeLength(MAX_MESSAGE + 16),
    Buffer.alloc(MAX_MESSAGE + 16),
  ]);
  cases.push({ path: EVALUATE, kind: 'unary', messages: [huge], label: 'oversized', mustFail: true });
  cases.push({ path: STATUS, kind: 'unary', messages: [huge], label: 'oversized', mustFail: true });
  while (cases.length < n) {
    const k = rng.int(0, 5);
    if (k === 0) {
      const episodes = rng.pick([0, 1001, 5000, 0xffff_ffff]);
      cases.push({
        path: EVALUATE,
        kind: 'unary',
        messages: [evaluate(episodes, rng.int(0, 99))],
        label: `episodes ${episodes}`,
        mustFail: true,
      });
    } else if (k === 1) {
      // uint64 seeds beyond 2^53 (and negative int64 bit patterns): not representable, refused at decoding.
      const big = rng.pick([2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]);
      const msg = Buffer.concat([varintField(1, 3n), varintField(2, big)]);
      cases.push({ path: EVALUATE, kind: 'unary', messages: [msg], label: `seed ${big}`, mustFail: true });
    } else if (k === 2) {
      // Valid shape, wrong state: no offline or online phase ran, so there is no agent to evaluate.
      cases.push({
        path: EVALUATE,
        kind: 'unary',
        messages: [evaluate(rng.int(1, 1000), rng.int(0, 1e6))],
        label: 'no agent yet',
        mustFail: true,
      });
    } else if (k === 3) {
      const g = garbage(rng, evaluate(rng.int(1, 5), 7));
      // Garbage that decodes is still an Evaluate with no agent behind it.
      cases.push({ path: EVALUATE, kind: 'unary', messages: [g.bytes], label: g.label, mustFail: true });
    } else {
      const g = garbage(rng, Buffer.alloc(0));
      cases.push({ path: STATUS, kind: 'unary', messages: [g.bytes], label: g.label, mustFail: false });
    }
  }
  return cases;
}

function encodeLength(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return Buffer.from(out);
}

describe('fuzz: learner gRPC (real process)', function () {
  this.timeout(180_000);
  let learner: SpawnedLearner;
  let root: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'o2o-fuzz-learner-'));
    learner = await spawnLearner({ O2O_NATS_URL: 'none', O2O_RUN_ROOT: root });
  });
  after(async () => {
    await learner?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it(`refuses ${fuzzRequestCount()} malformed requests with client-error statuses, stays up, memory bounded`, async () => {
    const client = rawClient(learner.address);
    const admin = new LearnerServiceClient(learner.address, 10_000, null);
    try {
      // Warm up so that lazily loaded code is in the baseline.
      await runFuzz(client, learnerCases(50, 99));
      const before = rssKb(learner.pid);
      const report = await runFuzz(client, learnerCases(fuzzRequestCount(), 1));
      const after = rssKb(learner.pid);
      console.log(`${formatReport('learner', report)}\n  RSS ${before} kB -> ${after} kB`);
      assert.deepEqual(report.violations.slice(0, 20), []);
      assert.equal((await admin.status()).phase, 'idle', 'a valid call still works');
      assert.ok(after - before < 150_000, `RSS grew by ${after - before} kB`);
    } finally {
      client.close();
      admin.close();
    }
  });
});
