// What a saved world model was trained for: the env id and the env options of the rows it learned from,
// kept in its file's metadata, so that whoever serves or uses the model can say which env it predicts and
// refuse a run on another. A file saved without them (before they were recorded) says nothing, and
// nothing is checked but its dims.
import {
  describeEnv,
  envOptionsJson,
  parseEnvOptionsJson,
  sameEnvOptions,
} from '../envs/env-options-text.ts';

export const WM_ENV_ID_KEY = 'o2o.world_model.env_id';
export const WM_ENV_OPTIONS_KEY = 'o2o.world_model.env_options';

export interface TrainedFor {
  envId: string;
  /** The options of the rows it learned from ({} : the defaults); undefined when the file does not say. */
  envOptions?: Record<string, unknown>;
}

/** The metadata entries that record `envId` and `envOptions` (undefined: the defaults) in a model file. */
export function trainedForMetadata(
  envId: string,
  envOptions: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  return { [WM_ENV_ID_KEY]: envId, [WM_ENV_OPTIONS_KEY]: envOptionsJson(envOptions) };
}

/**
 * From an env id and options as text (envOptionsJson's form), either unset or empty when not recorded;
 * malformed options throw, the message starting with `what`.
 */
export function trainedForFrom(
  envId: string | undefined,
  optionsJson: string | undefined,
  what: string,
): TrainedFor | undefined {
  if (envId === undefined || envId === '') return undefined;
  if (optionsJson === undefined) return { envId };
  return { envId, envOptions: parseEnvOptionsJson(optionsJson, what) };
}

/** What `metadata` (of the file `what`) records, if anything. */
export function trainedForOf(
  metadata: Readonly<Record<string, string>>,
  what: string,
): TrainedFor | undefined {
  const options = metadata[WM_ENV_OPTIONS_KEY];
  return trainedForFrom(metadata[WM_ENV_ID_KEY], options, `${what}: metadata '${WM_ENV_OPTIONS_KEY}'`);
}

/**
 * Throws unless a model trained for `trainedFor` predicts the env a run is on: the same env id and, when
 * the model records them, the same options (the learner's dataset is held to the same rule).
 */
export function checkTrainedFor(
  trainedFor: TrainedFor | undefined,
  envId: string,
  envOptions: Readonly<Record<string, unknown>> | undefined,
  what: string,
): void {
  if (trainedFor === undefined) return;
  if (trainedFor.envId !== envId)
    throw new Error(`${what}: the world model was trained for ${trainedFor.envId}, the run is on ${envId}`);
  if (trainedFor.envOptions !== undefined && !sameEnvOptions(trainedFor.envOptions, envOptions))
    throw new Error(
      `${what}: the world model was trained on rows of ${describeEnv(envId, trainedFor.envOptions)}, the run is on ${describeEnv(envId, envOptions)}`,
    );
}
