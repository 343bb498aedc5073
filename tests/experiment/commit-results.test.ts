// `o2o experiment --commit`: a run that finishes is committed at once with the shared cache entries it used,
// checkpoints stay out (git-ignored), and nothing else in the work tree or the index goes into the commit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { commitRunResults } from '../../lib/experiment/commit-results.ts';
import type { GridRun } from '../../lib/experiment/grid.ts';
import { runGrid, selectRuns } from '../../lib/experiment/scheduler.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { ENV, makeDatasets, tinySpec } from './fixtures.ts';

/** A child that "finishes" the run: done.json, a checkpoint, and the cache entries' markers and files. */
function fakeFinish(run: GridRun): { command: string; args: string[] } {
  const files: [string, string][] = [
    [join(run.paths.runDir, 'metrics.jsonl'), '{"phase":"online","step":0}\n'],
    [join(run.paths.runDir, 'checkpoints', 'final.safetensors'), 'weights'],
    [run.paths.offline.marker, '{"seconds":1}'],
    [run.paths.offline.agent, 'weights'],
    [run.paths.worldModel.marker, '{"seconds":1}'],
    [run.paths.worldModel.file, 'weights'],
    [run.paths.done, JSON.stringify({ finalReturn: 1234.4, stageSeconds: { online: 1 } })],
  ];
  const script = `const fs=require('fs'),path=require('path');for(const [f,c] of ${JSON.stringify(files)}){fs.mkdirSync(path.dirname(f),{recursive:true});fs.writeFileSync(f,c);}`;
  return { command: process.execPath, args: ['-e', script] };
}

describe('experiment grid: --commit', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-commit-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('commits each finished run with its shared pre-training, checkpoints and other changes left out', async () => {
    git('init', '--quiet');
    git('config', 'user.name', 'test');
    git('config', 'user.email', 'test@example.com');
    writeFileSync(join(dir, '.gitignore'), 'results/**/checkpoints/\ndatasets/\n');
    git('add', '.gitignore');
    git('commit', '--quiet', '-m', 'init');
    await makeDatasets(dir);
    // Someone's work in progress: one file staged, one changed but not staged.
    writeFileSync(join(dir, 'staged.txt'), 'staged');
    git('add', 'staged.txt');
    writeFileSync(join(dir, 'loose.txt'), 'loose');

    const spec = parseSpec(
      tinySpec(dir, { seeds: [0, 1] }), // td3bc-aug-both on random-400: world model + offline entries
      join(dir, 'commit.yaml'),
    );
    const runs = selectRuns(spec, []);
    const lines: string[] = [];
    await runGrid(spec, {
      specFile: 'commit.yaml',
      jobs: 1,
      only: [],
      dryRun: false,
      childCommand: fakeFinish,
      onFinished: (run) => {
        const outcome = commitRunResults(run);
        lines.push(outcome.committed ? `committed ${run.id}` : `not committed: ${outcome.reason}`);
      },
      log: () => {},
      shouldStop: () => false,
      tickMs: 20,
    });
    assert.deepEqual(
      lines,
      runs.map((r) => `committed ${r.id}`),
    );
    const subjects = git('log', '--format=%s').trim().split('\n');
    assert.deepEqual(subjects.slice(0, 2), [
      `results: ${runs[1]!.id} (final return 1234), with the shared pre-training it used`,
      `results: ${runs[0]!.id} (final return 1234), with the shared pre-training it used`,
    ]);
    const committed = git('show', '--name-only', '--format=', 'HEAD~1').trim().split('\n').sort();
    const rel = (p: string) => relative(dir, p);
    const run0 = runs[0]!;
    assert.deepEqual(
      committed,
      [
        rel(run0.paths.offline.marker),
        rel(join(run0.paths.runDir, 'config.json')),
        rel(run0.paths.done),
        rel(join(run0.paths.runDir, 'metrics.jsonl')),
        rel(run0.paths.worldModel.marker),
      ].sort(),
    );
    // The other work is exactly as it was: still staged, still loose.
    assert.equal(
      git('status', '--porcelain', '--', 'staged.txt', 'loose.txt'),
      'A  staged.txt\n?? loose.txt\n',
    );
    assert.deepEqual(commitRunResults(run0), { committed: false, reason: 'nothing new to commit' });
  });

  it('reports, not throws, when the results are outside a git work tree', () => {
    const outside = mkdtempSync(join(tmpdir(), 'o2o-nogit-'));
    try {
      const spec = parseSpec(
        tinySpec(outside, {
          groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch'] }],
        }),
        'x.yaml',
      );
      const [run] = selectRuns(spec, []);
      mkdirSync(run!.paths.runDir, { recursive: true });
      writeFileSync(run!.paths.done, '{}');
      const outcome = commitRunResults(run!);
      assert.equal(outcome.committed, false);
      assert.match((outcome as { reason: string }).reason, /not a git repository/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
