import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadSpecFile,
  parseSpec,
  parseSpecText,
  SpecError,
  specFromJson,
  specToJson,
} from '../../lib/services/spec.ts';
import { parseLearnerSpec } from '../../services/learner/spec.ts';
import { parseWorldModelSpec } from '../../services/world-model/phase-handler.ts';

const minimal = {
  name: 'tiny',
  env: 'InvertedPendulum-v5',
  dataset: { generate: { kind: 'random', transitions: 100 } },
};

describe('experiment spec', () => {
  it('fills defaults and round-trips through spec_json', () => {
    const spec = parseSpec(minimal);
    assert.equal(spec.variant, 'td3bc-aug');
    assert.equal(spec.offline.augFraction, 0.5);
    assert.equal(spec.online.mode, 'lockstep');
    assert.equal(spec.worldModel.epochs, 300);
    assert.deepEqual(specFromJson(specToJson(spec)), spec);
  });

  it('names the field path of every bad field', () => {
    assert.throws(
      () =>
        parseSpec(
          { ...minimal, env: 'Nope-v0', offline: { augFraction: 1.5 }, online: { mode: 'x' } },
          'a.yaml',
        ),
      (err: Error) => {
        assert.ok(err instanceof SpecError);
        assert.match(err.message, /^a\.yaml: invalid experiment spec/);
        assert.match(err.message, /\n {2}env: expected one of/);
        assert.match(err.message, /\n {2}offline\.augFraction: /);
        assert.match(err.message, /\n {2}online\.mode: /);
        return true;
      },
    );
    assert.throws(() => parseSpec({ ...minimal, online: { stepz: 3 } }), /online: .*stepz/);
    assert.throws(() => parseSpec({ ...minimal, online: { steps: 2.5 } }), /online\.steps: /);
  });

  it('gives the phase handlers the defaults it filled in, and refuses what they would refuse', () => {
    // A phase handler reading the bare spec gets the same settings as from the coordinator's parsed one.
    const spec = parseSpec(minimal);
    const learner = parseLearnerSpec(JSON.stringify(minimal));
    const fromCoordinator = parseLearnerSpec(specToJson(spec));
    for (const section of ['agent', 'offline', 'evaluation'] as const) {
      assert.deepEqual(learner[section], spec[section], section);
    }
    const { mode: _mode, simulators: _simulators, ...learnerOnline } = spec.online;
    assert.deepEqual(learner.online, learnerOnline);
    assert.deepEqual(fromCoordinator.online, spec.online);
    assert.equal(parseWorldModelSpec(JSON.stringify(minimal)).worldModel.epochs, spec.worldModel.epochs);
    // Bounds the world-model service enforces are enforced when the spec is loaded, not phases later.
    for (const worldModel of [{ epochs: 200_000 }, { latentDim: 4096 }, { hidden: Array(17).fill(8) }]) {
      const field = Object.keys(worldModel)[0]!;
      assert.throws(
        () => parseWorldModelSpec(JSON.stringify({ worldModel })),
        new RegExp(`worldModel\\.${field}`),
      );
      assert.throws(() => parseSpec({ ...minimal, worldModel }), new RegExp(`worldModel\\.${field}: `));
    }
    assert.throws(() => parseLearnerSpec(JSON.stringify({ env: 'Hopper-v5', seed: 2 ** 31 })), /spec\.seed/);
  });

  it('refuses dataset paths that leave the run directory', () => {
    for (const file of ['/etc/passwd', '../other/data.hdf5', 'a/../../b.hdf5', '~/x.hdf5']) {
      assert.throws(() => parseSpec({ ...minimal, dataset: { file } }), /dataset/, file);
    }
    const ok = parseSpec({ ...minimal, dataset: { file: 'data/hopper.hdf5', subset: { transitions: 50 } } });
    assert.ok('file' in ok.dataset && ok.dataset.subset?.by === 'episode');
  });

  it('loads YAML and JSON files and names the file on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'o2o-spec-'));
    try {
      const yamlPath = join(dir, 'spec.yaml');
      writeFileSync(
        yamlPath,
        'name: t\nenv: Hopper-v5\ndataset: { generate: { kind: random, transitions: 10 } }\n',
      );
      assert.equal(loadSpecFile(yamlPath).env, 'Hopper-v5');
      const jsonPath = join(dir, 'spec.json');
      writeFileSync(jsonPath, JSON.stringify({ ...minimal, seed: -1 }));
      assert.throws(
        () => loadSpecFile(jsonPath),
        new RegExp(`${jsonPath}: invalid experiment spec\\n {2}seed: `),
      );
      assert.throws(() => parseSpecText('name: [', 'broken.yaml'), /broken\.yaml: not valid YAML/);
      assert.throws(() => loadSpecFile(join(dir, 'missing.yaml')), /missing\.yaml: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the embedded default spec', () => {
    const spec = loadSpecFile(
      new URL('../../services/coordinator/specs/default.yaml', import.meta.url).pathname,
    );
    assert.equal(spec.env, 'Hopper-v5');
    assert.equal(spec.variant, 'td3bc-aug');
  });

  it("accepts the paper's-Ant example specs, with their env options", () => {
    for (const name of ['ant-no-contact.yaml', 'paper-ant.yaml']) {
      const spec = loadSpecFile(
        new URL(`../../services/coordinator/specs/${name}`, import.meta.url).pathname,
      );
      assert.deepEqual(
        [spec.env, spec.envOptions],
        ['Ant-v5', { includeCfrcExtInObservation: false, contactCostWeight: 0 }],
        name,
      );
    }
  });
});
