// NATS subject names and the JetStream stream that carries phase events (proto/o2o/v1/events.proto).
import { Phase } from '../../generated/proto/o2o/v1/events.js';

/** JetStream stream holding phase requests and results (file storage: survives a nats-server restart). */
export const PHASE_STREAM = 'O2O_PHASES';
export const PHASE_SUBJECTS = 'o2o.phase.>';

/** Lower-case subject token of a phase: PHASE_WORLD_MODEL -> "world_model". */
export function phaseToken(phase: Phase): string {
  if (phase === Phase.PHASE_UNSPECIFIED || phase === Phase.UNRECOGNIZED) {
    throw new Error(`no subject for phase ${phase}`);
  }
  return Phase[phase].replace(/^PHASE_/, '').toLowerCase();
}

export const subjects = {
  phaseRequest: (phase: Phase) => `o2o.phase.${phaseToken(phase)}.request`,
  phaseResult: (phase: Phase) => `o2o.phase.${phaseToken(phase)}.result`,
  /** Progress is plain NATS (not in the stream): losing one is harmless. */
  phaseProgress: (phase: Phase) => `o2o.progress.${phaseToken(phase)}`,
  simulatorHeartbeat: 'o2o.sim.heartbeat',
} as const;
