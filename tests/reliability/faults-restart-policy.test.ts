// The launcher's restart policy (services/launcher/restart-policy.ts): defaults, O2O_RUN_* variables with
// errors naming them, and the backoff schedule. The supervision itself is exercised with real processes
// in faults-learner-crash and faults-nats-restart.
import assert from 'node:assert/strict';
import {
  DEFAULT_RESTART_POLICY,
  RestartPolicyError,
  restartDelayMs,
  restartPolicy,
  restartPolicyFromEnv,
} from '../../services/launcher/restart-policy.ts';
import { DEFAULT_WM_WAIT, retrySchedule } from '../../services/learner/world-model-link.ts';

describe('fault policies', () => {
  it('launcher restarts: defaults, variables, errors naming the variable, doubling capped backoff', () => {
    assert.deepEqual(restartPolicyFromEnv({}), DEFAULT_RESTART_POLICY);
    assert.deepEqual(restartPolicyFromEnv({ O2O_RUN_MAX_RESTARTS: '0', O2O_RUN_RESTART_BACKOFF_MS: '250' }), {
      ...DEFAULT_RESTART_POLICY,
      maxRestarts: 0,
      initialBackoffMs: 250,
    });
    assert.throws(
      () => restartPolicyFromEnv({ O2O_RUN_MAX_RESTARTS: 'many' }),
      (e: unknown) => e instanceof RestartPolicyError && /^O2O_RUN_MAX_RESTARTS: expected/.test(e.message),
    );
    assert.throws(
      () =>
        restartPolicyFromEnv({ O2O_RUN_RESTART_BACKOFF_MS: '5000', O2O_RUN_RESTART_MAX_BACKOFF_MS: '100' }),
      /O2O_RUN_RESTART_MAX_BACKOFF_MS: 100 is below the initial backoff 5000/,
    );
    assert.throws(() => restartPolicy({ maxRestarts: -1 }), RestartPolicyError);
    const p = restartPolicy({ initialBackoffMs: 1000, maxBackoffMs: 5000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((k) => restartDelayMs(p, k)),
      [1000, 2000, 4000, 5000, 5000],
    );
  });

  it('world-model waits: doubling pauses capped at the maximum, summing to exactly the budget', () => {
    const s = retrySchedule({ ...DEFAULT_WM_WAIT, waitMs: 15_000 });
    assert.deepEqual(s, [500, 1000, 2000, 4000, 7500]);
    const long = retrySchedule(DEFAULT_WM_WAIT);
    assert.equal(
      long.reduce((a, b) => a + b, 0),
      DEFAULT_WM_WAIT.waitMs,
    );
    assert.ok(long.every((x) => x <= DEFAULT_WM_WAIT.maxBackoffMs));
    assert.deepEqual(retrySchedule({ ...DEFAULT_WM_WAIT, waitMs: 300 }), [300]);
  });
});
