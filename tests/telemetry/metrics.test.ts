// serviceMetrics() made before startTelemetry (as a module-level constant would be) still records once
// telemetry runs, and follows a restart of telemetry to the new provider.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceMetrics, startTelemetry } from '../../lib/telemetry/index.ts';

interface MetricLine {
  name: string;
  service: string;
  type: string;
  attributes: Record<string, unknown>;
  value: number | { count: number; sum: number };
}

function lastValues(path: string): Map<string, MetricLine> {
  const out = new Map<string, MetricLine>();
  for (const line of readFileSync(path, 'utf8').trim().split('\n')) {
    const m = JSON.parse(line) as MetricLine;
    out.set(`${m.name}${JSON.stringify(m.attributes)}`, m);
  }
  return out;
}

describe('telemetry: service metrics', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-metrics-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('binds instruments made before startTelemetry, and rebinds them after a restart', async () => {
    const metrics = serviceMetrics('metrics-test');
    let depth = 3;
    metrics.observeQueueDepth('predict', () => depth);
    metrics.steps.add(1000); // no provider yet: dropped, as everything before telemetry starts

    for (const [round, file] of ['first', 'second'].entries()) {
      const telemetry = startTelemetry({
        service: 'metrics-test',
        spanFile: join(dir, `${file}.jsonl`),
        env: {},
      });
      metrics.steps.add(5, { env: 'Hopper-v5' });
      metrics.steps.add(7, { env: 'Hopper-v5' });
      metrics.updates.add(2);
      metrics.predictLatencyMs.record(1.5);
      metrics.predictLatencyMs.record(4.5);
      depth = 10 + round;
      await telemetry.shutdown(); // exports once more on the way out
      const values = lastValues(join(dir, `${file}.metrics.jsonl`));
      const steps = values.get('o2o.env.steps{"env":"Hopper-v5"}');
      assert.equal(steps?.value, 12, `${file}: steps`);
      assert.equal(steps?.service, 'o2o-metrics-test');
      assert.equal(values.get('o2o.updates{}')?.value, 2);
      const predict = values.get('o2o.wm.predict.duration{}')?.value as { count: number; sum: number };
      assert.deepEqual([predict.count, predict.sum], [2, 6]);
      assert.equal(
        values.get('o2o.queue.depth{"queue":"predict"}')?.value,
        10 + round,
        `${file}: queue depth`,
      );
    }
  });

  it('reports a queue gauge registered before startTelemetry even when nothing else is recorded', async () => {
    const metrics = serviceMetrics('gauge-only');
    const stop = metrics.observeQueueDepth('transitions', () => 42);
    const telemetry = startTelemetry({ service: 'gauge-only', spanFile: join(dir, 'gauge.jsonl'), env: {} });
    await telemetry.shutdown();
    stop();
    const values = lastValues(join(dir, 'gauge.metrics.jsonl'));
    assert.equal(values.get('o2o.queue.depth{"queue":"transitions"}')?.value, 42);
  });
});
