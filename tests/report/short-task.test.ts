// The report names the paper's Ant (Ant-v5 without contact forces) by a short name, its options said once at
// the report's top; envs without a named option set keep their full label.
import assert from 'node:assert/strict';
import { taskKey } from '../../lib/report/groups.ts';
import { leftOutByReason } from '../../lib/report/pooled-steps.ts';
import {
  describeTasks,
  envNamesNote,
  shortTaskEnv,
  taskLabel,
  taskTitle,
} from '../../lib/report/short-task.ts';
import { claimsAtAGlanceTable } from '../../lib/report/tables.ts';
import { type Claim, POOLED_ENV } from '../../lib/report/verdicts.ts';

const NO_CONTACT = 'Ant-v5 (contactCostWeight=0, includeCfrcExtInObservation=false)';
const STEPS = "TD3+BC+aug → TD3 reaches scratch's final return with fewer steps";

function claim(env: string, dataset: string, verdict: Claim['verdict']): Claim {
  return { env, dataset, claim: STEPS, verdict, text: '' };
}

describe('short task names', () => {
  it('names the no-contact Ant and says what the name stands for', () => {
    const s = shortTaskEnv(NO_CONTACT);
    assert.equal(s.label, 'Ant-v5 (no contact forces)');
    assert.equal(
      s.legend,
      'Ant-v5 (no contact forces) is Ant-v5 with contactCostWeight=0, includeCfrcExtInObservation=false',
    );
  });

  it('keeps envs at their defaults, and option sets without a name, as they are', () => {
    assert.deepEqual(shortTaskEnv('Hopper-v5'), { label: 'Hopper-v5' });
    // One of the two options only: not the named set.
    assert.deepEqual(shortTaskEnv('Ant-v5 (contactCostWeight=0)'), { label: 'Ant-v5 (contactCostWeight=0)' });
  });

  it('heads the claims grid with the short names', () => {
    const table = claimsAtAGlanceTable([
      claim(POOLED_ENV, 'pooled', 'holds'),
      claim(NO_CONTACT, 'medium-10k', 'inconclusive'),
      claim(NO_CONTACT, 'medium-replay-10k', 'holds'),
      claim('Hopper-v5', 'medium-10k', 'holds'),
    ]);
    assert.deepEqual(table.header, [
      'claim',
      `${POOLED_ENV} pooled`,
      'Ant-v5 (no contact forces) medium-10k',
      'Ant-v5 (no contact forces) medium-replay-10k',
      'Hopper-v5 medium-10k',
    ]);
    assert.deepEqual(table.rows, [[STEPS, 'holds', 'inconclusive', 'holds', 'holds']]);
  });

  it('says once what the short names stand for, and nothing when no env has one', () => {
    assert.equal(
      envNamesNote([NO_CONTACT, 'Hopper-v5', NO_CONTACT]),
      `Short names: ${shortTaskEnv(NO_CONTACT).legend}.`,
    );
    assert.equal(envNamesNote(['Hopper-v5', 'Ant-v5']), undefined);
  });

  it('lists tasks grouped by env, envs by their short names, in the order given', () => {
    const tasks = [
      { env: NO_CONTACT, dataset: 'medium-10k' },
      { env: 'Hopper-v5', dataset: 'medium-10k' },
      { env: NO_CONTACT, dataset: 'medium-replay-10k' },
      { env: 'Hopper-v5', dataset: 'medium-replay-10k' },
    ];
    assert.equal(
      describeTasks(tasks),
      'Ant-v5 (no contact forces) medium-10k, medium-replay-10k; Hopper-v5 medium-10k, medium-replay-10k',
    );
    // Scratch's tasks are envs alone.
    assert.equal(
      describeTasks([{ env: 'Ant-v5' }, { env: NO_CONTACT }]),
      'Ant-v5; Ant-v5 (no contact forces)',
    );
    assert.deepEqual(tasks.map(taskKey).slice(0, 2), [`${NO_CONTACT} medium-10k`, 'Hopper-v5 medium-10k']);
    assert.equal(taskKey({ env: 'Hopper-v5' }), 'Hopper-v5');
    assert.equal(taskTitle(tasks[0]!), 'Ant-v5 (no contact forces), medium-10k');
    assert.equal(taskTitle({ env: 'Hopper-v5' }), 'Hopper-v5');
    assert.equal(
      taskLabel({ env: NO_CONTACT, dataset: 'medium-10k' }),
      'Ant-v5 (no contact forces) medium-10k',
    );
  });

  it('lists the tasks left out of a pool by reason', () => {
    assert.deepEqual(
      leftOutByReason([
        { task: { env: 'Ant-v5', dataset: 'medium-10k' }, why: 'scratch at step 0' },
        { task: { env: 'Hopper-v5', dataset: 'medium-5k' }, why: 'too few seeds' },
        { task: { env: 'Ant-v5', dataset: 'medium-replay-10k' }, why: 'scratch at step 0' },
      ]),
      [
        { why: 'scratch at step 0', tasks: 'Ant-v5 medium-10k, medium-replay-10k' },
        { why: 'too few seeds', tasks: 'Hopper-v5 medium-5k' },
      ],
    );
    assert.deepEqual(leftOutByReason([]), []);
  });
});
