// The learner's gRPC server: Status (what the current phase is doing) and Evaluate (a deterministic
// evaluation of the current agent in-process). Every request is validated; bad input is INVALID_ARGUMENT.
import { Server, status } from '@grpc/grpc-js';
import {
  type LearnerEvaluateRequest,
  LearnerEvaluateResponse,
  LearnerService,
  LearnerStatusResponse,
} from '../../generated/proto/o2o/v1/learner.js';
import { envOptionsJson } from '../../lib/envs/env-options-text.ts';
import { type ServerTls, serverCredentials } from '../../lib/services/grpc-security.ts';
import { strictDecoding } from '../../lib/services/strict-decoding.ts';
import { grpcError, tracedUnary } from '../../lib/telemetry/grpc.ts';
import type { LearnerStatus } from './deps.ts';
import { evaluateAgent } from './evaluation-phase.ts';

const TRACER = 'o2o-learner';
export const MAX_EVALUATE_EPISODES = 1000;

export interface LearnerServer {
  address: string;
  shutdown(): Promise<void>;
}

export function statusResponse(s: LearnerStatus, onlineMode: string): LearnerStatusResponse {
  return LearnerStatusResponse.fromPartial({
    runId: s.runId,
    phase: s.phase,
    step: s.step,
    total: s.total,
    updatesPerSecond: Number.isFinite(s.updatesPerSecond) ? s.updatesPerSecond : 0,
    hasLastEvaluation: s.lastEvaluation !== undefined,
    lastEvaluation: s.lastEvaluation ?? 0,
    checkpointPath: s.checkpointPath,
    envId: s.envId,
    envOptionsJson: envOptionsJson(s.envOptions),
    onlineMode,
    condition: s.condition,
  });
}

export function evaluate(s: LearnerStatus, req: LearnerEvaluateRequest): LearnerEvaluateResponse {
  if (!Number.isInteger(req.episodes) || req.episodes < 1 || req.episodes > MAX_EVALUATE_EPISODES) {
    throw grpcError(
      status.INVALID_ARGUMENT,
      `episodes: must be in 1..${MAX_EVALUATE_EPISODES}, got ${req.episodes}`,
    );
  }
  if (!Number.isSafeInteger(req.seed) || req.seed < 0) {
    throw grpcError(
      status.INVALID_ARGUMENT,
      `seed: must be a non-negative integer below 2^53, got ${req.seed}`,
    );
  }
  if (s.agent === undefined) {
    throw grpcError(status.FAILED_PRECONDITION, 'no agent yet: no offline or online phase has started');
  }
  const r = evaluateAgent(s.agent, s.envId, req.episodes, req.seed, s.envOptions);
  return LearnerEvaluateResponse.fromPartial({
    returns: r.returns,
    lengths: r.lengths,
    meanReturn: r.meanReturn,
    stdReturn: r.stdReturn,
    hasNormalizedScore: r.normalizedScore !== undefined,
    normalizedScore: r.normalizedScore ?? 0,
    envId: s.envId,
    envOptionsJson: envOptionsJson(s.envOptions),
  });
}

export async function startLearnerServer(
  state: LearnerStatus,
  onlineMode: string,
  listen: string,
  tls?: ServerTls,
): Promise<LearnerServer> {
  const server = new Server({
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
  });
  server.addService(
    ...strictDecoding(LearnerService, {
      status: tracedUnary(TRACER, 'o2o.v1.Learner/Status', () => statusResponse(state, onlineMode)),
      evaluate: tracedUnary(TRACER, 'o2o.v1.Learner/Evaluate', (req: LearnerEvaluateRequest) =>
        evaluate(state, req),
      ),
    }),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    shutdown: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
