// Load test of the world-model service's Predict path: a real service process (untrained VAE of the
// paper's size, Hopper dims 11/3; weights do not change the cost) and 1, 8, 32 and 128 concurrent
// callers, each sending Predict calls of `rows` rows back to back for a fixed time. The batcher's queue
// is bounded (O2O_WM_MAX_QUEUE), so past some concurrency calls are refused with RESOURCE_EXHAUSTED:
// that is the backpressure working, and it is counted, not hidden. Reported per level: successful calls,
// rows/s, p50/p99 latency of successful calls, rejected calls, any other error status, and the server's
// resident memory (sampled every 200 ms) at the start, its maximum and at the end of the level.
//
// usage: node --import tsx bench/predict-load.ts [--quick] [--json]
//   --quick  1.5 s per level instead of 6 s;  --json  one JSON object on stdout
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { WorldModelClient } from '../generated/proto/o2o/v1/world_model.js';
import { NnRng } from '../lib/nn/index.ts';
import { encodeFloatBatch } from '../lib/services/float-batch.ts';
import { spawnService } from '../lib/services/spawn-service.ts';
import { NativeVaeWorldModel } from '../lib/world-model/native-vae-world-model.ts';
import { StateNormalizer } from '../lib/world-model/normalizer.ts';
import { Vae, type VaeConfigInput } from '../lib/world-model/vae.ts';

export interface PredictLoadOptions {
  callerCounts: number[];
  secondsPerLevel: number;
  rowsPerCall: number;
  /** O2O_WM_MAX_QUEUE of the service (rows). */
  maxQueueRows: number;
  /** O2O_WM_MAX_WAIT_MS of the service (default: the service's, 2 ms). */
  maxWaitMs?: number;
  /** Model widths (default: the paper's). */
  vae?: Partial<VaeConfigInput>;
  obsDim?: number;
  actDim?: number;
  /** HTTP/2 connections the callers share, round robin (default: one per caller, like separate learners). */
  connections?: number;
  /** Deadline of each call (ms). */
  deadlineMs?: number;
  log?: (line: string) => void;
}

export interface PredictLoadLevel {
  callers: number;
  ok: number;
  rejected: number;
  /** Other statuses by name (should stay empty). */
  errors: Record<string, number>;
  rowsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rssStartMb: number;
  rssMaxMb: number;
  rssEndMb: number;
  /** Callers answered by the same model call, averaged over successful calls (dynamic batching at work). */
  meanMergedCallers: number;
}

export interface PredictLoadResult {
  levels: PredictLoadLevel[];
  rowsPerCall: number;
  maxQueueRows: number;
  secondsPerLevel: number;
  connections: number;
  /** Server RSS (MB) once the service is up and after the last level. */
  rssBaselineMb: number;
  rssFinalMb: number;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Calls back with the error, or with null and how many callers the answering model call merged. */
type PredictFn = (callback: (err: ServiceError | null, merged: number) => void) => void;

/** Starts a service with an untrained model, drives each level in turn, stops the service. */
export async function runPredictLoad(opts: PredictLoadOptions): Promise<PredictLoadResult> {
  const log = opts.log ?? (() => {});
  const obsDim = opts.obsDim ?? 11;
  const actDim = opts.actDim ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'o2o-predict-load-'));
  new NativeVaeWorldModel(
    new Vae({ obsDim, actDim, ...opts.vae }, 1),
    new StateNormalizer(new Float32Array(obsDim), new Float32Array(obsDim).fill(1)),
    1,
  ).save(join(root, 'wm.safetensors'));
  const service = await spawnService({
    name: 'world-model',
    main: fileURLToPath(new URL('../services/world-model/main.ts', import.meta.url)),
    env: {
      O2O_RUN_ROOT: root,
      O2O_WM_MODEL: 'wm.safetensors',
      O2O_WM_PHASE_WORKER: 'false',
      O2O_NATS_URL: 'none',
      O2O_WM_MAX_QUEUE: String(opts.maxQueueRows),
      ...(opts.maxWaitMs === undefined ? {} : { O2O_WM_MAX_WAIT_MS: String(opts.maxWaitMs) }),
    },
    readyTimeoutMs: 60_000,
    stopGraceMs: 15_000,
  });
  // Each channel its own connection (grpc-js would otherwise share one per target), with the 1 MiB
  // receive window RemoteWorldModel uses.
  const channels = Array.from(
    { length: opts.connections ?? Math.max(...opts.callerCounts) },
    () =>
      new WorldModelClient(service.address, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc-node.flow_control_window': 1 << 20,
      }),
  );
  const rng = new NnRng(7);
  const rows = opts.rowsPerCall;
  const request = {
    states: encodeFloatBatch(rng.fillNormal(new Float32Array(rows * obsDim)), rows, obsDim),
    actions: encodeFloatBatch(rng.fillNormal(new Float32Array(rows * actDim)), rows, actDim),
    deterministic: true,
  };
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const predictOn =
    (i: number): PredictFn =>
    (cb) =>
      channels[i % channels.length]!.predict(
        request,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, res) => cb(err, res?.mergedCallers ?? 0),
      );
  let merged = 0;
  const call = (fn: PredictFn) =>
    new Promise<ServiceError | null>((resolve) =>
      fn((err, m) => {
        merged += m;
        resolve(err);
      }),
    );
  try {
    await Promise.all(channels.map((_, i) => call(predictOn(i)))); // connect and warm up
    const rssBaselineMb = rssMb(service.pid);
    const levels: PredictLoadLevel[] = [];
    for (const callers of opts.callerCounts) {
      const latencies: number[] = [];
      const errors: Record<string, number> = {};
      let rejected = 0;
      merged = 0;
      const rss = [rssMb(service.pid)];
      const sampler = setInterval(() => rss.push(rssMb(service.pid)), 200);
      const start = performance.now();
      const end = start + opts.secondsPerLevel * 1000;
      await Promise.all(
        Array.from({ length: callers }, async (_, i) => {
          const predict = predictOn(i);
          while (performance.now() < end) {
            const t0 = performance.now();
            const err = await call(predict);
            if (err === null) latencies.push(performance.now() - t0);
            else if (err.code === status.RESOURCE_EXHAUSTED) {
              rejected++;
              // A refused caller backs off briefly, as RemoteWorldModel's callers would before retrying.
              await new Promise((r) => setTimeout(r, 5));
            } else {
              const name = status[err.code] ?? String(err.code);
              errors[name] = (errors[name] ?? 0) + 1;
            }
          }
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      clearInterval(sampler);
      rss.push(rssMb(service.pid));
      latencies.sort((a, b) => a - b);
      const level: PredictLoadLevel = {
        callers,
        ok: latencies.length,
        rejected,
        errors,
        rowsPerSec: (latencies.length * rows) / seconds,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        meanMergedCallers: latencies.length === 0 ? 0 : merged / latencies.length,
        rssStartMb: rss[0]!,
        rssMaxMb: Math.max(...rss),
        rssEndMb: rss[rss.length - 1]!,
      };
      log(
        `${callers} callers: ${level.ok} ok, ${rejected} rejected, p50 ${level.p50Ms.toFixed(1)} ms, RSS max ${level.rssMaxMb.toFixed(0)} MB`,
      );
      levels.push(level);
    }
    return {
      levels,
      rowsPerCall: rows,
      maxQueueRows: opts.maxQueueRows,
      secondsPerLevel: opts.secondsPerLevel,
      connections: channels.length,
      rssBaselineMb,
      rssFinalMb: rssMb(service.pid),
    };
  } finally {
    for (const c of channels) c.close();
    await service.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

export function formatPredictLoad(r: PredictLoadResult): string {
  const head = `Predict load: ${r.rowsPerCall} rows per call, queue bound ${r.maxQueueRows} rows, ${r.connections} connections, ${r.secondsPerLevel} s per level`;
  const lines = [
    head,
    'callers | ok calls | rows/s | p50 ms | p99 ms | merged callers | rejected | other errors | RSS start / max / end MB',
    '---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---',
  ];
  for (const l of r.levels) {
    const other =
      Object.entries(l.errors)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || '—';
    lines.push(
      `${l.callers} | ${l.ok} | ${l.rowsPerSec.toFixed(0)} | ${l.p50Ms.toFixed(1)} | ${l.p99Ms.toFixed(1)} | ${l.meanMergedCallers.toFixed(1)} | ${l.rejected} | ${other} | ${l.rssStartMb.toFixed(0)} / ${l.rssMaxMb.toFixed(0)} / ${l.rssEndMb.toFixed(0)}`,
    );
  }
  lines.push(
    `server RSS: ${r.rssBaselineMb.toFixed(0)} MB after start-up, ${r.rssFinalMb.toFixed(0)} MB at the end`,
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  for (const a of args) {
    if (a !== '--quick' && a !== '--json') {
      console.error(`bench/predict-load: unknown argument '${a}' (expected --quick, --json)`);
      process.exit(2);
    }
  }
  const json = args.includes('--json');
  const result = await runPredictLoad({
    callerCounts: [1, 8, 32, 128],
    secondsPerLevel: args.includes('--quick') ? 1.5 : 6,
    rowsPerCall: 128,
    maxQueueRows: 2048,
    log: (l) => {
      if (!json) console.error(l);
    },
  });
  console.log(json ? JSON.stringify(result) : formatPredictLoad(result));
}
