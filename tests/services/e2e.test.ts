// End to end: the launcher with real processes (nats-server, world model, two simulators, learner,
// coordinator) runs a tiny InvertedPendulum-v5 td3bc-aug experiment, on env options its dataset file was
// recorded on, from a subset of that file; the report exists and names the options, every phase finished
// (the learner found simulators only because the launcher started them on the spec's options), the critic's
// held-out check went from the dataset phase to the learner, and one trace holds spans from all four services.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveDataset } from '../../lib/data/load.ts';
import { makeEnv } from '../../lib/envs/registry.ts';
import { collectDataset, uniformRandomPolicy } from '../../lib/rl/collect.ts';
import type { CriticTrainVsHeldOut } from '../../lib/rl/critic-diagnostics.ts';
import { readSpanFiles, summarizeTraceFiles, tracesSpanning } from '../../lib/telemetry/summary.ts';
import { loadState, PHASE_ORDER } from '../../services/coordinator/state.ts';
import { launch } from '../../services/launcher/launch.ts';

const TINY_SPEC = `
name: e2e-tiny
seed: 3
env: InvertedPendulum-v5
envOptions: { resetNoiseScale: 0.05 }
variant: td3bc-aug
dataset: { file: data/source.hdf5, subset: { transitions: 300, by: transition, seed: 1 } }
agent: { hidden: [32, 32] }
worldModel: { epochs: 2, batchSize: 64, hidden: [32], latentDim: 4 }
offline: { steps: 60, batchSize: 64, evalEvery: 60, evalEpisodes: 1 }
online: { steps: 120, simulators: 2, startSteps: 40, warmupSteps: 40, batchSize: 64, evalEvery: 120, evalEpisodes: 1 }
evaluation: { episodes: 2 }
`;

const SERVICES = ['o2o-coordinator', 'o2o-learner', 'o2o-simulator', 'o2o-world-model'];

describe('end to end through the services', function () {
  // Target well under 90 s on an idle machine; the limit leaves room for a shared, loaded one.
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-e2e-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every phase, writes the report and records one trace across all four services', async () => {
    const specPath = join(dir, 'spec.yaml');
    writeFileSync(specPath, TINY_SPEC);
    const envOptions = { resetNoiseScale: 0.05 };
    const env = makeEnv('InvertedPendulum-v5', envOptions);
    const source = collectDataset(env, uniformRandomPolicy(env), 600, 5, 'e2e source', { envOptions });
    env.close();
    await saveDataset(source, 'd4rl', join(dir, 'run', 'data', 'source.hdf5'));
    const lines: string[] = [];
    const started = performance.now();
    const result = await launch({
      specPath,
      runDir: join(dir, 'run'),
      log: (line) => lines.push(`[launcher] ${line}`),
      env: { O2O_LEARNER_PROGRESS_MS: '500', O2O_COORD_PROGRESS_MS: '0' },
      graceMs: 10_000,
    });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(result.ok, true, `run failed: ${result.reason}\n${lines.join('\n')}`);
    assert.ok(result.reportPath !== undefined && existsSync(result.reportPath), 'report.md written');
    const report = readFileSync(result.reportPath, 'utf8');
    assert.match(report, /Final evaluation: mean return/);
    assert.match(report, /InvertedPendulum-v5 \(resetNoiseScale=0\.05\), variant td3bc-aug/);
    // The launcher rewrote the report after every service flushed its spans: its trace section shows the
    // run's root span and no span whose parent is missing.
    assert.match(report, /\n[0-9a-f]{32} +run e2e-tiny +\d+ +0 +0 /, 'the report has the whole run trace');

    const state = loadState(result.runDir);
    assert.ok(state !== undefined);
    for (const phase of PHASE_ORDER) assert.equal(state.phases[phase]?.status, 'done', `${phase} finished`);
    assert.equal(state.phases.online?.metrics['steps'], 120);
    assert.match(state.phases.world_model?.handledBy ?? '', /^world-model@/);
    assert.match(state.phases.online?.handledBy ?? '', /^learner@/);
    // The dataset phase drew the held-out check rows from the whole source; the learner logged the check.
    assert.equal(state.phases.dataset?.outputs['critic_check'], 'critic-check.hdf5');
    const criticRows = readFileSync(join(result.runDir, 'offline-critic.jsonl'), 'utf8').trim().split('\n');
    const heldOut = (JSON.parse(criticRows.at(-1)!) as { heldOut: CriticTrainVsHeldOut | null }).heldOut;
    assert.ok(heldOut?.train.vsReturns && heldOut.heldOut.vsReturns, 'both sides of the check logged');
    assert.equal(state.phases.offline?.metrics['critic_held_out_abs_error'], heldOut.heldOut.meanAbsError);

    const summary = summarizeTraceFiles(join(result.runDir, 'traces'));
    const whole = tracesSpanning(summary, SERVICES);
    assert.equal(
      whole.length,
      1,
      `one trace spans ${SERVICES.join(', ')}; services seen: ${summary.services}`,
    );
    assert.equal(whole[0]?.root, 'run e2e-tiny');
    assert.equal(whole[0]?.missingParents, 0);
    const runSpan = readSpanFiles(join(result.runDir, 'traces')).spans.find((s) => s.name === 'run e2e-tiny');
    assert.equal(runSpan?.attributes['o2o.env_options'], '{"resetNoiseScale":0.05}');
    console.log(`      e2e run: ${seconds.toFixed(1)} s, ${whole[0]?.spans} spans in the run's trace`);
  });
});
