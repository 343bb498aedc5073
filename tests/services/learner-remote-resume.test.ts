// The learner's offline phase with the world-model service behind it: cut off and resumed, it ends exactly
// where an uninterrupted phase does, because each segment restarts the remote model's noise from a seed
// (RemoteWorldModel.reseedNoise → Predict noise_seed) as it does an in-process model's.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Phase } from '../../generated/proto/o2o/v1/events.js';
import { loadAgent } from '../../lib/rl/agent-checkpoint.ts';
import { PhaseInterrupted } from '../../services/learner/deps.ts';
import { runOfflinePhase } from '../../services/learner/offline-phase.ts';
import { RemoteWorldModel } from '../../services/world-model/client.ts';
import { type RunningServer, startServer } from '../../services/world-model/server.ts';
import { inProcessDeps, makeWorkload, RUN_DIR, request, tinySpec, type Workload } from './learner-fixture.ts';
import { testServerSettings } from './world-model-fixtures.ts';

describe('services/learner offline phase with the world-model service: exact resume', function () {
  this.timeout(240_000);
  let w: Workload;
  let server: RunningServer;
  const remotes: RemoteWorldModel[] = [];
  before(async () => {
    w = await makeWorkload();
    server = await startServer(testServerSettings(w.root, join(RUN_DIR, 'world-model.safetensors')));
  });
  after(async () => {
    for (const r of remotes) r.close();
    await server.shutdown();
    rmSync(w.root, { recursive: true, force: true });
  });

  const remoteDeps = (overrides: Parameters<typeof inProcessDeps>[1] = {}) =>
    inProcessDeps(w.root, {
      offlineCheckpointEvery: 20,
      openWorldModel: async () => {
        const r = await RemoteWorldModel.connect(server.address);
        remotes.push(r);
        return r;
      },
      ...overrides,
    });

  it('stopped after a segment and resumed: the same agent and logs as uninterrupted', async () => {
    const spec = tinySpec({
      offline: { steps: 80, batchSize: 32, augFraction: 0.5, evalEvery: 20, evalEpisodes: 2 },
    });
    const inputs = { dataset: 'dataset.hdf5', world_model: 'world-model.safetensors' };
    const outcome = () => ({
      actor: loadAgent(join(w.runDir, 'offline.safetensors'))
        .agent.actor.params()
        .flatMap((p) => Array.from(p.value)),
      critic: readFileSync(join(w.runDir, 'offline-critic.jsonl'), 'utf8'),
    });
    await runOfflinePhase(request(Phase.PHASE_OFFLINE, spec, inputs, 'remote-whole'), remoteDeps());
    const reference = outcome();

    const cut = remoteDeps({ stopping: () => cut.status.step >= 50 });
    const req = request(Phase.PHASE_OFFLINE, spec, inputs, 'remote-cut');
    await assert.rejects(runOfflinePhase(req, cut), PhaseInterrupted);
    await runOfflinePhase(req, remoteDeps());
    assert.deepEqual(outcome(), reference);
  });
});
