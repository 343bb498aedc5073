// Predict throughput of the world-model service against the same model in-process: the paper-sized VAE
// (Hopper dims 11/3, 500-wide encoder/decoder, 300-600-300 transition, latent 12; untrained weights
// cost the same), deterministic predictions at batch 1, 32 and 256, through (a) the in-process
// WorldModel, (b) RemoteWorldModel → a real service process over loopback gRPC with one caller, and
// (c) the same with many concurrent callers (dynamic batching merges them). Modes are interleaved in
// rounds so background load hits them alike; reported: rows/s, p50/p99 latency per call, CPU time per
// call of this process (the caller) and of the service process, and the gRPC / in-process throughput
// ratio (target ≥ 0.7 at batch 256) with its spread over the rounds. On a shared machine the CPU
// figures are the steadier ones: rows per CPU-second of both processes against in-process says what
// the service path costs, whatever the scheduler does.
//
// usage: node --import tsx bench/services-wm.ts [--quick] [--json]
//   --quick  short rounds (< 30 s);  --json  one JSON object on stdout
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { NnRng } from '../lib/nn/index.ts';
import { NativeVaeWorldModel } from '../lib/world-model/native-vae-world-model.ts';
import { StateNormalizer } from '../lib/world-model/normalizer.ts';
import type { WorldModel } from '../lib/world-model/types.ts';
import { Vae } from '../lib/world-model/vae.ts';
import { RemoteWorldModel } from '../services/world-model/client.ts';

const OBS = 11;
const ACT = 3;
export const WM_BENCH_BATCHES = [1, 32, 256] as const;
export const WM_BENCH_TARGET_RATIO_AT_256 = 0.7;

export interface WmBenchRow {
  batch: number;
  mode: 'in-process' | 'grpc' | 'grpc-concurrent';
  callers: number;
  rowsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  calls: number;
  /** CPU time per call of the calling process (ms; user + system, all threads). */
  clientCpuMsPerCall: number;
  /** CPU time per call of the service process (ms; 0 in-process; NaN without Linux /proc). */
  serverCpuMsPerCall: number;
}

export interface WmBenchResult {
  rows: WmBenchRow[];
  /** grpc rows/s ÷ in-process rows/s per batch size (single caller, and concurrent callers). */
  ratios: { batch: number; grpc: number; grpcConcurrent: number }[];
  /** The same ratios per round (rounds interleave the modes), for their spread. */
  roundRatios: { batch: number; grpc: number[]; grpcConcurrent: number[] }[];
  /**
   * Rows per CPU-second (caller + service process) over gRPC ÷ rows per CPU-second in-process: what
   * the service path costs in CPU, insensitive to how busy the machine is.
   */
  cpuRatios: { batch: number; grpc: number; grpcConcurrent: number }[];
  targetRatioAt256: number;
  /** Best of the two gRPC ratios at batch 256 ≥ the target. */
  meetsTarget: boolean;
  concurrentCallers: number;
  secondsPerMeasurement: number;
}

/** User + system CPU seconds a process has used so far (Linux /proc), or NaN elsewhere. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // utime and stime are fields 14 and 15 (1-based), after the parenthesised command name; 100 ticks/s.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Measurement {
  rowsPerSec: number;
  latencies: number[];
  /** CPU seconds used meanwhile by this process and by the service process (0 when none). */
  clientCpuS: number;
  serverCpuS: number;
}

/** Runs `callers` loops of predict calls for `ms`; returns rows/s, per-call latencies and CPU used. */
async function measure(
  model: WorldModel,
  batch: number,
  callers: number,
  ms: number,
  serverPid?: number,
): Promise<Measurement> {
  const rng = new NnRng(batch * 31 + callers);
  const inputs = Array.from({ length: callers }, () => ({
    states: rng.fillNormal(new Float32Array(batch * OBS)),
    actions: rng.fillNormal(new Float32Array(batch * ACT)),
    out: new Float32Array(batch * OBS),
  }));
  const latencies: number[] = [];
  let rows = 0;
  const server0 = serverPid === undefined ? 0 : processCpuSeconds(serverPid);
  const client0 = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    inputs.map(async ({ states, actions, out }) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await model.predictNextStates(states, actions, batch, out, { deterministic: true });
        latencies.push(performance.now() - t0);
        rows += batch;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const client = process.cpuUsage(client0);
  return {
    rowsPerSec: rows / elapsed,
    latencies,
    clientCpuS: (client.user + client.system) / 1e6,
    serverCpuS: serverPid === undefined ? 0 : processCpuSeconds(serverPid) - server0,
  };
}

const WARM_UP_CALLS = 1500;

/** `calls` 1-row deterministic predictions, from `callers` concurrent loops. */
async function warmUp(model: WorldModel, calls: number, callers: number): Promise<void> {
  const states = new Float32Array(OBS);
  const actions = new Float32Array(ACT);
  let left = calls;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      const out = new Float32Array(OBS);
      while (left-- > 0) await model.predictNextStates(states, actions, 1, out, { deterministic: true });
    }),
  );
}

async function spawnService(root: string): Promise<{ child: ChildProcess; address: string }> {
  const main = resolve(import.meta.dirname, '../services/world-model/main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, O2O_RUN_ROOT: root, O2O_WM_MODEL: 'wm.safetensors', O2O_WM_PHASE_WORKER: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const address = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) res((JSON.parse(line) as { address: string }).address);
    });
    child.once('exit', (code) => rej(new Error(`world-model service exited (${code}):\n${err}`)));
  });
  return { child, address };
}

export async function runServicesWmBench(
  options: { quick?: boolean; log?: (line: string) => void } = {},
): Promise<WmBenchResult> {
  const log = options.log ?? (() => {});
  const quick = options.quick === true;
  const rounds = quick ? 3 : 4;
  const perRoundMs = quick ? 300 : 1200;
  const concurrent = 8;
  const root = mkdtempSync(join(tmpdir(), 'o2o-bench-wm-'));
  const model = new NativeVaeWorldModel(
    new Vae({ obsDim: OBS, actDim: ACT }, 1),
    new StateNormalizer(new Float32Array(OBS), new Float32Array(OBS).fill(1)),
    1,
  );
  model.save(join(root, 'wm.safetensors'));
  const service = await spawnService(root);
  const remote = await RemoteWorldModel.connect(service.address, { callTimeoutMs: 30_000 });
  try {
    const servicePid = service.child.pid;
    const modes = [
      { mode: 'in-process', model: model as WorldModel, callers: 1, pid: undefined },
      { mode: 'grpc', model: remote as WorldModel, callers: 1, pid: servicePid },
      { mode: 'grpc-concurrent', model: remote as WorldModel, callers: concurrent, pid: servicePid },
    ] as const;
    // Warm-up: the gRPC path is mostly JavaScript (grpc-js, HTTP/2, protobuf) on both sides and costs
    // several times more per call until V8 has optimised it (~1000 calls; a bare grpc-js echo: 1.9 ms →
    // 0.3 ms of client CPU per call), where the in-process path is mostly BLAS. A long-running learner
    // calls thousands of times, so warm both processes with cheap 1-row calls first; then scratch
    // buffers of every batch size.
    await warmUp(remote, WARM_UP_CALLS, concurrent);
    for (const b of WM_BENCH_BATCHES) for (const m of modes) await measure(m.model, b, m.callers, 100);
    const acc = new Map<
      string,
      { rows: number; seconds: number; latencies: number[]; clientCpuS: number; serverCpuS: number }
    >();
    const roundRatios = WM_BENCH_BATCHES.map((b) => ({
      batch: b as number,
      grpc: [] as number[],
      grpcConcurrent: [] as number[],
    }));
    for (let r = 0; r < rounds; r++) {
      for (const [bi, b] of WM_BENCH_BATCHES.entries()) {
        const rate: Partial<Record<WmBenchRow['mode'], number>> = {};
        for (const m of modes) {
          const res = await measure(m.model, b, m.callers, perRoundMs, m.pid);
          const key = `${b}/${m.mode}`;
          const a = acc.get(key) ?? { rows: 0, seconds: 0, latencies: [], clientCpuS: 0, serverCpuS: 0 };
          a.rows += res.rowsPerSec * (perRoundMs / 1000);
          a.seconds += perRoundMs / 1000;
          a.latencies.push(...res.latencies);
          a.clientCpuS += res.clientCpuS;
          a.serverCpuS += res.serverCpuS;
          acc.set(key, a);
          rate[m.mode] = res.rowsPerSec;
        }
        const rr = roundRatios[bi]!;
        rr.grpc.push(rate.grpc! / rate['in-process']!);
        rr.grpcConcurrent.push(rate['grpc-concurrent']! / rate['in-process']!);
      }
      log(`round ${r + 1}/${rounds} done`);
    }
    const rows: WmBenchRow[] = [];
    for (const b of WM_BENCH_BATCHES)
      for (const m of modes) {
        const a = acc.get(`${b}/${m.mode}`)!;
        const sorted = a.latencies.sort((x, y) => x - y);
        rows.push({
          batch: b,
          mode: m.mode,
          callers: m.callers,
          rowsPerSec: a.rows / a.seconds,
          p50Ms: percentile(sorted, 0.5),
          p99Ms: percentile(sorted, 0.99),
          calls: sorted.length,
          clientCpuMsPerCall: (1000 * a.clientCpuS) / sorted.length,
          serverCpuMsPerCall: (1000 * a.serverCpuS) / sorted.length,
        });
      }
    const rate = (b: number, mode: WmBenchRow['mode']) =>
      rows.find((x) => x.batch === b && x.mode === mode)!.rowsPerSec;
    const ratios = WM_BENCH_BATCHES.map((b) => ({
      batch: b,
      grpc: rate(b, 'grpc') / rate(b, 'in-process'),
      grpcConcurrent: rate(b, 'grpc-concurrent') / rate(b, 'in-process'),
    }));
    // Rows per CPU-millisecond of caller + service: calls / (CPU per call) × batch.
    const perCpu = (b: number, mode: WmBenchRow['mode']) => {
      const row = rows.find((x) => x.batch === b && x.mode === mode)!;
      return b / (row.clientCpuMsPerCall + row.serverCpuMsPerCall);
    };
    const cpuRatios = WM_BENCH_BATCHES.map((b) => ({
      batch: b,
      grpc: perCpu(b, 'grpc') / perCpu(b, 'in-process'),
      grpcConcurrent: perCpu(b, 'grpc-concurrent') / perCpu(b, 'in-process'),
    }));
    const at256 = ratios.find((x) => x.batch === 256)!;
    return {
      rows,
      ratios,
      roundRatios,
      cpuRatios,
      targetRatioAt256: WM_BENCH_TARGET_RATIO_AT_256,
      meetsTarget: Math.max(at256.grpc, at256.grpcConcurrent) >= WM_BENCH_TARGET_RATIO_AT_256,
      concurrentCallers: concurrent,
      secondsPerMeasurement: (rounds * perRoundMs) / 1000,
    };
  } finally {
    remote.close();
    service.child.kill('SIGTERM');
    await new Promise((r) => service.child.once('exit', r));
    rmSync(root, { recursive: true, force: true });
  }
}

export function formatWmBench(r: WmBenchResult): string {
  const lines = [
    'world-model Predict throughput (paper-sized VAE, Hopper dims, deterministic)',
    `${'batch'.padStart(5)}  ${'mode'.padEnd(16)}  ${'callers'.padStart(7)}  ${'rows/s'.padStart(10)}  ${'p50 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}  ${'vs in-process'.padStart(13)}  ${'CPU ms/call: caller'.padStart(19)}  ${'service'.padStart(7)}`,
  ];
  for (const row of r.rows) {
    const base = r.rows.find((x) => x.batch === row.batch && x.mode === 'in-process')!.rowsPerSec;
    lines.push(
      `${String(row.batch).padStart(5)}  ${row.mode.padEnd(16)}  ${String(row.callers).padStart(7)}  ${row.rowsPerSec.toFixed(0).padStart(10)}  ${row.p50Ms.toFixed(3).padStart(8)}  ${row.p99Ms.toFixed(3).padStart(8)}  ${(row.rowsPerSec / base).toFixed(2).padStart(13)}  ${row.clientCpuMsPerCall.toFixed(3).padStart(19)}  ${row.serverCpuMsPerCall.toFixed(3).padStart(7)}`,
    );
  }
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  for (const rr of r.roundRatios)
    lines.push(
      `batch ${rr.batch}: gRPC ÷ in-process per round: 1 caller ${list(rr.grpc)}; ${r.concurrentCallers} callers ${list(rr.grpcConcurrent)}`,
    );
  lines.push(
    `rows per CPU-second (caller + service) ÷ in-process: ${r.cpuRatios.map((c) => `batch ${c.batch} ${c.grpc.toFixed(2)} / ${c.grpcConcurrent.toFixed(2)}`).join(', ')} (1 / ${r.concurrentCallers} callers)`,
  );
  const at256 = r.ratios.find((x) => x.batch === 256)!;
  lines.push(
    `target: gRPC ≥ ${r.targetRatioAt256} × in-process at batch 256: single caller ${at256.grpc.toFixed(2)}, ${r.concurrentCallers} callers ${at256.grpcConcurrent.toFixed(2)} → ${r.meetsTarget ? 'met' : 'NOT met'}`,
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  for (const a of args)
    if (a !== '--quick' && a !== '--json') {
      console.error(`bench/services-wm: unknown argument '${a}' (expected --quick, --json)`);
      process.exit(2);
    }
  const json = args.includes('--json');
  const result = await runServicesWmBench({
    quick: args.includes('--quick'),
    log: (l) => {
      if (!json) console.error(l);
    },
  });
  console.log(json ? JSON.stringify(result) : formatWmBench(result));
}
