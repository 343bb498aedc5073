// `o2o dataset` as a user meets it: real processes, exit codes, and files that read back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readD4rl, writeD4rl } from '../../lib/data/d4rl.ts';
import { readMinari } from '../../lib/data/minari.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
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

  it("rewrite: rows for an env's options, from its defaults or from D4RL's (Gym's v2 envs), recorded in the file", async () => {
    const noContact = { contactCostWeight: 0, includeCfrcExtInObservation: false };
    const env = makeEnv('Ant-v5');
    const defaults = collectDataset(env, uniformRandomPolicy(env), 40, 3, 'rewrite test');
    env.close();
    const src = join(dir.path, 'ant.hdf5');
    await writeD4rl(defaults, src);
    const out = join(dir.path, 'ant-no-contact.hdf5');
    const options = [
      '--env-option',
      'includeCfrcExtInObservation=false',
      '--env-option',
      'contactCostWeight=0',
    ];
    const r = o2o('rewrite', src, '--env', 'Ant-v5', ...options, '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /40 transitions .* of Ant-v5 \(contactCostWeight=0, includeCfrcExtInObservation=false\) \(27 observation values\)/,
    );
    const rewritten = (await readD4rl(out)).dataset;
    assert.deepEqual([rewritten.obsDim, rewritten.metadata.envOptions], [27, noContact]);

    // D4RL's Ant layout: 111 values, no env id this project knows.
    const antV2 = syntheticDataset({ lengths: [6, 4], obsDim: 111, actDim: 8, envId: null });
    const v2File = join(dir.path, 'ant-medium-v2.hdf5');
    await writeD4rl(antV2, v2File);
    const fromV2 = join(dir.path, 'from-v2.hdf5');
    const v2 = o2o('rewrite', v2File, '--env', 'Ant-v5', '--recorded-on', 'Ant-v2', '--out', fromV2);
    assert.equal(v2.code, 0, v2.err);
    const read = (await readD4rl(fromV2)).dataset;
    assert.deepEqual([read.obsDim, read.metadata.envId, read.metadata.envOptions], [27, 'Ant-v5', noContact]);
    // D4RL's Hopper rows: the v5 env's widths already, terminal rows lose the healthy reward v5 does not pay.
    const hopperV2 = syntheticDataset({ lengths: [5, 3], ends: ['terminal', 'timeout'] });
    const hopperFile = join(dir.path, 'hopper-medium-v2.hdf5');
    await writeD4rl(hopperV2, hopperFile);
    const fromHopper = join(dir.path, 'from-hopper-v2.hdf5');
    const hopper = o2o(
      'rewrite',
      hopperFile,
      '--env',
      'Hopper-v5',
      '--recorded-on',
      'Hopper-v2',
      '--out',
      fromHopper,
    );
    assert.equal(hopper.code, 0, hopper.err);
    const hopperRows = (await readD4rl(fromHopper)).dataset;
    assert.deepEqual(
      Array.from(hopperRows.rewards, (r, i) => Math.fround(r - hopperV2.rewards[i]!)),
      [0, 0, 0, 0, -1, 0, 0, 0],
    );
    assert.equal(hopperRows.metadata.envOptions, undefined);
    const info = o2o('info', fromV2);
    assert.match(info.out, /env +Ant-v5 \(contactCostWeight=0, includeCfrcExtInObservation=false\)/);

    const refusals: [string[], number, RegExp][] = [
      [
        ['rewrite', src, '--env', 'Ant-v5', '--out', join(dir.path, 'x.hdf5')],
        2,
        /--env-option: give the options/,
      ],
      [
        [
          'rewrite',
          src,
          '--env',
          'Ant-v5',
          '--env-option',
          'healthyReward=2',
          '--out',
          join(dir.path, 'x.hdf5'),
        ],
        1,
        /option 'healthyReward' of Ant-v5 cannot be derived/,
      ],
      [
        [
          'rewrite',
          v2File,
          '--env',
          'Hopper-v5',
          '--recorded-on',
          'Ant-v2',
          '--out',
          join(dir.path, 'x.hdf5'),
        ],
        2,
        /--recorded-on Ant-v2: the rows become Ant-v5 \(.*\), not Hopper-v5/,
      ],
      [['rewrite', src, '--env', 'Ant-v5', ...options, '--out', out], 2, /already exists/],
    ];
    for (const [args, code, message] of refusals) {
      const refused = o2o(...args);
      assert.equal(refused.code, code, `${args.join(' ')}: ${refused.err}`);
      assert.match(refused.err, message);
    }
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
