// Spans ended just before a process goes away still reach the span file: on process.exit() and on a
// SIGTERM the process has no handler for (it still dies of the signal, as it would without telemetry).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSpanFiles } from '../../lib/telemetry/summary.ts';

const child = join(import.meta.dirname, 'fixtures', 'exit-child.ts');

function run(
  mode: 'exit' | 'signal' | 'many',
  dir: string,
  traceEnv: Record<string, string> = { O2O_TRACE_DIR: dir },
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, mode], {
    env: {
      ...process.env,
      O2O_TRACE_DIR: '',
      O2O_TRACE_FILE: '',
      ...traceEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  proc.stdout.on('data', () => proc.kill('SIGTERM'));
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('telemetry: flushing when the process ends', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-flush-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes pending spans on process.exit()', async () => {
    const { code } = await run('exit', dir);
    assert.equal(code, 0);
    assert.deepEqual(
      readSpanFiles(dir).spans.map((s) => s.name),
      ['before-exit'],
    );
  });

  it('writes pending spans on an unhandled SIGTERM and still dies of the signal', async () => {
    const { signal } = await run('signal', dir);
    assert.equal(signal, 'SIGTERM');
    assert.deepEqual(
      readSpanFiles(dir).spans.map((s) => s.name),
      ['before-signal'],
    );
  });

  it('keeps every line whole when two processes append to one O2O_TRACE_FILE', async () => {
    const file = join(dir, 'shared.jsonl');
    const env = { O2O_TRACE_FILE: file };
    const results = await Promise.all([run('many', dir, env), run('many', dir, env)]);
    assert.deepEqual(
      results.map((r) => r.code),
      [0, 0],
    );
    const { spans, malformed } = readSpanFiles(file);
    assert.deepEqual(malformed, []);
    const bursts = spans.filter((s) => s.name === 'burst');
    assert.equal(bursts.length, 2 * 5000);
    assert.equal(new Set(bursts.map((s) => s.traceId)).size, 2 * 5000, 'every span is its own root trace');
  });
});
