// Resuming is exact: a run stopped in its offline and online stages (in-process, as Ctrl-C does) and a run
// whose child process is SIGKILLed mid-way both end with the same metrics, critic rows and final agent as
// an uninterrupted run; a finished run is skipped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { experimentCommand } from '../../cli/commands/experiment.ts';
import { currentPlatform } from '../../lib/experiment/current-platform.ts';
import { expandGrid, type GridRun } from '../../lib/experiment/grid.ts';
import { runPipeline } from '../../lib/experiment/pipeline.ts';
import { readJsonl } from '../../lib/experiment/run-log.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { makeDatasets, tinySpec, writeSpec } from './fixtures.ts';

const BIN = join(process.cwd(), 'bin', 'o2o.mjs');

function runOf(spec: Record<string, unknown>, file: string): GridRun {
  const runs = expandGrid(parseSpec(spec, file));
  assert.equal(runs.length, 1);
  return runs[0]!;
}

/** Everything a run produced that must not depend on interruptions (timings excluded). */
function outcome(run: GridRun) {
  const metrics = readJsonl<Record<string, unknown>>(run.paths.metrics).map(
    ({ stepsPerSecond: _s, ...r }) => r,
  );
  const critic = readJsonl(run.paths.critic);
  const agent = loadAgent(run.paths.finalAgent).agent;
  const params = [...agent.actor.params(), ...agent.critics.params()].map((p) => Array.from(p.value));
  return { metrics, critic, params };
}

describe('experiment runs resume exactly', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-resume-'));
  const budgets = {
    ...(tinySpec(dir)['budgets'] as Record<string, unknown>),
    onlineSteps: 800,
    onlineCheckpointEvery: 200,
  };
  const specFor = (name: string) => tinySpec(dir, { resultsDir: join(dir, name), budgets });
  let reference: ReturnType<typeof outcome>;
  before(async () => {
    await makeDatasets(dir);
    const run = runOf(specFor('reference'), 'reference.yaml');
    const result = await runPipeline(run.config, run.paths);
    assert.equal(result.status, 'done');
    reference = outcome(run);
    const phases = reference.metrics.map((r) => `${r['phase']}:${r['step']}`);
    assert.deepEqual(phases.slice(0, 3), ['offline:60', 'offline:120', 'online:0']);
    assert.equal(phases.at(-1), 'online:780');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stopped offline and again online, then resumed: same result as uninterrupted', async () => {
    const run = runOf(specFor('stopped'), 'stopped.yaml');
    // Stop at the first chance in the offline stage (after its first segment), then at the 3rd online
    // episode end.
    let polls = 0;
    let stage = '';
    const first = await runPipeline(run.config, run.paths, {
      onStage: (s) => {
        stage = s;
      },
      shouldStop: () => stage === 'offline' && ++polls > 1,
    });
    assert.equal(first.status, 'interrupted');
    assert.ok(existsSync(join(run.paths.offline.checkpoints, 'latest.json')), 'offline segment checkpoint');
    assert.ok(!existsSync(run.paths.offline.marker));
    polls = 0;
    const second = await runPipeline(run.config, run.paths, { shouldStop: () => ++polls > 3 });
    assert.equal(second.status, 'interrupted');
    assert.ok(existsSync(join(run.paths.onlineCheckpoints, 'latest.json')), 'online checkpoint');
    assert.ok(!existsSync(run.paths.done));
    const third = await runPipeline(run.config, run.paths);
    assert.equal(third.status, 'done');
    assert.deepEqual(outcome(run), reference);
    assert.ok(
      !existsSync(run.paths.onlineCheckpoints),
      'a finished run keeps its final agent, not its replay',
    );
    // Finished: another call does nothing and reports done.
    const again = await runPipeline(run.config, run.paths, { shouldStop: () => true });
    assert.equal(again.status, 'done');
  });

  it('a rebuild of a committed pre-training, stopped and resumed, is still compared with the previous build', async () => {
    const run = runOf(specFor('rebuilt'), 'rebuilt.yaml');
    assert.equal((await runPipeline(run.config, run.paths)).status, 'done');
    const previous = JSON.parse(readFileSync(run.paths.offline.marker, 'utf8')) as { finishedAt: string };
    // What a fresh clone has: the marker and rows, not the agent nor the run's checkpoints.
    rmSync(run.paths.offline.agent);
    rmSync(run.paths.runDir, { recursive: true });
    let polls = 0;
    const first = await runPipeline(run.config, run.paths, { shouldStop: () => ++polls > 1 });
    assert.equal(first.status, 'interrupted');
    assert.ok(existsSync(join(run.paths.offline.checkpoints, 'previous-build.json')));
    assert.equal(readJsonl(run.paths.offline.metrics).length, 1, 'the rebuild has replaced the rows so far');
    assert.equal((await runPipeline(run.config, run.paths)).status, 'done');
    const marker = JSON.parse(readFileSync(run.paths.offline.marker, 'utf8'));
    // What the previous build ran on survives the stop too (kept in previous-build.json).
    assert.deepEqual(marker.rebuild, {
      previousFinishedAt: previous.finishedAt,
      previousPlatform: currentPlatform(),
      identical: true,
      compared: '2 metrics rows, 2 critic rows',
    });
    assert.ok(!existsSync(run.paths.offline.checkpoints), 'the kept rows go with the checkpoints');
    assert.deepEqual(outcome(run), reference);
  });

  it('a child run SIGKILLed after a checkpoint resumes under the grid to the same result', async () => {
    const spec = specFor('killed');
    const file = writeSpec(dir, 'killed', spec);
    const run = runOf(spec, file);
    const child = spawn(process.execPath, [BIN, 'experiment', 'run-one', file, '--id', run.id], {
      stdio: 'ignore',
      env: { ...process.env, O2O_BLAS_THREADS: '1' },
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const pointer = join(run.paths.onlineCheckpoints, 'latest.json');
    while (!existsSync(pointer)) {
      assert.equal(child.exitCode, null, 'the child ended before its first online checkpoint');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(run.paths.done), 'killed before finishing');
    const killedAt = JSON.parse(readFileSync(pointer, 'utf8')).step as number;
    assert.ok(killedAt < 800);
    assert.equal(await experimentCommand.run(['run', file]), 0);
    assert.ok(existsSync(run.paths.done));
    assert.match(readFileSync(join(run.paths.runDir, 'run.log'), 'utf8'), /resuming at step \d+/);
    assert.deepEqual(outcome(run), reference);
    const config = JSON.parse(readFileSync(join(run.paths.runDir, 'config.json'), 'utf8'));
    assert.equal(config.generator, 'o2o-experiment 1');
    assert.match(config.commit, /^([0-9a-f]{40}(-dirty)?|unknown)$/);
    assert.deepEqual(config.groups, ['main']);
    const done = JSON.parse(readFileSync(run.paths.done, 'utf8'));
    assert.equal(done.finalReturn, reference.metrics.at(-1)!['returnMean']);
  });
});
