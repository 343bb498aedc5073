// Learner settings from the environment: defaults, flags over variables, errors naming the variable.
import assert from 'node:assert/strict';
import { loadConfig } from '../../services/learner/config.ts';
import { parseLearnerSpec } from '../../services/learner/spec.ts';

describe('services/learner config and spec', () => {
  it('reads defaults, variables and --flag overrides', () => {
    const d = loadConfig({}, []);
    assert.equal(d.wmAddress, 'in-process');
    assert.equal(d.onlineMode, 'lockstep');
    assert.equal(d.listen, '127.0.0.1:0');
    const c = loadConfig(
      {
        O2O_LEARNER_WM_ADDRESS: 'wm:50051',
        O2O_LEARNER_CHECKPOINT_EVERY: '500',
        O2O_LEARNER_ONLINE_MODE: 'actor',
      },
      ['--checkpoint-every', '20'],
    );
    assert.equal(c.wmAddress, 'wm:50051');
    assert.equal(c.checkpointEvery, 20);
    assert.equal(c.onlineMode, 'actor');
  });

  it('fails with a message naming the variable or flag', () => {
    assert.throws(() => loadConfig({ O2O_LEARNER_ONLINE_MODE: 'async' }, []), /O2O_LEARNER_ONLINE_MODE/);
    assert.throws(
      () => loadConfig({ O2O_LEARNER_CHECKPOINT_EVERY: '0' }, []),
      /O2O_LEARNER_CHECKPOINT_EVERY/,
    );
    assert.throws(() => loadConfig({ O2O_LEARNER_WM_ADDRESS: 'nowhere' }, []), /O2O_LEARNER_WM_ADDRESS/);
    assert.throws(() => loadConfig({}, ['--listen', 'x']), /--listen/);
    assert.throws(() => loadConfig({}, ['--bogus', '1']), /unknown flag --bogus/);
  });

  it('parses the spec with o2o train defaults and names bad fields', () => {
    const s = parseLearnerSpec(JSON.stringify({ env: 'Hopper-v5', extra: { ignored: true } }));
    assert.equal(s.offline.steps, 200_000);
    assert.equal(s.offline.augFraction, 0.5);
    assert.equal(s.online.warmupSteps, 25_000);
    assert.deepEqual(s.agent.hidden, [256, 256]);
    assert.throws(() => parseLearnerSpec('{'), /spec_json is not valid JSON/);
    assert.throws(() => parseLearnerSpec(JSON.stringify({ env: 'Pong' })), /spec\.env/);
    assert.throws(
      () => parseLearnerSpec(JSON.stringify({ env: 'Hopper-v5', offline: { augFraction: 2 } })),
      /spec\.offline\.augFraction/,
    );
  });
});
