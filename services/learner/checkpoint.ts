// The online checkpoints moved to lib/rl/online-checkpoint.ts (the experiment grid resumes runs with them
// too); this re-export keeps the learner's imports working.
export {
  type LoadedCheckpoint,
  loadOnlineCheckpoint,
  saveOnlineCheckpoint,
} from '../../lib/rl/online-checkpoint.ts';
