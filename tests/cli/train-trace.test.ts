// `o2o train` with O2O_TRACE_FILE: the run is one trace, a root span with the run's settings and result and
// one child per stage, its evaluations as events; a stage that fails marks itself and the run as errors. (A child process: telemetry
// registers process-wide providers.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { readSpanFiles } from '../../lib/telemetry/summary.ts';

const bin = fileURLToPath(new URL('../../bin/o2o.mjs', import.meta.url));

function train(traceFile: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'train', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, O2O_TRACE_FILE: traceFile },
  });
  return { code: r.status, err: r.stderr };
}

describe('cli/o2o train: spans of the run and its stages', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-train-trace-'));
  let dataset = '';
  before(async () => {
    const env = makeEnv('InvertedPendulum-v5');
    const data = collectDataset(env, uniformRandomPolicy(env), 400, 3, 'uniform random');
    env.close();
    dataset = await saveDataset(data, 'd4rl', join(dir, 'ip-random.hdf5'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const flags = (out: string) => [
    ...['--env', 'InvertedPendulum-v5', '--dataset', dataset, '--seed', '1', '--out', out],
    ...['--offline-steps', '40', '--online-steps', '40', '--warmup-steps', '20', '--wm-epochs', '2'],
    ...['--eval-every', '40', '--eval-episodes', '1'],
  ];

  it('td3bc-aug: a root span with the settings and final return, a child per stage, one trace', () => {
    const traceFile = join(dir, 'aug.jsonl');
    const out = join(dir, 'aug');
    const r = train(traceFile, [...flags(out), '--variant', 'td3bc-aug']);
    assert.equal(r.code, 0, r.err);
    const { spans, malformed } = readSpanFiles(traceFile);
    assert.deepEqual(malformed, []);
    const root = spans.find((s) => s.name === `run ${out}`);
    assert.ok(root, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.service, 'o2o-train');
    assert.equal(root.status.code, 'UNSET');
    assert.equal(root.attributes['o2o.env'], 'InvertedPendulum-v5');
    assert.equal(root.attributes['o2o.variant'], 'td3bc-aug');
    assert.equal(root.attributes['o2o.aug_fraction'], 0.5);
    assert.equal(root.attributes['o2o.seed'], 1);
    assert.equal(typeof root.attributes['o2o.final_return'], 'number');
    const stages = spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name);
    assert.deepEqual(stages, ['stage dataset', 'stage world model', 'stage offline', 'stage online']);
    assert.ok(spans.every((s) => s.traceId === root.traceId));
    const datasetSpan = spans.find((s) => s.name === 'stage dataset')!;
    assert.equal(datasetSpan.attributes['o2o.transitions'], 400);
    // Every evaluation is an event on its stage's span, with the return the metrics file has.
    const evaluations = (stage: string) =>
      spans
        .find((s) => s.name === stage)!
        .events.filter((e) => e.name === 'evaluation')
        .map((e) => [e.attributes['o2o.step'], e.attributes['o2o.return_mean']]);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const fromMetrics = (phase: string) =>
      rows.filter((m) => m.phase === phase).map((m) => [m.step, m.returnMean]);
    assert.deepEqual(evaluations('stage offline'), fromMetrics('offline'));
    assert.deepEqual(evaluations('stage online'), fromMetrics('online'));
    assert.deepEqual([evaluations('stage offline').length, evaluations('stage online').length], [1, 2]);
    // Resuming a finished run does nothing, and traces nothing.
    assert.equal(train(traceFile, [...flags(out), '--variant', 'td3bc-aug']).code, 0);
    assert.equal(readSpanFiles(traceFile).spans.length, spans.length);
  });

  it('a stage that fails is an error span, and so is its run', () => {
    const traceFile = join(dir, 'bad.jsonl');
    const out = join(dir, 'bad');
    // Rows recorded on the defaults cannot serve InvertedPendulum-v5 with other options.
    const r = train(traceFile, [...flags(out), '--variant', 'td3bc', '--env-option', 'resetNoiseScale=0.1']);
    assert.equal(r.code, 2, r.err);
    const { spans } = readSpanFiles(traceFile);
    const stage = spans.find((s) => s.name === 'stage dataset');
    const root = spans.find((s) => s.name === `run ${out}`);
    assert.ok(stage && root, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(stage.parentSpanId, root.spanId);
    assert.equal(stage.status.code, 'ERROR');
    assert.match(stage.status.message ?? '', /cannot be rewritten/);
    assert.equal(root.status.code, 'ERROR');
    assert.equal(root.attributes['o2o.env_options'], '{"resetNoiseScale":0.1}');
  });
});
