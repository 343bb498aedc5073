// `o2o train` end to end at tiny budgets: every variant runs, writes its metrics and checkpoints, and a
// bad flag is named. (Learning itself is tested in tests/rl; these budgets only exercise the wiring.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../cli/args.ts';
import { trainCommand } from '../../cli/commands/train.ts';
import { saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';

describe('cli/o2o train', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-train-'));
  let dataset = '';
  before(async () => {
    const env = makeEnv('InvertedPendulum-v5');
    const data = collectDataset(env, uniformRandomPolicy(env), 600, 3, 'uniform random');
    env.close();
    dataset = await saveDataset(data, 'd4rl', join(dir, 'ip-random.hdf5'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const small = ['--env', 'InvertedPendulum-v5', '--eval-every', '40', '--eval-episodes', '1', '--seed', '2'];

  it('runs td3bc-aug: world model, offline TD3+BC, online TD3, metrics and checkpoints', async () => {
    const out = join(dir, 'aug');
    const flags = [
      '--dataset',
      dataset,
      '--variant',
      'td3bc-aug',
      '--offline-steps',
      '80',
      '--online-steps',
      '80',
    ];
    const code = await trainCommand.run([
      ...small,
      ...flags,
      '--warmup-steps',
      '40',
      '--wm-epochs',
      '2',
      '--out',
      out,
    ]);
    assert.equal(code, 0);
    const files = ['config.json', 'world-model.safetensors', 'world-model-report.txt', 'offline.safetensors'];
    for (const f of [...files, 'final.safetensors']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((r) => `${r.phase}:${r.step}`),
      ['offline:40', 'offline:80', 'online:0', 'online:40', 'online:80'],
    );
    assert.equal(readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').length, 6);
    assert.match(
      readFileSync(join(out, 'world-model-report.txt'), 'utf8'),
      /copy state[\s\S]*linear[\s\S]*vae-native/,
    );
    // The model says which env it predicts, so the world-model service can serve it for that env alone.
    assert.deepEqual(NativeVaeWorldModel.load(join(out, 'world-model.safetensors')).info.trainedFor, {
      envId: 'InvertedPendulum-v5',
      envOptions: {},
    });
    const critic = readFileSync(join(out, 'critic.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      critic.map((c) => `${c.phase}:${c.update ?? c.step}`),
      ['offline:40', 'offline:80', 'online:0', 'online:40', 'online:80'],
    );
    // During fine-tuning: the critic on its own evaluation episodes and on the dataset.
    for (const c of critic.slice(2)) {
      assert.ok(c.onPolicy.samples > 0 && Number.isFinite(c.onPolicy.overestimation.mean));
      assert.equal(c.vsReturns.samples, 1024);
    }
    assert.equal(critic[0].vsReturns.samples, 1024);
    assert.ok(Number.isFinite(critic[0].vsReturns.overestimation.mean));
    assert.ok(critic[0].targetShift.predictionError.mean > 0, 'a 2-epoch world model is not exact');
    const offline = loadAgent(join(out, 'offline.safetensors')).agent;
    const final = loadAgent(join(out, 'final.safetensors')).agent;
    assert.equal(offline.config.bcAlpha, 2.5);
    assert.equal(final.config.bcAlpha, undefined);
    assert.deepEqual(Array.from(final.normalizer.mean), Array.from(offline.normalizer.mean));
  });

  it('--critic-layer-norm: pre-trains and fine-tunes with LayerNorm critics (the actor has none)', async () => {
    const out = join(dir, 'ln');
    const flags = [
      '--variant',
      'td3bc',
      '--dataset',
      dataset,
      '--offline-steps',
      '40',
      '--online-steps',
      '80',
    ];
    assert.equal(
      await trainCommand.run([
        ...small,
        ...flags,
        '--warmup-steps',
        '40',
        '--critic-layer-norm',
        '--out',
        out,
      ]),
      0,
    );
    for (const file of ['offline.safetensors', 'final.safetensors']) {
      const { agent } = loadAgent(join(out, file));
      assert.equal(agent.config.criticLayerNorm, true, file);
      assert.ok(
        agent.q1.layers.some((l) => l.constructor.name === 'LayerNorm'),
        `${file}: the critic has LayerNorm layers`,
      );
      assert.ok(
        !agent.actor.layers.some((l) => l.constructor.name === 'LayerNorm'),
        `${file}: the actor has none`,
      );
    }
    assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).run.criticLayerNorm, true);
  });

  it('--env-option: builds the env with Gymnasium-style options, records them and names a bad one', async () => {
    const out = join(dir, 'ant-no-contact');
    const options = [
      '--env-option',
      'includeCfrcExtInObservation=false',
      '--env-option',
      'maxEpisodeSteps=30',
    ];
    const flags = [
      '--variant',
      'scratch',
      '--online-steps',
      '60',
      '--start-steps',
      '30',
      '--eval-every',
      '30',
    ];
    assert.equal(
      await trainCommand.run(['--env', 'Ant-v5', '--eval-episodes', '1', ...options, ...flags, '--out', out]),
      0,
    );
    // Without the 78 contact-force values, Ant-v5 observes 27 numbers.
    assert.equal(loadAgent(join(out, 'final.safetensors')).agent.config.obsDim, 27);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).run.envOptions, {
      includeCfrcExtInObservation: false,
      maxEpisodeSteps: 30,
    });
    // Evaluation episodes end at the 30-step limit: returns near 30 (a healthy reward of 1 a step, plus or
    // minus a little motion), where the untrained policy's 1000-step episodes score about 1000.
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    for (const row of rows) assert.ok(JSON.parse(row).returnMean < 100, row);
    await assert.rejects(
      trainCommand.run(['--env', 'Ant-v5', '--env-option', 'contactCost=0', ...flags]),
      (e: unknown) =>
        e instanceof UsageError &&
        /--env-option: invalid options for Ant-v5: unknown option\(s\) 'contactCost'/.test(e.message),
    );
    await assert.rejects(
      trainCommand.run(['--env', 'Ant-v5', '--env-option', 'contactCostWeight', ...flags]),
      (e: unknown) => e instanceof UsageError && /--env-option.0: expected KEY=VALUE/.test(e.message),
    );
    // A pre-trained run on options its dataset was not recorded on: only options derivable from it are taken.
    await assert.rejects(
      trainCommand.run([
        ...flags,
        ...['--env', 'InvertedPendulum-v5', '--variant', 'td3bc', '--dataset', dataset],
        ...['--env-option', 'resetNoiseScale=0.1', '--out', join(dir, 'not-derivable')],
      ]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          `--dataset: ${dataset}: recorded on InvertedPendulum-v5, but the run is on InvertedPendulum-v5 ` +
            "(resetNoiseScale=0.1): transitions recorded on InvertedPendulum-v5's default options cannot be " +
            'rewritten for other options (only Ant-v5 can be)',
    );
  });

  it('--env-option on a dataset recorded on those options: used as it is, whatever the options', async () => {
    const recordedOn = { resetNoiseScale: 0.1 };
    const env = makeEnv('InvertedPendulum-v5', recordedOn);
    const rows = collectDataset(env, uniformRandomPolicy(env), 400, 3, 'uniform random', {
      envOptions: recordedOn,
    });
    env.close();
    const file = await saveDataset(rows, 'd4rl', join(dir, 'ip-noisy-resets.hdf5'));
    const out = join(dir, 'noisy-resets');
    const flags = [...small, '--variant', 'td3bc', '--dataset', file, '--offline-steps', '40'];
    const online = ['--online-steps', '40', '--warmup-steps', '20'];
    assert.equal(
      await trainCommand.run([...flags, ...online, '--env-option', 'resetNoiseScale=0.1', '--out', out]),
      0,
    );
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).run.envOptions, recordedOn);
    assert.ok(existsSync(join(out, 'final.safetensors')));
    // The same rows for a run on the defaults: no rewriting back.
    await assert.rejects(
      trainCommand.run([...flags, ...online, '--out', join(dir, 'defaults-on-noisy')]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          `--dataset: ${file}: recorded on InvertedPendulum-v5 (resetNoiseScale=0.1), but the run is on ` +
            'InvertedPendulum-v5; only rows recorded on the default options can be rewritten',
    );
  });

  it('--dataset recorded on other env options than the run: a usage error naming the file and both envs', async () => {
    const options = { includeCfrcExtInObservation: false, contactCostWeight: 0 };
    const env = makeEnv('Ant-v5', options);
    const rows = collectDataset(env, uniformRandomPolicy(env), 50, 3, 'uniform random', {
      envOptions: options,
    });
    env.close();
    const file = await saveDataset(rows, 'd4rl', join(dir, 'ant-no-contact.hdf5'));
    const flags = [
      '--variant',
      'td3bc',
      '--offline-steps',
      '10',
      '--online-steps',
      '10',
      '--out',
      join(dir, 'x'),
    ];
    await assert.rejects(
      trainCommand.run(['--env', 'Ant-v5', '--dataset', file, ...flags]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          `--dataset: ${file}: recorded on Ant-v5 (contactCostWeight=0, includeCfrcExtInObservation=false), ` +
            'but the run is on Ant-v5; only rows recorded on the default options can be rewritten',
    );
  });

  it('runs scratch without a dataset and refuses td3bc without one', async () => {
    const out = join(dir, 'scratch');
    assert.equal(
      await trainCommand.run([
        ...small,
        '--variant',
        'scratch',
        '--online-steps',
        '80',
        '--start-steps',
        '40',
        '--out',
        out,
      ]),
      0,
    );
    assert.ok(existsSync(join(out, 'final.safetensors')));
    await assert.rejects(trainCommand.run([...small, '--variant', 'td3bc']), (e: unknown) => {
      return e instanceof UsageError && /--dataset: required/.test(e.message);
    });
  });
});
