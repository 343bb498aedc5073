// What the phase handlers need from the process around them, so that main.ts wires real services
// and tests wire real in-process equivalents (an in-process Env, the world-model file).
import type { PhaseRequest } from '../../generated/proto/o2o/v1/events.js';
import type { OnlineEnv } from '../../lib/rl/online.ts';
import type { Td3Agent } from '../../lib/rl/td3.ts';
import type { WorldModel } from '../../lib/world-model/types.ts';
import type { SimulatorDirectory } from './actor-mode.ts';

export interface ClosableWorldModel extends WorldModel {
  close?(): void | Promise<void>;
}

export interface ClosableOnlineEnv extends OnlineEnv {
  close?(): void | Promise<void>;
}

/** What a running phase shows through the learner's Status RPC. */
export interface LearnerStatus {
  runId: string;
  phase: string;
  step: number;
  total: number;
  updatesPerSecond: number;
  lastEvaluation: number | undefined;
  checkpointPath: string;
  /** The agent being trained or last trained (for Evaluate). */
  agent: Td3Agent | undefined;
  envId: string;
  /** The env's options (undefined: its defaults), for Evaluate. */
  envOptions: Record<string, unknown> | undefined;
  /** What the phase is waiting for, e.g. an unreachable world model; '' while all is well. */
  condition: string;
}

export interface ProgressReport {
  step: number;
  total: number;
  metrics: Record<string, number>;
  message: string;
}

export interface PhaseDeps {
  /** Directory every path is confined to (O2O_RUN_ROOT). */
  runRoot: string;
  /**
   * The world model stored at `path` (absolute), for augmentation. `onCondition` hears about outages
   * being waited out (a message, then '' when it answers again).
   */
  openWorldModel(
    path: string,
    seed: number,
    onCondition?: (message: string) => void,
  ): Promise<ClosableWorldModel>;
  /** The environment online training acts in (lockstep: a simulator service of that env and options). */
  openTrainEnv(
    envId: string,
    seed: number,
    envOptions: Record<string, unknown> | undefined,
  ): Promise<ClosableOnlineEnv>;
  /** How PHASE_ONLINE collects transitions: one lockstep env, or simulators acting on their own. */
  onlineMode: 'lockstep' | 'actor';
  /** Actor mode: the live simulators of the env (e.g. from heartbeats); stopped when the phase ends. */
  openSimulatorDirectory?(
    envId: string,
    envOptions: Record<string, unknown> | undefined,
  ): Promise<SimulatorDirectory & { stop(): void }>;
  /** Online steps between checkpoints. */
  checkpointEvery: number;
  /** Offline updates between checkpoints (rounded to whole evaluation intervals). */
  offlineCheckpointEvery: number;
  /** Called often; implementations throttle (e.g. publish on NATS every few seconds). */
  progress(request: PhaseRequest, report: ProgressReport): void;
  /** True once the process was asked to stop: online training checkpoints and gives up, offline gives up. */
  stopping(): boolean;
  status: LearnerStatus;
  log(message: string): void;
}

export interface PhaseOutcome {
  outputs: Record<string, string>;
  metrics: Record<string, number>;
}

export type PhaseHandler = (request: PhaseRequest, deps: PhaseDeps) => Promise<PhaseOutcome>;

/** Thrown when a phase stopped because the process is shutting down (its checkpoint is written). */
export class PhaseInterrupted extends Error {
  constructor(readonly checkpoint: string) {
    super(`interrupted by shutdown; checkpoint at ${checkpoint}`);
    this.name = 'PhaseInterrupted';
  }
}

export function newStatus(): LearnerStatus {
  return {
    runId: '',
    phase: 'idle',
    step: 0,
    total: 0,
    updatesPerSecond: 0,
    lastEvaluation: undefined,
    checkpointPath: '',
    agent: undefined,
    envId: '',
    envOptions: undefined,
    condition: '',
  };
}
