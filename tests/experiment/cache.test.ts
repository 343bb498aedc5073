// Shared work: the three pretrain modes of one (env, dataset, seed, augmentation) use one world model and
// one offline pre-training, built once even with two jobs in parallel; a run whose dataset file is missing
// is blocked (with the reason) while the others go on; the lock file behind the cache.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { experimentCommand } from '../../cli/commands/experiment.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { entriesToBuild } from '../../lib/experiment/cache-entry.ts';
import { silentProgress } from '../../lib/experiment/context.ts';
import {
  CRITIC_HELD_OUT_FILE,
  type CriticHeldOutFile,
  checkEntry,
} from '../../lib/experiment/critic-held-out.ts';
import { currentPlatform } from '../../lib/experiment/current-platform.ts';
import { loadRunDataset } from '../../lib/experiment/dataset-source.ts';
import { expandGrid } from '../../lib/experiment/grid.ts';
import { tryLock } from '../../lib/experiment/lock.ts';
import { ensureOfflineAgent } from '../../lib/experiment/offline-stage.ts';
import { estimateRun, type StageHistory } from '../../lib/experiment/run-estimate.ts';
import { readJsonl } from '../../lib/experiment/run-log.ts';
import { parseSpec } from '../../lib/experiment/spec.ts';
import { formatStatus, gridStatus } from '../../lib/experiment/status.ts';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import type { CriticTrainVsHeldOut } from '../../lib/rl/critic-diagnostics.ts';
import { CopyStateWorldModel } from '../../lib/world-model/copy-state-world-model.ts';
import { LinearWorldModel } from '../../lib/world-model/linear-world-model.ts';
import { NativeVaeWorldModel } from '../../lib/world-model/native-vae-world-model.ts';
import { ENV, makeDatasets, tinySpec, writeSpec } from './fixtures.ts';

/** JSONL rows without their timings, for comparing two builds. */
function stripRates(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.stringify({ ...JSON.parse(l), stepsPerSecond: 0 }));
}

describe('experiment grid: shared pre-training, blocked runs, locks', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'o2o-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** The first test's grid, for the one that clones it. */
  let built: { file: string; runs: ReturnType<typeof expandGrid> } | undefined;

  it('builds the world model and offline pre-training once for three pretrain modes; blocks a missing dataset', async () => {
    await makeDatasets(dir);
    const spec = tinySpec(dir, {
      budgets: { ...(tinySpec(dir)['budgets'] as object), onlineSteps: 120 },
      groups: [
        {
          name: 'ablation',
          tier: 0,
          envs: [ENV],
          datasets: ['random-400'],
          variants: ['td3bc-aug-both', 'td3bc-aug-actor', 'td3bc-aug-critic'],
        },
        { name: 'main', tier: 1, envs: [ENV], datasets: ['missing-400'], variants: ['td3bc-both'] },
      ],
    });
    const file = writeSpec(dir, 'cache', spec);
    const runs = expandGrid(parseSpec(spec, file));
    built = { file, runs };
    assert.equal(await experimentCommand.run(['run', file, '--jobs', '2']), 0);

    const [both, actor, critic, blocked] = runs as [
      (typeof runs)[0],
      (typeof runs)[0],
      (typeof runs)[0],
      (typeof runs)[0],
    ];
    const manifest = JSON.parse(readFileSync(join(dir, 'datasets', ENV, 'random.json'), 'utf8'));
    for (const run of [both, actor, critic]) {
      assert.ok(existsSync(run.paths.done), `${run.id} done`);
      const config = JSON.parse(readFileSync(join(run.paths.runDir, 'config.json'), 'utf8'));
      assert.equal(config.dataset.sha256, manifest.sha256);
    }
    // One shared entry each, and exactly one run built them (the others reused them).
    assert.equal(both.paths.offline.marker, critic.paths.offline.marker);
    assert.equal(both.paths.worldModel.marker, actor.paths.worldModel.marker);
    const logs = [both, actor, critic].map((r) => readFileSync(join(r.paths.runDir, 'run.log'), 'utf8'));
    assert.equal(logs.filter((l) => /\[offline\] reusing/.test(l)).length, 2, 'offline built once');
    assert.equal(
      logs.filter((l) => /\[world model\] (reusing|not needed)/.test(l)).length,
      2,
      'world model built once',
    );
    assert.ok(
      !existsSync(both.paths.offline.lock) && !existsSync(both.paths.worldModel.lock),
      'locks released',
    );
    // Every run starts with the shared offline rows, then its own online rows.
    const shared = readJsonl<{ phase: string; step: number }>(both.paths.offline.metrics);
    assert.deepEqual(
      shared.map((r) => `${r.phase}:${r.step}`),
      ['offline:60', 'offline:120'],
    );
    for (const run of [both, actor, critic]) {
      const rows = readJsonl<{ phase: string; step: number }>(run.paths.metrics);
      assert.deepEqual(rows.slice(0, 2), shared);
      assert.deepEqual(
        rows.slice(2).map((r) => `${r.phase}:${r.step}`),
        ['online:0', 'online:60', 'online:120'],
      );
      assert.deepEqual(readJsonl(run.paths.critic).slice(0, 2), readJsonl(both.paths.offline.critic));
    }
    // The critic's held-out check is logged at every offline evaluation, on the subset's whole source (600
    // rows, 400 trained on); the last row is what `o2o experiment critic-check` finds for the entry.
    const offlineCritic = readJsonl<{ heldOut: CriticTrainVsHeldOut | null }>(both.paths.offline.critic);
    assert.equal(offlineCritic.length, 2);
    for (const { heldOut } of offlineCritic) {
      assert.ok(heldOut !== null && heldOut.train.eligible > 0 && heldOut.heldOut.eligible > 0);
      assert.ok(heldOut.train.eligible <= 400 && heldOut.heldOut.eligible <= 200);
    }
    const entry = dirname(both.paths.offline.marker);
    assert.equal(await checkEntry(entry), 'written');
    const checked = JSON.parse(readFileSync(join(entry, CRITIC_HELD_OUT_FILE), 'utf8')) as CriticHeldOutFile;
    assert.deepEqual(offlineCritic[1]!.heldOut, { train: checked.train, heldOut: checked.heldOut });
    // Fine-tuning from the actor alone starts with the pre-trained policy; from the critic alone it does not.
    const online0 = (r: typeof both) => readJsonl<{ returnMean: number }>(r.paths.metrics)[2]!.returnMean;
    assert.equal(online0(actor), online0(both));
    // The blocked run: reported with its reason, never started.
    assert.ok(!existsSync(blocked.paths.runDir));
    const rows = gridStatus(runs);
    const missing = join(dir, 'datasets', ENV, 'medium.hdf5');
    assert.deepEqual(rows.find((r) => r.dataset === 'missing-400')!.counts.blocked, 1);
    assert.match(
      formatStatus(rows),
      new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} missing: run scripts/make-datasets.sh`),
    );
    assert.equal(rows.filter((r) => r.counts.done === 1).length, 3);
    // A second invocation skips the finished runs: nothing is started, no file changes.
    const before = [both, actor, critic].map(
      (r) => readFileSync(r.paths.done, 'utf8') + readFileSync(r.paths.metrics),
    );
    assert.equal(await experimentCommand.run(['run', file, '--only', 'group=ablation']), 0);
    const after = [both, actor, critic].map(
      (r) => readFileSync(r.paths.done, 'utf8') + readFileSync(r.paths.metrics),
    );
    assert.deepEqual(after, before);
    assert.deepEqual(
      [both, actor, critic].map((r) => readFileSync(join(r.paths.runDir, 'run.log'), 'utf8')),
      logs,
      'no run started again',
    );
  });

  it('on a fresh clone (markers committed, model and agent files not) rebuilds both, identically', async () => {
    assert.ok(built !== undefined, 'needs the first test');
    const [both, actor] = built.runs as [(typeof built.runs)[0], (typeof built.runs)[0]];
    const wm = both.paths.worldModel;
    const offline = both.paths.offline;
    const before = {
      report: readFileSync(wm.report, 'utf8'),
      offlineMetrics: readFileSync(offline.metrics, 'utf8'),
      metrics: readFileSync(actor.paths.metrics, 'utf8'),
    };
    // What git holds of results/: everything but checkpoints/ (see .gitignore); the actor-only run is
    // taken as unfinished.
    rmSync(wm.file);
    rmSync(offline.agent);
    rmSync(actor.paths.runDir, { recursive: true });
    // The world model's report as if an earlier build had come out differently: the rebuild must say so.
    const edited = before.report.replace(/\d\.\d{4}e/, '9.9999e');
    assert.notEqual(edited, before.report);
    writeFileSync(wm.report, edited);
    const markersBefore = [wm.marker, offline.marker].map(
      (p) => JSON.parse(readFileSync(p, 'utf8')) as { finishedAt: string; platform: unknown },
    );
    // Every build records what it ran on: the kernels decide whether a rebuild can be bit-identical.
    for (const m of markersBefore) assert.deepEqual(m.platform, currentPlatform());
    assert.deepEqual(JSON.parse(readFileSync(both.paths.done, 'utf8')).platform, currentPlatform());
    assert.equal(await experimentCommand.run(['run', built.file, '--only', 'group=ablation']), 0);
    assert.ok(existsSync(actor.paths.done), 'the unfinished run finished');
    const log = readFileSync(join(actor.paths.runDir, 'run.log'), 'utf8');
    assert.match(log, /\[world model\] .* is here but not .*: building it again/);
    assert.match(log, /\[offline\] .* is here but not .*: pre-training again/);
    assert.ok(existsSync(wm.file) && existsSync(offline.agent));
    // Same seed, same code: the rebuilt entries and the run's rows equal the first build's.
    assert.equal(readFileSync(wm.report, 'utf8'), before.report);
    assert.deepEqual(stripRates(readFileSync(offline.metrics, 'utf8')), stripRates(before.offlineMetrics));
    assert.deepEqual(stripRates(readFileSync(actor.paths.metrics, 'utf8')), stripRates(before.metrics));
    // Each marker records the comparison with the build it replaced.
    const [wmMarker, offlineMarker] = [wm.marker, offline.marker].map(
      (p) => JSON.parse(readFileSync(p, 'utf8')) as { rebuild?: Record<string, unknown> },
    );
    assert.deepEqual(offlineMarker!.rebuild, {
      previousFinishedAt: markersBefore[1]!.finishedAt,
      previousPlatform: currentPlatform(),
      identical: true,
      compared: '2 metrics rows, 2 critic rows',
    });
    assert.match(
      log,
      /\[offline\] rebuilt identically: 2 metrics rows, 2 critic rows, the same as in the previous build/,
    );
    assert.equal(wmMarker!.rebuild?.['identical'], false);
    assert.equal(wmMarker!.rebuild?.['previousFinishedAt'], markersBefore[0]!.finishedAt);
    assert.match(
      String(wmMarker!.rebuild?.['firstDifference']),
      /^held-out report line \d+: ".*9\.9999e.*" → /,
    );
    assert.match(
      log,
      /\[world model\] WARNING: the rebuilt entry differs from the previous build \(.*; both builds on /,
    );
  });

  it('a run whose offline pre-training is here neither builds nor loads its world model', async () => {
    assert.ok(built !== undefined, 'needs the first test');
    const critic = built.runs[2]!;
    const wm = critic.paths.worldModel;
    const metricsBefore = readFileSync(critic.paths.metrics, 'utf8');
    const wmSeconds = (JSON.parse(readFileSync(wm.marker, 'utf8')) as { seconds: number }).seconds;
    // The world model's file is gone (the offline agent is not); the critic-only run is taken as unfinished.
    rmSync(wm.file);
    rmSync(critic.paths.runDir, { recursive: true });
    assert.deepEqual(entriesToBuild(critic), [], 'nothing to build');
    const timed = (seconds: number) => [{ env: ENV, kind: '', work: 1, seconds }];
    const history: StageHistory = {
      seconds: new Map(),
      byStage: new Map([
        ['worldModel', timed(600)],
        ['offline', timed(600)],
        ['online', timed(60)],
      ]),
    };
    assert.match(estimateRun(critic, history).detail, /^online [^+]*$/, 'estimated as online training only');
    assert.equal(await experimentCommand.run(['run', built.file, '--only', 'group=ablation']), 0);
    const log = readFileSync(join(critic.paths.runDir, 'run.log'), 'utf8');
    assert.match(log, /\[world model\] not needed: the offline pre-training .* is here/);
    assert.doesNotMatch(log, /building it again|world model\] epoch/);
    assert.ok(!existsSync(wm.file), 'the world model was not built again');
    const done = JSON.parse(readFileSync(critic.paths.done, 'utf8')) as {
      stageSeconds: { worldModel: number };
    };
    assert.equal(done.stageSeconds.worldModel, wmSeconds, 'its time still comes from the marker');
    assert.deepEqual(stripRates(readFileSync(critic.paths.metrics, 'utf8')), stripRates(metricsBefore));
  });

  it('refuses to pre-train an augmented entry without its world model', async () => {
    assert.ok(built !== undefined, 'needs the first test');
    const both = built.runs[0]!;
    const entry = join(dir, 'no-model-entry');
    const [agent, marker, lock, metrics, critic, checkpoints] = [
      'agent',
      'marker',
      'lock',
      'm',
      'c',
      'ck',
    ].map((name) => join(entry, name)) as [string, string, string, string, string, string];
    const paths = { agent, marker, lock, metrics, critic, checkpoints };
    const { dataset } = await loadRunDataset(both.config.dataset!, ENV);
    const env = makeEnv(ENV);
    try {
      const ctx = { config: both.config, log: () => {}, progress: silentProgress, shouldStop: () => false };
      await assert.rejects(
        ensureOfflineAgent(ctx, dataset, env, undefined, paths),
        /pre-training with augmentation needs its world model; none was loaded/,
      );
      assert.ok(!existsSync(paths.agent) && !existsSync(paths.marker), 'nothing built');
      assert.ok(!existsSync(paths.lock), 'lock released');
    } finally {
      env.close();
    }
  });

  it('keeps control world models in entries of their own, and the VAE keys as they were', async () => {
    const spec = tinySpec(dir, {
      resultsDir: join(dir, 'results-linear'),
      budgets: { ...(tinySpec(dir)['budgets'] as object), onlineSteps: 60 },
      variants: {
        'td3bc-aug-both': { variant: 'td3bc-aug', pretrain: 'both', augFraction: 0.5 },
        'td3bc-aug-linear-both': {
          variant: 'td3bc-aug',
          pretrain: 'both',
          augFraction: 0.5,
          worldModel: 'linear',
        },
        'td3bc-aug-copy-both': {
          variant: 'td3bc-aug',
          pretrain: 'both',
          augFraction: 0.5,
          worldModel: 'copy',
        },
      },
      groups: [
        {
          name: 'model',
          tier: 0,
          envs: [ENV],
          datasets: ['random-400'],
          variants: ['td3bc-aug-both', 'td3bc-aug-linear-both', 'td3bc-aug-copy-both'],
        },
      ],
    });
    const file = writeSpec(dir, 'linear', spec);
    const [vae, linear, copy] = expandGrid(parseSpec(spec, file)) as [
      ReturnType<typeof expandGrid>[0],
      ReturnType<typeof expandGrid>[0],
      ReturnType<typeof expandGrid>[0],
    ];
    assert.equal(await experimentCommand.run(['run', file]), 0);
    assert.match(
      linear.paths.worldModel.marker,
      /_pretrained\/world-model-linear-seed-0\/world-model\.json$/,
    );
    assert.match(linear.paths.offline.marker, /_pretrained\/aug-0\.5-linear-seed-0\/offline\.json$/);
    assert.match(vae.paths.worldModel.marker, /_pretrained\/world-model-seed-0\/world-model\.json$/);
    const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(json(linear.paths.worldModel.marker).key.worldModel, 'linear');
    assert.equal(json(linear.paths.offline.marker).key.worldModel, 'linear');
    assert.ok(!('worldModel' in json(vae.paths.worldModel.marker).key), 'VAE keys as before the option');
    assert.ok(!('worldModel' in json(vae.paths.offline.marker).key));
    assert.equal(json(join(linear.paths.runDir, 'config.json')).worldModel, 'linear');
    assert.ok(!('worldModel' in json(join(vae.paths.runDir, 'config.json'))));
    assert.match(
      readFileSync(linear.paths.worldModel.report, 'utf8'),
      /world model linear-lsq, deterministic/,
    );
    assert.ok(existsSync(linear.paths.done) && existsSync(vae.paths.done));
    // Copying the state: its own entries, and a held-out error of exactly the copy-state baseline's.
    assert.match(copy.paths.offline.marker, /_pretrained\/aug-0\.5-copy-seed-0\/offline\.json$/);
    assert.equal(json(copy.paths.worldModel.marker).key.worldModel, 'copy');
    const copyReport = readFileSync(copy.paths.worldModel.report, 'utf8');
    assert.match(copyReport, /world model copy-state, stochastic .* 1\.000\n/);
    assert.ok(existsSync(copy.paths.done));
    // Their files say what they were fitted for, as the VAE's do.
    const fittedFor = [
      LinearWorldModel.load(linear.paths.worldModel.file),
      CopyStateWorldModel.load(copy.paths.worldModel.file),
      NativeVaeWorldModel.load(vae.paths.worldModel.file),
    ].map((m) => m.info.trainedFor);
    assert.deepEqual(fittedFor, Array(3).fill({ envId: ENV, envOptions: {} }));
  });

  it('pre-trains on an env with options from the dataset rewritten for them, in entries of their own', async () => {
    // A tiny random Ant-v5 dataset, recorded on the defaults (105-dim observations).
    const datasets = await makeDatasets(dir, { envId: 'Ant-v5', transitions: 300, name: 'ant-datasets' });
    const noContact = { includeCfrcExtInObservation: false, contactCostWeight: 0 };
    const spec = tinySpec(dir, {
      resultsDir: join(dir, 'results-options'),
      datasetsDir: datasets,
      budgets: {
        ...(tinySpec(dir)['budgets'] as object),
        onlineSteps: 30,
        offlineSteps: 60,
        evalEpisodes: 1,
      },
      datasets: { 'random-200': { kind: 'random', transitions: 200, by: 'transition' } },
      variants: {
        'td3bc-aug-both': { variant: 'td3bc-aug', pretrain: 'both', augFraction: 0.5 },
        'td3bc-aug-both-nocontact': {
          variant: 'td3bc-aug',
          pretrain: 'both',
          augFraction: 0.5,
          envOptions: noContact,
        },
      },
      groups: [
        {
          name: 'main',
          tier: 0,
          envs: ['Ant-v5'],
          datasets: ['random-200'],
          variants: ['td3bc-aug-both', 'td3bc-aug-both-nocontact'],
        },
      ],
    });
    const file = writeSpec(dir, 'options', spec);
    const [plain, optioned] = expandGrid(parseSpec(spec, file)) as [
      ReturnType<typeof expandGrid>[0],
      ReturnType<typeof expandGrid>[0],
    ];
    // The entries' names carry a tag of the options; the default env's are named as before.
    assert.match(
      optioned.paths.worldModel.marker,
      /_pretrained\/world-model-env[0-9a-f]{8}-seed-0\/world-model\.json$/,
    );
    assert.match(
      optioned.paths.offline.marker,
      /_pretrained\/aug-0\.5-env[0-9a-f]{8}-seed-0\/offline\.json$/,
    );
    assert.match(plain.paths.offline.marker, /_pretrained\/aug-0\.5-seed-0\/offline\.json$/);
    assert.equal(await experimentCommand.run(['run', file]), 0);
    const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
    assert.deepEqual(json(optioned.paths.worldModel.marker).key.envOptions, noContact);
    assert.deepEqual(json(optioned.paths.offline.marker).key.envOptions, noContact);
    assert.ok(!('envOptions' in json(plain.paths.offline.marker).key), 'default-env keys as before');
    assert.equal(loadAgent(optioned.paths.offline.agent).agent.config.obsDim, 27);
    assert.equal(loadAgent(plain.paths.offline.agent).agent.config.obsDim, 105);
    assert.ok(existsSync(optioned.paths.done) && existsSync(plain.paths.done));
    // The subset keeps the same rows; the rewritten rows lose the contact forces and their cost.
    const source = optioned.config.dataset!;
    const before = await loadRunDataset(source, 'Ant-v5');
    const after = await loadRunDataset(source, 'Ant-v5', noContact);
    assert.deepEqual(after.origin!.rows, before.origin!.rows);
    assert.equal(after.dataset.obsDim, 27);
    assert.deepEqual(after.dataset.observations.subarray(0, 27), before.dataset.observations.subarray(0, 27));
    assert.ok(
      after.dataset.rewards.some((r, i) => r > before.dataset.rewards[i]!),
      'contact cost removed',
    );
    assert.notEqual(after.dataset.metadata.checksum, before.dataset.metadata.checksum);
    // The critic's held-out check reads the dataset as the entry was built on it.
    assert.equal(await checkEntry(dirname(optioned.paths.offline.marker)), 'written');
  });

  it('a lock is exclusive while its owner lives and taken over when the owner is dead', () => {
    const path = join(dir, 'entry.lock');
    const held = tryLock(path);
    assert.ok('release' in held);
    const second = tryLock(path);
    assert.ok('heldBy' in second && second.heldBy.includes(`pid ${process.pid}`));
    held.release();
    assert.ok(!existsSync(path));
    // A lock left by a process that no longer exists (pid beyond the kernel's range) is stale.
    writeFileSync(path, JSON.stringify({ pid: 2 ** 30, host: hostname(), since: 'earlier' }));
    const taken = tryLock(path);
    assert.ok('release' in taken, 'stale lock taken over');
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    taken.release();
  });
});
