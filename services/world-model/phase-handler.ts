// The world-model phase (PHASE_WORLD_MODEL over NATS): train on the run's dataset (inputs.dataset,
// relative to run_dir) with the spec's world-model settings, save world-model.safetensors and the
// baseline report into the run directory, serve the new model, and report held-out MSE against the
// copy-state and linear baselines.

import { relative } from 'node:path';
import { z } from 'zod';
import type { PhaseContext, PhaseOutcome } from '../../lib/services/phase-worker.ts';
import {
  envField,
  envOptionsField,
  parseSpecJson,
  seedField,
  worldModelFields,
} from '../../lib/services/spec-fields.ts';
import { PathError, resolveInRunRoot } from './paths.ts';
import type { WorldModelState } from './server.ts';
import { MODEL_FILE, type TrainSpec } from './training.ts';

/** The part of the experiment spec this phase reads (loose: the full spec has more sections). */
export const worldModelSpecSchema = z.looseObject({
  // A known id only: it labels the saved model (fuzzing found '../../etc' trained and saved).
  env: envField.optional(),
  envOptions: envOptionsField,
  seed: seedField,
  worldModel: z.looseObject(worldModelFields).prefault({}),
});

export type WorldModelSpec = z.output<typeof worldModelSpecSchema>;

/** An empty spec_json means every default. */
export function parseWorldModelSpec(specJson: string): WorldModelSpec {
  return parseSpecJson(worldModelSpecSchema, specJson === '' ? '{}' : specJson);
}

function inRunDir(runDir: string, rel: string | undefined, field: string): string {
  if (rel === undefined || rel === '') throw new Error(`${field}: missing`);
  try {
    return resolveInRunRoot(runDir, rel, field);
  } catch (e) {
    if (e instanceof PathError) throw new Error(e.message);
    throw e;
  }
}

/** The PhaseHandler for PHASE_WORLD_MODEL, training through the service's state (so it serves the result). */
export function worldModelPhaseHandler(state: WorldModelState) {
  return async (ctx: PhaseContext): Promise<PhaseOutcome> => {
    const spec = parseWorldModelSpec(ctx.request.specJson);
    const wm = spec.worldModel;
    const trainSpec: TrainSpec = {
      datasetPath: inRunDir(ctx.runDir, ctx.request.inputs['dataset'], 'inputs.dataset'),
      ...(spec.env === undefined ? {} : { envId: spec.env }),
      // The run's: a dataset recorded on others fails the phase here, not after training, at the learner.
      envOptions: spec.envOptions ?? {},
      epochs: wm.epochs,
      seed: spec.seed,
      outputPath: inRunDir(ctx.runDir, MODEL_FILE, 'output'),
      ...(wm.batchSize === undefined ? {} : { batchSize: wm.batchSize }),
      ...(wm.lr === undefined ? {} : { lr: wm.lr }),
      model: {
        ...(wm.latentDim === undefined ? {} : { latentDim: wm.latentDim }),
        ...(wm.hidden === undefined
          ? {}
          : { encoderHidden: wm.hidden, decoderHidden: wm.hidden, transitionHidden: wm.hidden }),
      },
    };
    const outcome = await state.train(trainSpec, (p) =>
      ctx.progress({
        step: p.epoch,
        total: p.epochs,
        metrics: { loss: p.loss.total, ...(p.heldOutMse === undefined ? {} : { heldout_mse: p.heldOutMse }) },
        message: `world model epoch ${p.epoch}/${p.epochs}`,
      }),
    );
    return {
      outputs: {
        world_model: relative(ctx.runDir, outcome.modelPath).split('\\').join('/'),
        world_model_report: relative(ctx.runDir, outcome.reportPath).split('\\').join('/'),
      },
      metrics: {
        heldout_mse: outcome.heldoutMse,
        copy_mse: outcome.copyMse,
        linear_mse: outcome.linearMse,
        epochs: outcome.epochsRun,
        best_epoch: outcome.bestEpoch,
        resumed_from_epoch: outcome.resumedFromEpoch,
      },
    };
  };
}
