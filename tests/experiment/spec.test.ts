// The grid spec: bad fields are named with the file, the expansion is in priority order (tier, then seed,
// then listing order), a run listed by two groups is one run with both tags, and --only filters.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGrid, matchesFilters, unmatchedFilterValues } from '../../lib/experiment/grid.ts';
import { changedSettings } from '../../lib/experiment/provenance.ts';
import { blockedReason } from '../../lib/experiment/run-state.ts';
import { loadSpec, parseSpec, SpecError } from '../../lib/experiment/spec.ts';
import { ENV, tinySpec, writeSpec } from './fixtures.ts';

describe('experiment spec and grid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o2o-spec-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file and the field of every bad value', () => {
    const bad = tinySpec(dir, {
      seeds: [0, -1],
      groups: [{ name: 'main', tier: 0, envs: ['Nope-v0'], datasets: ['random-400', 'x'], variants: ['y'] }],
    });
    (bad['budgets'] as Record<string, unknown>)['onlineSteps'] = 'many';
    const file = writeSpec(dir, 'bad', bad);
    assert.throws(
      () => loadSpec(file),
      (e: unknown) => {
        assert.ok(e instanceof SpecError);
        const m = e.message;
        assert.ok(m.startsWith(`${file}: `), m);
        for (const field of ['seeds.1', 'budgets.onlineSteps', 'groups.0.envs.0'])
          assert.match(m, new RegExp(field));
        return true;
      },
    );
    // Unknown labels are checked once the shape is right.
    const labels = tinySpec(dir, {
      groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400', 'x'], variants: ['y'] }],
    });
    assert.throws(() => parseSpec(labels, 'labels.yaml'), /groups\.0\.datasets\.1: unknown dataset 'x'/);
    assert.throws(() => parseSpec(labels, 'labels.yaml'), /groups\.0\.variants\.0: unknown variant 'y'/);
    assert.throws(
      () =>
        parseSpec(
          { ...tinySpec(dir), variants: { v: { variant: 'td3bc-aug', pretrain: 'both' } } },
          's.yaml',
        ),
      /variants\.v\.augFraction: required for td3bc-aug/,
    );
    assert.throws(
      () =>
        parseSpec(
          { ...tinySpec(dir), variants: { v: { variant: 'td3bc', pretrain: 'both', worldModel: 'linear' } } },
          's.yaml',
        ),
      /variants\.v\.worldModel: only td3bc-aug uses a world model/,
    );
    // A pre-trained variant's options: the dataset's manifest says what its rows were recorded on, and the
    // grid refuses up front options they cannot serve (recorded on the defaults: only derivable ones).
    const manifest = join(dir, 'datasets', ENV, 'random.json');
    const dataFile = join(dir, 'datasets', ENV, 'random.hdf5');
    mkdirSync(join(dir, 'datasets', ENV), { recursive: true });
    const withOptions = (envOptions?: Record<string, unknown>) =>
      parseSpec(
        {
          ...tinySpec(dir),
          variants: { v: { variant: 'td3bc', pretrain: 'both', ...(envOptions ? { envOptions } : {}) } },
          groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['v'] }],
        },
        's.yaml',
      );
    const writeManifest = (metadata: Record<string, unknown>) =>
      writeFileSync(manifest, JSON.stringify({ file: dataFile, sha256: 'sha256:0', metadata }));
    writeManifest({ envId: ENV });
    assert.throws(
      () => expandGrid(withOptions({ resetNoiseScale: 0.1 })),
      (e: unknown) =>
        e instanceof Error &&
        e.message ===
          `run ${ENV}/random-400/v/seed-0: ${dataFile}: recorded on ${ENV}, but the run is on ${ENV} ` +
            `(resetNoiseScale=0.1): transitions recorded on ${ENV}'s default options cannot be rewritten ` +
            'for other options (only Ant-v5 can be)',
    );
    writeManifest({ envId: ENV, envOptions: { resetNoiseScale: 0.1 } });
    assert.deepEqual(expandGrid(withOptions({ resetNoiseScale: 0.1 }))[0]!.config.envOptions, {
      resetNoiseScale: 0.1,
    });
    assert.throws(
      () => expandGrid(withOptions()),
      /random-400\/v\/seed-0: .*recorded on InvertedPendulum-v5 \(resetNoiseScale=0\.1\), but the run is on InvertedPendulum-v5;/,
    );
    // Without a manifest the grid cannot tell; loading the rows checks (tests/cli/train.test.ts).
    rmSync(manifest);
    assert.equal(expandGrid(withOptions({ resetNoiseScale: 0.1 })).length, 1);
    // Env options are the env's to check, per run, naming the run and the option.
    const options = parseSpec(
      {
        ...tinySpec(dir),
        variants: { s: { variant: 'scratch', envOptions: { resetNoiseScale: -1, colour: 'red' } } },
        groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['s'] }],
      },
      's.yaml',
    );
    assert.throws(
      () => expandGrid(options),
      new RegExp(
        `run ${ENV}/none/s/seed-0: invalid run config: envOptions: invalid options for ${ENV}: ` +
          `option 'resetNoiseScale': .*; unknown option\\(s\\) 'colour'`,
      ),
    );
    assert.throws(() => loadSpec(join(dir, 'absent.yaml')), /absent\.yaml: cannot read the spec \(ENOENT\)/);
  });

  it('expands the paper spec in priority order, seed-interleaved, with shared runs tagged twice', () => {
    const runs = expandGrid(loadSpec('experiments/paper.yaml'));
    const ids = runs.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no run twice');
    // Seed 0 of the whole main comparison on Hopper and Walker2d comes first, medium-replay before medium.
    assert.deepEqual(ids.slice(0, 10), [
      'Hopper-v5/none/scratch/seed-0',
      'Hopper-v5/medium-replay-10k/td3bc-both/seed-0',
      'Hopper-v5/medium-replay-10k/td3bc-aug-both/seed-0',
      'Walker2d-v5/none/scratch/seed-0',
      'Walker2d-v5/medium-replay-10k/td3bc-both/seed-0',
      'Walker2d-v5/medium-replay-10k/td3bc-aug-both/seed-0',
      'Hopper-v5/medium-10k/td3bc-both/seed-0',
      'Hopper-v5/medium-10k/td3bc-aug-both/seed-0',
      'Walker2d-v5/medium-10k/td3bc-both/seed-0',
      'Walker2d-v5/medium-10k/td3bc-aug-both/seed-0',
    ]);
    assert.equal(ids[10], 'Hopper-v5/none/scratch/seed-1');
    const tierOf = (id: string) => runs.find((r) => r.id === id)!.tier;
    const tiers = runs.map((r) => r.tier);
    assert.deepEqual(
      tiers,
      [...tiers].sort((a, b) => a - b),
      'tiers never go back',
    );
    // Within a tier, every seed-0 run comes before any seed-1 run.
    for (const tier of new Set(tiers)) {
      const seeds = runs.filter((r) => r.tier === tier).map((r) => r.seed);
      assert.deepEqual(
        seeds,
        [...seeds].sort((a, b) => a - b),
        `tier ${tier} is seed-interleaved`,
      );
    }
    const shared = runs.find((r) => r.id === 'Hopper-v5/medium-replay-10k/td3bc-aug-both/seed-3')!;
    assert.deepEqual(shared.groups.sort(), ['main', 'ratio-sweep', 'size-sweep']);
    assert.equal(tierOf(shared.id), 0);
    assert.deepEqual(
      runs.find((r) => r.id === 'Hopper-v5/medium-replay-10k/td3bc-both/seed-1')!.groups.sort(),
      ['main', 'ratio-sweep'],
    );
    // Counts: Hopper 5 scratch + 2 datasets × (2 main + 4 ablation) + 3 sizes + 2 ratios + the two
    // world-model controls, × 5 seeds.
    assert.equal(runs.filter((r) => r.env === 'Hopper-v5').length, 5 + (2 * 6 + 3 + 2 + 2) * 5);
    const control = runs.find((r) => r.id === 'Hopper-v5/medium-replay-10k/td3bc-aug-linear-both/seed-0')!;
    assert.equal(control.config.worldModel, 'linear');
    assert.equal(control.tier, 2);
    // Walker2d: 5 scratch + 2 datasets × (2 main + 4 ablation) + the two controls and the two LayerNorm
    // variants on medium (scratch-ln under none), × 5 seeds.
    assert.equal(runs.filter((r) => r.env === 'Walker2d-v5').length, 5 + (2 * 6 + 2 + 2) * 5);
    assert.equal(runs.find((r) => r.id === 'Walker2d-v5/medium-10k/td3bc-aug-copy-both/seed-0')!.tier, 8);
    const walkerLn = runs.find((r) => r.id === 'Walker2d-v5/medium-10k/td3bc-ln-both/seed-1')!;
    assert.equal(walkerLn.tier, 8);
    assert.equal(walkerLn.config.criticLayerNorm, true);
    assert.equal(runs.find((r) => r.id === 'Walker2d-v5/none/scratch-ln/seed-1')!.tier, 8);
    // The LayerNorm-critic extension on Ant: its own variants and cache entries, the world model shared.
    const ln = runs.find((r) => r.id === 'Ant-v5/medium-replay-10k/td3bc-aug-ln-both/seed-2')!;
    const plain = runs.find((r) => r.id === 'Ant-v5/medium-replay-10k/td3bc-aug-both/seed-2')!;
    assert.equal(ln.config.criticLayerNorm, true);
    assert.equal(plain.config.criticLayerNorm, undefined, 'the paper-network configs are as before');
    assert.equal(ln.tier, 7);
    // HalfCheetah's main comparison reaches all 5 seeds before Ant's next one starts; then Ant without
    // contact forces (the paper's Ant), and the ablations, before Ant-v5's remaining seeds.
    const position = (id: string) => ids.indexOf(id);
    const noContact = 'Ant-v5/medium-replay-10k/td3bc-aug-both-nocontact/seed-0';
    assert.ok(
      position('HalfCheetah-v5/medium-10k/td3bc-aug-both/seed-4') < position(noContact),
      'HalfCheetah main before Ant main',
    );
    assert.ok(position('Ant-v5/medium-10k/td3bc-both-nocontact/seed-4') < position(plain.id));
    assert.equal(tierOf(plain.id), 7);
    // Its pre-trainings are entries of their own, keyed with the options; the dataset subset is the same.
    const nc = runs.find((r) => r.id === noContact)!;
    const options = { includeCfrcExtInObservation: false, contactCostWeight: 0 };
    assert.deepEqual(nc.config.envOptions, options);
    assert.match(nc.paths.offline.marker, /_pretrained\/aug-0\.5-env[0-9a-f]{8}-seed-0\/offline\.json$/);
    assert.match(
      nc.paths.worldModel.marker,
      /_pretrained\/world-model-env[0-9a-f]{8}-seed-0\/world-model\.json$/,
    );
    const ncPlain = runs.find((r) => r.id === 'Ant-v5/medium-replay-10k/td3bc-aug-both/seed-0')!;
    assert.deepEqual(nc.config.dataset, ncPlain.config.dataset);
    // The ablations: HalfCheetah's, then that Ant's, sharing its pre-trainings, then Ant-v5's own last.
    assert.equal(tierOf('HalfCheetah-v5/medium-10k/td3bc-aug-critic/seed-4'), 5);
    const ncCritic = runs.find((r) => r.id === 'Ant-v5/medium-replay-10k/td3bc-aug-critic-nocontact/seed-0')!;
    assert.equal(ncCritic.tier, 6);
    assert.deepEqual([ncCritic.config.pretrain, ncCritic.config.envOptions], ['critic', options]);
    assert.equal(ncCritic.paths.offline.marker, nc.paths.offline.marker);
    assert.equal(ncCritic.paths.worldModel.marker, nc.paths.worldModel.marker);
    assert.equal(tierOf('Ant-v5/medium-10k/td3bc-actor/seed-0'), 9);
    assert.equal(Math.max(...tiers), 9);
    assert.equal(ln.paths.worldModel.file, plain.paths.worldModel.file);
    assert.equal(
      ln.paths.offline.marker,
      join('results', 'Ant-v5', 'medium-replay-10k', '_pretrained', 'aug-0.5-ln-seed-2', 'offline.json'),
    );
    assert.equal(
      runs.find((r) => r.id === 'Ant-v5/medium-10k/td3bc-ln-both/seed-0')!.paths.offline.marker,
      join('results', 'Ant-v5', 'medium-10k', '_pretrained', 'bc-ln-seed-0', 'offline.json'),
    );
    assert.equal(runs.find((r) => r.id === 'Ant-v5/none/scratch-ln/seed-4')!.config.criticLayerNorm, true);
    const sub = shared.config.dataset!;
    assert.deepEqual(
      [sub.kind, sub.transitions, sub.by, sub.subsetSeed],
      ['medium-replay', 10_000, 'transition', 3],
    );
    assert.equal(sub.file, join('datasets', 'Hopper-v5', 'medium-replay.hdf5'));
    assert.equal(shared.paths.runDir, join('results', shared.id));
  });

  it('notices a spec whose settings changed under an unfinished run, ignoring settings the variant never reads', () => {
    const spec = tinySpec(dir, {
      groups: [{ name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['td3bc-both'] }],
    });
    const [run] = expandGrid(parseSpec(spec, 'spec.yaml'));
    assert.deepEqual(changedSettings(run!), [], 'no config.json yet');
    mkdirSync(run!.paths.runDir, { recursive: true });
    const stored = { ...run!.config, onlineSteps: 999, wmEpochs: 7, startSteps: 1, groups: ['old'] };
    writeFileSync(join(run!.paths.runDir, 'config.json'), JSON.stringify(stored));
    assert.deepEqual(changedSettings(run!), ['onlineSteps: 999 -> 300']);
  });

  it('blocks a run until its dataset file and the manifest with its sha256 exist', () => {
    const datasets = join(dir, 'blocked-datasets');
    const spec = tinySpec(dir, {
      datasetsDir: datasets,
      groups: [
        { name: 'main', tier: 0, envs: [ENV], datasets: ['random-400'], variants: ['scratch', 'td3bc-both'] },
      ],
    });
    const runs = () => expandGrid(parseSpec(spec, 'spec.yaml'));
    const file = join(datasets, ENV, 'random.hdf5');
    const [scratch, bc] = runs();
    assert.equal(blockedReason(scratch!), undefined, 'scratch needs no dataset');
    assert.equal(blockedReason(bc!), `${file} missing: run scripts/make-datasets.sh`);
    mkdirSync(join(datasets, ENV), { recursive: true });
    writeFileSync(file, 'data');
    assert.match(blockedReason(runs()[1]!)!, /random\.json \(its sha256\) missing: still being written/);
    writeFileSync(join(datasets, ENV, 'random.json'), '{"sha256": "sha2');
    assert.match(blockedReason(runs()[1]!)!, /still being written/, 'a half-written manifest');
    writeFileSync(join(datasets, ENV, 'random.json'), '{"sha256": "sha256:00"}');
    assert.equal(blockedReason(runs()[1]!), undefined);
    assert.equal(runs()[1]!.config.dataset!.sha256, 'sha256:00');
  });

  it('filters runs with --only', () => {
    const runs = expandGrid(loadSpec('experiments/paper.yaml'));
    const pick = (...f: string[]) => runs.filter((r) => matchesFilters(r, f));
    assert.equal(pick('variant=scratch').length, 20);
    assert.equal(pick('variant=scratch', 'env=Hopper-v5').length, 5);
    assert.equal(pick('group=size-sweep').length, 20);
    assert.equal(pick('env=Hopper-v5,Walker2d-v5', 'seed=0', 'group=main').length, 10);
    assert.equal(pick('Walker2d-v5', 'medium-10k', 'td3bc-aug-actor').length, 5);
    assert.throws(() => pick('colour=red'), /--only colour=red: unknown field 'colour'/);
    assert.throws(() => pick('seed=,'), /--only seed=,: no value to match/);
    // A value no run has is named with what its field takes; filters that select nothing together are fine.
    assert.deepEqual(
      unmatchedFilterValues(runs, ['env=Ant,Hopper-v5', 'seed=0,7', 'Hoper', 'group=main'], '--first'),
      [
        "--first env=Ant,Hopper-v5: no run of the spec has env 'Ant' (env: Ant-v5, HalfCheetah-v5, Hopper-v5, Walker2d-v5)",
        "--first seed=0,7: no run of the spec has seed '7' (seed: 0, 1, 2, 3, 4)",
        "--first Hoper: no run of the spec has 'Hoper' as its env, dataset, variant, group or seed",
      ],
    );
    assert.deepEqual(unmatchedFilterValues(runs, ['env=Ant-v5', 'dataset=medium-replay-2.5k'], '--only'), []);
    assert.equal(pick('env=Ant-v5', 'dataset=medium-replay-2.5k').length, 0);
  });
});
