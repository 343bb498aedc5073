// `o2o dataset` as a user meets it: real processes, exit codes, and files that read back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readD4rl, writeD4rl } from '../../lib/data/d4rl.ts';
import { readMinari } from '../../lib/data/minari.ts';
import { syntheticDataset, tempDir } from './fixtures.ts';

const bin = fileURLToPath(new URL('../../bin/o2o.mjs', import.meta.url));

function o2o(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'dataset', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli: o2o dataset', () => {
  let dir: ReturnType<typeof tempDir>;
  before(() => {
    dir = tempDir();
  });
  after(() => dir.remove());

  it('subset by episode to Minari, convert back to D4RL, info --json agrees with the library', async () => {
    const source = syntheticDataset({ lengths: [30, 20, 50, 12], seed: 5 });
    const src = join(dir.path, 'src.hdf5');
    await writeD4rl(source, src);
    const minariDir = join(dir.path, 'root', 'ns', 'hopper', 'sub-v0');
    const subset = o2o(
      'subset',
      src,
      '--transitions',
      '60',
      '--by',
      'episode',
      '--seed',
      '9',
      '--out',
      minariDir,
    );
    assert.equal(subset.code, 0, subset.err);
    assert.match(subset.out, /60 transitions/);
    const read = (await readMinari(minariDir)).dataset;
    assert.equal(read.rewards.length, 60);
    assert.deepEqual(read.metadata.subset, {
      sourceChecksum: source.metadata.checksum,
      seed: 9,
      mode: 'episode',
      requested: 60,
      count: 60,
    });

    const flat = join(dir.path, 'sub.hdf5');
    const convert = o2o('convert', minariDir, '--to', 'd4rl', '--out', flat);
    assert.equal(convert.code, 0, convert.err);
    assert.equal((await readD4rl(flat)).dataset.metadata.checksum, read.metadata.checksum);

    const info = o2o('info', flat, '--json');
    assert.equal(info.code, 0, info.err);
    const parsed = JSON.parse(info.out);
    assert.equal(parsed.format, 'd4rl');
    assert.equal(parsed.transitions, 60);
    assert.equal(parsed.returns.mean, read.metadata.returns.mean);
    assert.equal(parsed.checksum, read.metadata.checksum);
  });

  it('a damaged file exits 1 with one line naming it; a bad flag exits 2 naming the flag', () => {
    const bad = join(dir.path, 'bad.hdf5');
    writeFileSync(bad, 'not hdf5 at all');
    const r = o2o('info', bad);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim(), `o2o dataset info: ${bad}: not an HDF5 file (no HDF5 signature)`);
    const flag = o2o('convert', bad, '--to', 'parquet', '--out', 'x');
    assert.equal(flag.code, 2);
    assert.match(flag.err, /--to: /);
  });
});
