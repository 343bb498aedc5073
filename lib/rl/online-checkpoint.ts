// Online-training checkpoints, written atomically: each goes into `<dir>/step-<n>.tmp/`, which is renamed
// to `<dir>/step-<n>/` once complete, and then `<dir>/latest.json` (itself written to a temporary file and
// renamed) is pointed at it. A crash at any moment leaves the previous checkpoint readable.
// Contents: the agent (saveAgent: networks, optimisers, normaliser, smoothing-noise RNG), the replay
// buffer's rows, ring position and sampling RNG, the exploration RNG, counters and the evaluation history.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadAgent, saveAgent } from './agent-checkpoint.ts';
import type { OnlineCheckpointState } from './online.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type { Td3Agent } from './td3.ts';

const word = z.number().int();
const stateSchema = z.object({
  step: z.number().int().nonnegative(),
  episodes: z.number().int().nonnegative(),
  lastEpisodeReturn: z.number().nullable(),
  explorationRng: z.tuple([word, word, word, word]),
  evaluations: z.array(z.object({ step: z.number().int(), result: z.any() })),
  replay: z.object({
    obsDim: z.number().int().positive(),
    actDim: z.number().int().positive(),
    capacity: z.number().int().positive(),
    next: z.number().int().nonnegative(),
    count: z.number().int().nonnegative(),
    rng: z.tuple([word, word, word, word]),
  }),
  /** Free-form facts of the caller (run id, phase, ...). */
  meta: z.record(z.string(), z.string()),
});

export interface LoadedCheckpoint {
  path: string;
  agent: Td3Agent;
  state: OnlineCheckpointState;
  meta: Record<string, string>;
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Writes a checkpoint of step `state.step`; returns its directory. Older checkpoints are removed. */
export function saveOnlineCheckpoint(
  dir: string,
  agent: Td3Agent,
  state: OnlineCheckpointState,
  meta: Record<string, string> = {},
): string {
  mkdirSync(dir, { recursive: true });
  const name = `step-${state.step}`;
  const tmp = join(dir, `${name}.tmp`);
  const final = join(dir, name);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  saveAgent(join(tmp, 'agent.safetensors'), agent, { ...meta, step: String(state.step) });
  const { obs, actions, rewards, nextObs, terminated, ...position } = state.replay.exportState();
  const columns = [obs, actions, rewards, nextObs, terminated];
  const bytes = new Uint8Array(columns.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of columns) {
    bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), offset);
    offset += c.byteLength;
  }
  writeFileSync(join(tmp, 'replay.f32'), bytes);
  const record: z.input<typeof stateSchema> = {
    step: state.step,
    episodes: state.episodes,
    lastEpisodeReturn: state.lastEpisodeReturn ?? null,
    explorationRng: state.explorationRng,
    evaluations: state.evaluations,
    replay: position,
    meta,
  };
  writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(record)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeAtomic(join(dir, 'latest.json'), `${JSON.stringify({ step: state.step, dir: name })}\n`);
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('step-') && entry !== name)
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
  return final;
}

/** The latest complete checkpoint under `dir`, or undefined when there is none. */
export function loadOnlineCheckpoint(dir: string): LoadedCheckpoint | undefined {
  const pointer = join(dir, 'latest.json');
  if (!existsSync(pointer)) return undefined;
  const { dir: name } = z
    .object({ step: z.number(), dir: z.string().regex(/^step-\d+$/) })
    .parse(JSON.parse(readFileSync(pointer, 'utf8')));
  const path = join(dir, name);
  const parsed = stateSchema.safeParse(JSON.parse(readFileSync(join(path, 'state.json'), 'utf8')));
  if (!parsed.success) throw new Error(`${path}/state.json: ${parsed.error.message}`);
  const s = parsed.data;
  const { agent } = loadAgent(join(path, 'agent.safetensors'));
  const raw = readFileSync(join(path, 'replay.f32'));
  const n = s.replay.count;
  const sizes = [n * s.replay.obsDim, n * s.replay.actDim, n, n * s.replay.obsDim, n];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (raw.byteLength !== total * 4) {
    throw new Error(`${path}/replay.f32: ${raw.byteLength} bytes, expected ${total * 4}`);
  }
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const parts: Float32Array[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(all.subarray(at, at + size));
    at += size;
  }
  const [obs, actions, rewards, nextObs, terminated] = parts as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const replay = ReplayBuffer.fromState({ ...s.replay, obs, actions, rewards, nextObs, terminated });
  return {
    path,
    agent,
    meta: s.meta,
    state: {
      step: s.step,
      episodes: s.episodes,
      lastEpisodeReturn: s.lastEpisodeReturn ?? undefined,
      replay,
      explorationRng: s.explorationRng,
      evaluations: s.evaluations,
    },
  };
}
