import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../cli/args.ts';
import { datasetCommand } from '../../cli/commands/dataset.ts';
import { loadDataset } from '../../lib/data/load.ts';

describe('cli/o2o dataset generate', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-generate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const generate = (seed: number, out: string) =>
    datasetCommand.run([
      'generate',
      '--env',
      'Hopper-v5',
      '--kind',
      'random',
      '--transitions',
      '700',
      '--seed',
      String(seed),
      '--out',
      out,
    ]);

  it('writes a valid random-policy dataset, the same one for the same seed', async () => {
    assert.equal(await generate(4, join(dir, 'a.hdf5')), 0);
    assert.equal(await generate(4, join(dir, 'b.hdf5')), 0);
    assert.equal(await generate(5, join(dir, 'c.hdf5')), 0);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => loadDataset(join(dir, `${n}.hdf5`))));
    assert.equal(a!.dataset.metadata.transitions, 700);
    assert.equal(a!.dataset.metadata.envId, 'Hopper-v5');
    assert.equal(a!.dataset.metadata.policy.description, 'uniform random');
    assert.ok(a!.dataset.metadata.episodes > 10, 'random Hopper episodes are short');
    assert.equal(a!.dataset.metadata.checksum, b!.dataset.metadata.checksum);
    assert.notEqual(a!.dataset.metadata.checksum, c!.dataset.metadata.checksum);
  });

  it('needs a behaviour run for kinds other than random, and refuses an existing output without --force', async () => {
    await assert.rejects(
      datasetCommand.run([
        'generate',
        '--env',
        'Hopper-v5',
        '--kind',
        'medium',
        '--out',
        join(dir, 'm.hdf5'),
      ]),
      (e: unknown) =>
        e instanceof UsageError && /--behaviour: required for every kind but random/.test(e.message),
    );
    await assert.rejects(generate(4, join(dir, 'a.hdf5')), /already exists \(pass --force/);
  });
});
