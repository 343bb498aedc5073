// `o2o trace summary` over hand-written span files with known durations and links.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SpanRecord } from '../../lib/telemetry/span-record.ts';
import {
  formatTraceSummary,
  percentile,
  summarizeTraceFiles,
  type TraceSummary,
  tracesSpanning,
} from '../../lib/telemetry/summary.ts';

const repo = resolve(import.meta.dirname, '..', '..');

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function span(
  trace: number,
  id: number,
  parent: number | undefined,
  service: string,
  name: string,
  ms: number,
  error = false,
): SpanRecord {
  const start = 1_700_000_000_000_000_000n + BigInt(id) * 1_000_000n;
  const rec: SpanRecord = {
    traceId: hex(trace, 32),
    spanId: hex(id, 16),
    name,
    service,
    kind: 'SERVER',
    startNs: start.toString(),
    endNs: (start + BigInt(Math.round(ms * 1e6))).toString(),
    durationMs: ms,
    attributes: {},
    status: { code: error ? 'ERROR' : 'OK' },
    events: [],
    links: [],
  };
  if (parent !== undefined) rec.parentSpanId = hex(parent, 16);
  return rec;
}

const lines = (spans: SpanRecord[]): string => spans.map((s) => JSON.stringify(s)).join('\n') + '\n';

describe('telemetry: trace summary', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-summary-'));
    // 100 Predict spans of 1..100 ms in the world model, each the child of a learner span (one trace each);
    // trace 1 also reaches the simulator; trace 2's learner parent is missing. Plus one malformed line.
    const learner: SpanRecord[] = [];
    const wm: SpanRecord[] = [];
    for (let i = 1; i <= 100; i++) {
      if (i !== 2) learner.push(span(i, 1000 + i, undefined, 'o2o-learner', 'offline-update', 200));
      wm.push(span(i, 2000 + i, 1000 + i, 'o2o-world-model', 'o2o.v1.WorldModel/Predict', i, i % 10 === 0));
    }
    const sim = [span(1, 3001, 1001, 'o2o-simulator', 'o2o.v1.Simulator/Step', 0.5)];
    writeFileSync(join(dir, 'learner-10.jsonl'), lines(learner));
    writeFileSync(join(dir, 'world-model-11.jsonl'), lines(wm) + '{"truncated\n');
    writeFileSync(join(dir, 'simulator-12.jsonl'), lines(sim));
    writeFileSync(join(dir, 'simulator-12.metrics.jsonl'), '{"name":"o2o.env.steps"}\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function check(summary: TraceSummary): void {
    assert.equal(summary.files.length, 3, 'metrics files are not span files');
    assert.equal(summary.spans, 99 + 100 + 1);
    assert.equal(summary.malformed.length, 1);
    assert.match(summary.malformed[0]!, /world-model-11\.jsonl:101: not JSON/);
    assert.deepEqual(summary.services, ['o2o-learner', 'o2o-simulator', 'o2o-world-model']);
    const predict = summary.operations.find((o) => o.name === 'o2o.v1.WorldModel/Predict')!;
    assert.equal(predict.count, 100);
    assert.equal(predict.errors, 10);
    assert.equal(predict.p50Ms, 50);
    assert.equal(predict.p99Ms, 99);
    assert.equal(predict.maxMs, 100);
    assert.equal(summary.traces.length, 100);
    const all3 = tracesSpanning(summary, ['o2o-learner', 'o2o-world-model', 'o2o-simulator']);
    assert.deepEqual(
      all3.map((t) => t.traceId),
      [hex(1, 32)],
    );
    assert.equal(all3[0]!.spans, 3);
    assert.equal(all3[0]!.missingParents, 0);
    assert.equal(all3[0]!.root, 'offline-update');
    const broken = summary.traces.find((t) => t.traceId === hex(2, 32))!;
    assert.equal(broken.missingParents, 1);
    assert.equal(broken.root, undefined);
  }

  it('counts spans per operation with nearest-rank p50/p99, and services and missing parents per trace', () => {
    check(summarizeTraceFiles(dir));
    const text = formatTraceSummary(summarizeTraceFiles(dir), 5);
    assert.match(text, /^200 spans in 100 traces from 3 file\(s\)/);
    assert.match(
      text,
      /o2o-world-model\s+o2o\.v1\.WorldModel\/Predict\s+SERVER\s+100\s+10\s+50\.00\s+99\.00\s+100/,
    );
    assert.match(text, /\(95 more traces\)/);
  });

  it('percentile is nearest-rank', () => {
    assert.equal(percentile([3], 0.99), 3);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.99), 4);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('o2o trace summary --json prints the same summary; a missing path is a usage error', () => {
    const ok = spawnSync(process.execPath, ['bin/o2o.mjs', 'trace', 'summary', dir, '--json'], {
      cwd: repo,
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    check(JSON.parse(ok.stdout) as TraceSummary);
    const missing = spawnSync(process.execPath, ['bin/o2o.mjs', 'trace', 'summary', join(dir, 'nope')], {
      cwd: repo,
      encoding: 'utf8',
    });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no span file or directory at .*nope/);
    const fromEnv = spawnSync(process.execPath, ['bin/o2o.mjs', 'trace', 'summary', '--json'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, O2O_TRACE_DIR: dir },
    });
    assert.equal(fromEnv.status, 0, fromEnv.stderr);
    check(JSON.parse(fromEnv.stdout) as TraceSummary);
  });
});
