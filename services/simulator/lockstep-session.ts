// One bidirectional Lockstep stream to a simulator: step() without a unary call per step, one step in
// flight at a time, each bounded by a timeout. Opened by SimulatorClient.openLockstep().
import { type ClientDuplexStream, status } from '@grpc/grpc-js';
import type { SimStepRequest, SimStepResponse } from '../../generated/proto/o2o/v1/simulator.js';
import type { SimulatorClient, SimulatorStep } from './client.ts';

/** Lockstep over one bidirectional stream; step() calls must not overlap. */
export class LockstepSession {
  private pending: { resolve: (r: SimStepResponse) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly client: SimulatorClient,
    private readonly stream: ClientDuplexStream<SimStepRequest, SimStepResponse>,
    private readonly timeoutMs: number,
  ) {
    stream.on('data', (res: SimStepResponse) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(res);
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('Lockstep stream ended by the server')));
  }

  async step(actions: Float32Array, exact = false): Promise<SimulatorStep> {
    if (this.failure !== undefined) throw this.failure;
    if (this.pending !== undefined) throw new Error('LockstepSession.step: a step is already in flight');
    const req = this.client.stepRequest(actions, exact);
    const res = await new Promise<SimStepResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(
          Object.assign(new Error(`Lockstep step: no answer in ${this.timeoutMs} ms`), {
            code: status.DEADLINE_EXCEEDED,
          }),
        );
      }, this.timeoutMs);
      this.pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.stream.write(req);
    });
    return this.client.decodeStep(res);
  }

  close(): void {
    this.failure ??= new Error('LockstepSession is closed');
    this.stream.end();
  }
}
