// World-model training that survives interruptions: the trainer's whole state is saved to one file every
// few epochs and when a stop is requested, and a later call for the same data and options picks it up and
// ends with the same weights, bit for bit. Shared by `o2o experiment` / `o2o train` and the world-model
// service.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { readSafetensorsMetadata } from '../nn/index.ts';
import type { WorldModelTrainer } from './train.ts';

/** Epochs between saves of the training state (besides the save on a stop request). */
export const TRAINING_STATE_EVERY_EPOCHS = 10;

/** Metadata entry: training seconds spent up to the save, across resumes. */
const SECONDS_KEY = 'o2o.wm_train.seconds';

export interface ResumedTraining {
  trainer: WorldModelTrainer;
  /** Training seconds the saved state had cost (0 when starting afresh). */
  earlierSeconds: number;
}

/**
 * A trainer continued from the state saved in `file`, or a fresh one when there is none or it does not fit
 * (other data or options, unreadable): `log` then says why, and the file is overwritten by the next save.
 */
export function resumeTraining(
  newTrainer: () => WorldModelTrainer,
  file: string,
  log: (line: string) => void,
): ResumedTraining {
  const trainer = newTrainer();
  if (!existsSync(file)) return { trainer, earlierSeconds: 0 };
  try {
    trainer.restore(file);
    const seconds = Number(readSafetensorsMetadata(file)[SECONDS_KEY]);
    log(`[world model] resuming at epoch ${trainer.epochsDone}/${trainer.options.epochs} from ${file}`);
    return { trainer, earlierSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : 0 };
  } catch (err) {
    log(`[world model] not resuming from ${file}: ${(err as Error).message}; training from the start`);
    // restore() changes nothing when it refuses a file; a fresh trainer makes that independent of it.
    return { trainer: newTrainer(), earlierSeconds: 0 };
  }
}

export interface CheckpointedTrainingOptions {
  earlierSeconds?: number;
  /** Polled before every epoch: true saves the state and returns 'stopped'. */
  shouldStop?: () => boolean;
  /** Awaited after every epoch (an async caller yields to its event loop here, so signals get through). */
  pause?: () => Promise<void>;
}

/**
 * Runs the trainer to its end, saving its state to `file` every TRAINING_STATE_EVERY_EPOCHS epochs and on a
 * stop. The file is left in place when training finishes: remove it (`discardTrainingState`) once the
 * model is saved, so that a crash in between still finds it.
 */
export async function trainWithCheckpoints(
  trainer: WorldModelTrainer,
  file: string,
  options: CheckpointedTrainingOptions = {},
): Promise<'finished' | 'stopped'> {
  const started = performance.now();
  const seconds = () => (options.earlierSeconds ?? 0) + (performance.now() - started) / 1000;
  const save = () => {
    mkdirSync(dirname(file), { recursive: true });
    trainer.save(file, { [SECONDS_KEY]: String(seconds()) });
  };
  while (!trainer.finished) {
    if (options.shouldStop?.()) {
      save();
      return 'stopped';
    }
    trainer.runEpoch();
    if (trainer.epochsDone % TRAINING_STATE_EVERY_EPOCHS === 0 && !trainer.finished) save();
    await options.pause?.();
  }
  return 'finished';
}

export function discardTrainingState(file: string): void {
  rmSync(file, { force: true });
}
