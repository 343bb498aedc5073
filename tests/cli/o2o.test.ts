// The command line as a user meets it: a real process, its exit code and what it prints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/o2o.mjs', import.meta.url));

function o2o(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli/o2o', () => {
  it('lists its commands with --help and exits 0', () => {
    const r = o2o('--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: o2o <command>/);
    assert.match(r.out, /demo/);
  });

  it('names an unknown command and exits 2', () => {
    const r = o2o('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command 'frobnicate'/);
  });

  it('runs the demo: one line per episode, the same returns for the same seed', () => {
    const a = o2o('demo', '--env', 'InvertedPendulum-v5', '--episodes', '2', '--seed', '3');
    const b = o2o('demo', '--env', 'InvertedPendulum-v5', '--episodes', '2', '--seed', '3');
    assert.equal(a.code, 0, a.err);
    const episodes = (s: string) => s.split('\n').filter((l) => l.startsWith('episode'));
    assert.equal(episodes(a.out).length, 2);
    assert.deepEqual(episodes(a.out), episodes(b.out));
    assert.match(a.out, /steps\/s/);
  });

  it('rejects a bad flag value naming the flag, exit code 2', () => {
    const r = o2o('demo', '--env', 'Nope-v0');
    assert.equal(r.code, 2);
    assert.match(r.err, /--env: expected one of Hopper-v5/);
    const s = o2o('demo', '--episodes', 'many');
    assert.equal(s.code, 2);
    assert.match(s.err, /--episodes/);
  });

  it('rejects a grid filter naming no field, no value or a value no run has, exit code 2 and no stack trace', () => {
    const r = o2o('experiment', 'paper', '--dry-run', '--only', 'colour=red');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--only colour=red: unknown field 'colour' \(env, dataset, variant, group, seed\)/);
    assert.doesNotMatch(r.err, /\n\s+at /);
    const s = o2o('experiment', 'paper', '--dry-run', '--first', 'env=Hopper-v5 seed=');
    assert.equal(s.code, 2, s.err);
    assert.match(s.err, /--first seed=: no value to match/);
    const u = o2o('experiment', 'paper', '--dry-run', '--built-since', '9:05');
    assert.equal(u.code, 2, u.err);
    assert.match(u.err, /--built-since: must be HH:MM/);
    const v = o2o('experiment', 'paper', '--dry-run', '--built-since', '09:05', '--spec-order');
    assert.equal(v.code, 2, v.err);
    assert.match(v.err, /--built-since: --spec-order moves no run ahead/);
    const t = o2o('experiment', 'status', '--only', 'env=Ant');
    assert.equal(t.code, 2, t.err);
    assert.match(t.err, /--only env=Ant: no run of the spec has env 'Ant' \(env: Ant-v5, HalfCheetah-v5,/);
  });
});
