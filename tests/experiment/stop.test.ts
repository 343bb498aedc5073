// Stopping the grid (SIGTERM, as at --stop-at / --time-budget or Ctrl-C): its running child checkpoints at
// the next episode end and exits, the grid exits 0, the run is left unfinished and resumable, no process
// stays behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGrid } from '../../lib/experiment/grid.ts';
import { runLockPath, runState } from '../../lib/experiment/run-state.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { alive } from '../helpers/process.ts';
import { ENV, tinySpec, writeSpec } from './fixtures.ts';

const BIN = join(process.cwd(), 'bin', 'o2o.mjs');

describe('experiment grid: stopping', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-stop-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM: the child checkpoints at an episode end, everything exits cleanly, the run stays resumable', async () => {
    const spec = tinySpec(dir, {
      budgets: {
        ...(tinySpec(dir)['budgets'] as object),
        onlineSteps: 200_000,
        onlineCheckpointEvery: 100_000,
      },
      groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch'] }],
    });
    const file = writeSpec(dir, 'stop', spec);
    const [run] = expandGrid(parseSpec(spec, file));
    const grid = spawn(process.execPath, [BIN, 'experiment', 'run', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    grid.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => grid.on('exit', (code) => resolve(code)));
    // Wait until the child is training online (its first evaluation is logged).
    const log = join(run!.paths.runDir, 'run.log');
    while (!(existsSync(log) && /\[online\]\s+0\s+return/.test(readFileSync(log, 'utf8')))) {
      assert.equal(grid.exitCode, null, `the grid ended early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const childPid = JSON.parse(readFileSync(runLockPath(run!), 'utf8')).pid as number;
    grid.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopped .*checkpointed; the next invocation resumes it/);
    assert.ok(!alive(childPid), 'the child exited');
    assert.ok(!existsSync(runLockPath(run!)), 'lock released');
    assert.ok(!existsSync(run!.paths.done));
    const pointer = JSON.parse(readFileSync(join(run!.paths.onlineCheckpoints, 'latest.json'), 'utf8'));
    assert.ok(pointer.step > 0 && pointer.step < 200_000, 'checkpointed mid-run at an episode end');
    assert.equal(runState(run!).kind, 'started');
  });
});
