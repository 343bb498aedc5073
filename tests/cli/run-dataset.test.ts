// `o2o run --dataset FILE`: the services read a dataset only from the run directory, so the file is copied
// to where the spec's dataset.file points; every case that cannot work is a usage error before anything
// starts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../cli/args.ts';
import { placeDataset, runCommand } from '../../cli/commands/run.ts';
import { parseSpec } from '../../lib/services/spec.ts';

describe('cli/o2o run --dataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-run-dataset-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fromFile = parseSpec({ name: 'f', env: 'Hopper-v5', dataset: { file: 'data/source.hdf5' } });
  const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message);

  it("copies the file to the spec's dataset.file in the run directory, once", () => {
    const file = join(dir, 'mine.hdf5');
    writeFileSync(file, 'bytes of a dataset');
    const runDir = join(dir, 'run-1');
    const target = placeDataset(fromFile, runDir, file);
    assert.equal(target, join(runDir, 'data', 'source.hdf5'));
    assert.equal(readFileSync(target, 'utf8'), 'bytes of a dataset');
    // The same file again (a second attempt with the same command) is fine; another one is not.
    assert.equal(placeDataset(fromFile, runDir, file), target);
    const other = join(dir, 'other.hdf5');
    writeFileSync(other, 'other bytes');
    assert.throws(() => placeDataset(fromFile, runDir, other), usage(/already holds another file/));
    assert.equal(readFileSync(target, 'utf8'), 'bytes of a dataset');
  });

  it('refuses a spec that generates its data, a missing file, and --dataset with --resume', async () => {
    const generated = parseSpec({
      name: 'g',
      env: 'Hopper-v5',
      dataset: { generate: { kind: 'random', transitions: 10 } },
    });
    assert.throws(
      () => placeDataset(generated, join(dir, 'run-2'), join(dir, 'mine.hdf5')),
      usage(/--dataset: the spec generates its dataset/),
    );
    assert.throws(
      () => placeDataset(fromFile, join(dir, 'run-3'), join(dir, 'missing.hdf5')),
      usage(/--dataset: .*missing\.hdf5 is not a file/),
    );
    await assert.rejects(
      runCommand.run(['--resume', dir, '--dataset', join(dir, 'mine.hdf5')]),
      usage(/--resume: .*give no SPEC, --run-dir or --dataset with it/),
    );
  });
});
