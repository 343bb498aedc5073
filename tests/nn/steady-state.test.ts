// "No allocation per step in steady state": after one warm-up pass per batch size, a TD3-shaped
// training step (targets via predict, critic and actor updates, Polyak) constructs no Float32Array.
// The global constructor is wrapped for the duration of the test; lib/nn looks it up at call time.
import assert from 'node:assert/strict';
import { meanLoss, mseLoss } from '../../lib/nn/losses.ts';
import { Matrix } from '../../lib/nn/matrix.ts';
import { ModuleGroup } from '../../lib/nn/module-group.ts';
import { Concat } from '../../lib/nn/ops.ts';
import { Adam, clipGradNorm, copyParams, softUpdate } from '../../lib/nn/optim.ts';
import { mlp } from '../../lib/nn/sequential.ts';
import { randomMatrix } from './fd.ts';

/** Runs `body` with `new Float32Array(...)` counted; returns the count. */
function countFloat32Allocations(body: () => void): number {
  const original = globalThis.Float32Array;
  let count = 0;
  globalThis.Float32Array = new Proxy(original, {
    construct(target, args, newTarget) {
      count++;
      return Reflect.construct(target, args, newTarget === globalThis.Float32Array ? target : newTarget);
    },
  });
  try {
    body();
  } finally {
    globalThis.Float32Array = original;
  }
  return count;
}

describe('nn steady state', () => {
  it('the allocation counter sees lib/nn allocations (control)', () => {
    assert.equal(
      countFloat32Allocations(() => new Matrix(3, 4)),
      1,
    );
    // A first pass at a new batch size allocates its buffers.
    const net = mlp({ inputs: 3, hidden: [4], outputs: 2, rng: 1 });
    assert.ok(countFloat32Allocations(() => net.forward(new Matrix(5, 3, new Float32Array(15)))) > 0);
  });

  it('a TD3-shaped update allocates no Float32Array after warm-up, alternating batch sizes', () => {
    const S = 5;
    const A = 2;
    const B = 16;
    const actor = mlp({ inputs: S, hidden: [32, 32], outputs: A, outputActivation: 'tanh', rng: 1 });
    const actorTarget = mlp({ inputs: S, hidden: [32, 32], outputs: A, outputActivation: 'tanh', rng: 2 });
    const q1 = mlp({ inputs: S + A, hidden: [32, 32], outputs: 1, rng: 3 });
    const q1Target = mlp({ inputs: S + A, hidden: [32, 32], outputs: 1, rng: 4 });
    copyParams(actorTarget, actor);
    copyParams(q1Target, q1);
    const critics = new ModuleGroup({ q1 });
    const criticOpt = new Adam(critics.params());
    const actorOpt = new Adam(actor.params());
    const [sa, saNext, sPi] = [new Concat(), new Concat(), new Concat()];
    const state = randomMatrix(B, S, 5);
    const action = randomMatrix(B, A, 6);
    const nextState = randomMatrix(B, S, 7);
    const target = randomMatrix(B, 1, 8);
    const dq = new Matrix(B, 1);
    const dAction = new Matrix(B, A);
    const single = randomMatrix(1, S, 9);

    const update = () => {
      const nextQ = q1Target.predict(saNext.forward(nextState, actorTarget.predict(nextState)));
      for (let i = 0; i < B; i++) target.data[i] = 0.99 * nextQ.data[i]!;
      criticOpt.zeroGrad();
      mseLoss(q1.forward(sa.forward(state, action)), target, dq);
      q1.backwardParams(dq);
      clipGradNorm(critics.params(), 10);
      criticOpt.step();
      actorOpt.zeroGrad();
      meanLoss(q1.forward(sPi.forward(state, actor.forward(state))), -1, dq);
      sPi.backward(q1.backwardInput(dq));
      dAction.copyFrom(sPi.gradRight!);
      actor.backwardParams(dAction);
      actorOpt.step();
      softUpdate(q1Target, q1, 0.005);
      softUpdate(actorTarget, actor, 0.005);
      actor.predict(single); // acting with batch size 1 between updates
    };
    update();
    const allocations = countFloat32Allocations(() => {
      for (let i = 0; i < 20; i++) update();
    });
    assert.equal(allocations, 0, `steady-state updates constructed ${allocations} Float32Arrays`);
  });
});
