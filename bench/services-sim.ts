// Simulator service benchmark (real processes on loopback):
//   actor:    transitions/s streamed in actor mode by 1 and by 2 simulator PROCESSES (Hopper-v5, uniform
//             random actions, num_envs each), consumed by this process, which decodes every batch and
//             acks every 8th (cumulative); the 2-vs-1 ratio is the scaling figure (target ≥ 1.8×; on 2
//             cores that needs the consumer's CPU per transition ≤ ~1/9 of a simulator's, reported).
// usage: npm run bench:services-sim -- [--quick] [--json] [--num-envs n] [--batch-steps n] [--ack-every n]
//   lockstep: steps/s of one simulator driven step by step from here, with unary Step calls and with
//             the bidirectional Lockstep stream, next to an in-process VectorEnv doing the same steps.
// The machine is shared, so only the side-by-side ratios of one run mean much.
//
//   --quick  shorter windows (under 30 s once the processes are up)
//   --json   print one JSON object instead of the table
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng, VectorEnv } from '../lib/envs/index.ts';
import { SimulatorClient } from '../services/simulator/client.ts';
import { SimulatorEngine } from '../services/simulator/engine.ts';
import { type SpawnedSimulator, spawnSimulator } from '../services/simulator/spawn.ts';

export interface SimBenchOptions {
  quick?: boolean;
  envId?: string;
  /** Sub-envs per simulator in actor mode. */
  numEnvs?: number;
  /** Vector steps per transition batch. */
  batchSteps?: number;
  /** The consumer acks every n-th batch (cumulative). */
  ackEvery?: number;
  /** Progress lines on stderr. */
  log?: (message: string) => void;
}

export interface SimBenchResult {
  envId: string;
  numEnvs: number;
  batchSteps: number;
  seconds: number;
  /** Wall time until all three simulator processes answered (tsx start-up dominates). */
  startupSeconds: number;
  actor: {
    oneProcess: number;
    twoProcesses: number;
    ratio: number;
    /** Transitions per CPU-second of the simulator processes (1 and 2 processes). */
    perCpuSecondOne: number;
    perCpuSecondTwo: number;
    batchesAcked: number;
    /** The same actor loop in the bench process, batches acked directly (no gRPC, no second process). */
    inProcessProducer: number;
    /**
     * CPU microseconds per transition: of this process as the consumer (receive, decode, ack) with 1 and
     * 2 simulators, of a simulator process (env steps + batching + gRPC), of the actor loop in-process
     * without gRPC, and of the bare VectorEnv.step calls. Two simulators on two cores reach 1.8× only
     * if the consumer costs little against a simulator: 2·sim ÷ (sim + consumer) ≥ 1.8.
     */
    cpuUsPerTransition: {
      consumerOne: number;
      consumerTwo: number;
      simulator: number;
      inProcessProducer: number;
      envStep: number;
    };
    /** Batches acknowledged with one Ack call (cumulative acks). */
    ackEvery: number;
    /** 2-process ÷ 1-process rate of each round (rounds alternate 1 and 2 processes), for the spread. */
    roundRatios: number[];
  };
  lockstep: { unaryStepsPerSec: number; streamStepsPerSec: number; inProcessStepsPerSec: number };
}

/** User + system CPU seconds a process has used so far (Linux /proc), or NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** sysconf(_SC_CLK_TCK) is 100 on every Linux we run on. */
const CLOCK_TICKS = 100;

interface StreamMeasure {
  rowsPerSec: number;
  batches: number;
  /** Transitions per CPU-second of the simulator processes: flat from 1 to 2 processes = no overhead. */
  rowsPerCpuSec: number;
  /** CPU µs of this process (the consumer) per transition received. */
  consumerCpuUsPerRow: number;
}

/** CPU seconds this process has used (all threads). */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Streams from every client at once for `seconds` (after a warm-up), acking every `ackEvery`-th batch
 * (an ack releases every batch up to its seq). Only batches produced after the window opened count
 * towards the rate: a simulator that idled with a full window of unacked batches would otherwise
 * deliver that backlog in a burst and inflate it (seq of the newest batch = stepsTotal / batchSteps).
 */
async function streamRate(
  clients: SimulatorClient[],
  pids: number[],
  warmupS: number,
  seconds: number,
  ackEvery: number,
  batchSteps: number,
): Promise<StreamMeasure> {
  let counting = false;
  let stop = false;
  let rows = 0;
  let rowsReceived = 0;
  let batches = 0;
  const freshFrom = clients.map(() => Number.POSITIVE_INFINITY);
  const loops = clients.map(async (client, i) => {
    for await (const batch of client.streamTransitions(0)) {
      if (counting) {
        rowsReceived += batch.rows;
        if (batch.seq >= freshFrom[i]!) {
          rows += batch.rows;
          batches++;
        }
      }
      // Not awaited: the window lets the simulator run ahead while the ack travels.
      if (batch.seq % ackEvery === 0) client.ack(batch.seq).catch(() => {});
      if (stop) break;
    }
  });
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  const t0 = performance.now();
  const cpu0 = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const own0 = ownCpuSeconds();
  counting = true;
  const infos = await Promise.all(clients.map((c) => c.info()));
  infos.forEach((info, i) => {
    freshFrom[i] = Math.floor(info.stepsTotal / batchSteps) + 1;
  });
  await new Promise((r) => setTimeout(r, Math.max(0, seconds * 1000 - (performance.now() - t0))));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpu0;
  const own = ownCpuSeconds() - own0;
  counting = false;
  stop = true;
  await Promise.all(loops);
  return {
    rowsPerSec: rows / elapsed,
    batches,
    rowsPerCpuSec: rows / cpu,
    consumerCpuUsPerRow: (own * 1e6) / rowsReceived,
  };
}

/** Transitions/s (and CPU µs each) of a SimulatorEngine's actor loop in this process, acked directly. */
async function inProcessProducerRate(
  envId: string,
  numEnvs: number,
  batchSteps: number,
  warmupS: number,
  seconds: number,
): Promise<{ rowsPerSec: number; cpuUsPerRow: number }> {
  const engine = new SimulatorEngine({
    envId,
    numEnvs,
    simulatorId: 'bench-local',
    incarnation: 1,
    seed: 3,
    windowBatches: 32,
    batchSteps,
  });
  engine.openStream(0);
  const w = engine.window;
  let rows = 0;
  let t0 = 0;
  let cpu0 = 0;
  const start = performance.now();
  let next = 1;
  for (;;) {
    const batch = w.get(next);
    if (batch === undefined) {
      await w.changed();
      continue;
    }
    w.ack(next++);
    const now = performance.now();
    if (t0 === 0 && now - start >= warmupS * 1000) {
      t0 = now;
      cpu0 = ownCpuSeconds();
    } else if (t0 !== 0) rows += batch.rewards.length;
    if (t0 !== 0 && now - t0 >= seconds * 1000) {
      const cpu = ownCpuSeconds() - cpu0;
      await engine.close();
      return { rowsPerSec: rows / ((now - t0) / 1000), cpuUsPerRow: (cpu * 1e6) / rows };
    }
  }
}

/** CPU µs per transition of bare VectorEnv.step calls (numEnvs envs, uniform random actions). */
function envStepCpuUsPerRow(envId: string, numEnvs: number, seconds: number): number {
  const vec = new VectorEnv(envId, { numEnvs });
  vec.reset({ seed: 5 });
  const rng = new Rng(5);
  const { low, high } = vec.singleActionSpace;
  const actions = new Float32Array(numEnvs * vec.actDim);
  const cpu0 = ownCpuSeconds();
  const end = performance.now() + seconds * 1000;
  let steps = 0;
  while (performance.now() < end) {
    for (let k = 0; k < actions.length; k++) {
      const j = k % vec.actDim;
      actions[k] = rng.uniform(low[j]!, high[j]!);
    }
    vec.step(actions);
    steps++;
  }
  const cpu = ownCpuSeconds() - cpu0;
  vec.close();
  return (cpu * 1e6) / (steps * numEnvs);
}

/** Steps/s of `step` over `seconds`, with random actions from a fixed seed. */
async function stepRate(
  actDim: number,
  seconds: number,
  step: (a: Float32Array) => unknown,
): Promise<number> {
  const rng = new Rng(1);
  const action = new Float32Array(actDim);
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < actDim; i++) action[i] = rng.uniform(-1, 1);
    await step(action);
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function runSimBench(options: SimBenchOptions = {}): Promise<SimBenchResult> {
  const quick = options.quick ?? false;
  const envId = options.envId ?? 'Hopper-v5';
  const numEnvs = options.numEnvs ?? 4;
  // 4 envs × 128 steps = 512 rows (~57 KB) per message, one Ack per 8 batches (the simulator's window
  // holds 32): per-message costs (HTTP/2 frames, the Ack RPC) are what the consumer pays most for.
  const batchSteps = options.batchSteps ?? 128;
  const ackEvery = options.ackEvery ?? 8;
  const seconds = quick ? 2 : 8;
  const warmup = quick ? 0.5 : 2;
  const rounds = quick ? 2 : 3;
  const log = options.log ?? (() => {});
  const runRoot = mkdtempSync(join(tmpdir(), 'o2o-bench-sim-'));
  const common = { O2O_SIM_ENV: envId, O2O_NATS_URL: 'none', O2O_RUN_ROOT: runRoot };
  const procs: SpawnedSimulator[] = [];
  const clients: SimulatorClient[] = [];
  try {
    log('starting 3 simulator processes');
    const started = performance.now();
    const actorEnv = {
      ...common,
      O2O_SIM_NUM_ENVS: String(numEnvs),
      O2O_SIM_BATCH_STEPS: String(batchSteps),
    };
    procs.push(
      ...(await Promise.all([
        spawnSimulator({ ...actorEnv, O2O_SIM_ID: 'bench-a', O2O_SEED: '1' }),
        spawnSimulator({ ...actorEnv, O2O_SIM_ID: 'bench-b', O2O_SEED: '2' }),
        spawnSimulator({ ...common, O2O_SIM_ID: 'bench-lockstep', O2O_SIM_NUM_ENVS: '1' }),
      ])),
    );
    for (const p of procs) clients.push(await SimulatorClient.connect(p.address));
    const startupSeconds = (performance.now() - started) / 1000;
    const [a, b, lock] = clients as [SimulatorClient, SimulatorClient, SimulatorClient];

    // Warm-up of the consumer's (and simulators') gRPC stream path: V8 optimises grpc-js, HTTP/2 and
    // protobuf decoding only after many messages; a cold consumer costs several times more per batch.
    log(`warm-up, ${warmup * 3} s`);
    await streamRate(
      [a, b],
      procs.slice(0, 2).map((p) => p.pid),
      0,
      warmup * 3,
      ackEvery,
      batchSteps,
    );

    // Alternating rounds, best of each: the machine is shared and the load shifts under us.
    let one: StreamMeasure | undefined;
    let two: StreamMeasure | undefined;
    let batchesAcked = 0;
    const roundRatios: number[] = [];
    const [pa, pb] = procs as [SpawnedSimulator, SpawnedSimulator];
    for (let round = 0; round < rounds; round++) {
      log(`actor mode, 1 process, ${seconds} s (round ${round + 1}/${rounds})`);
      const m1 = await streamRate([a], [pa.pid], warmup, seconds, ackEvery, batchSteps);
      log(`actor mode, 2 processes, ${seconds} s (round ${round + 1}/${rounds})`);
      const m2 = await streamRate([a, b], [pa.pid, pb.pid], warmup, seconds, ackEvery, batchSteps);
      if (one === undefined || m1.rowsPerSec > one.rowsPerSec) one = m1;
      if (two === undefined || m2.rowsPerSec > two.rowsPerSec) two = m2;
      batchesAcked += m1.batches + m2.batches;
      roundRatios.push(m2.rowsPerSec / m1.rowsPerSec);
    }
    if (one === undefined || two === undefined) throw new Error('no rounds');
    log(`actor producer in this process without gRPC, ${seconds} s`);
    const producer = await inProcessProducerRate(envId, numEnvs, batchSteps, warmup, seconds);
    const envStep = envStepCpuUsPerRow(envId, numEnvs, quick ? 0.5 : 3);

    log(`lockstep, ${seconds / 2} s per variant`);
    const actDim = lock.meta.actDim;
    await lock.reset(0);
    const unary = await stepRate(actDim, seconds / 2, (x) => lock.step(x));
    const session = lock.openLockstep();
    const stream = await stepRate(actDim, seconds / 2, (x) => session.step(x));
    session.close();
    const local = new VectorEnv(envId, { numEnvs: 1 });
    local.reset({ seed: 0 });
    const inProcess = await stepRate(actDim, seconds / 2, (x) => local.step(x));
    local.close();
    return {
      envId,
      numEnvs,
      batchSteps,
      seconds,
      startupSeconds,
      actor: {
        oneProcess: one.rowsPerSec,
        twoProcesses: two.rowsPerSec,
        ratio: two.rowsPerSec / one.rowsPerSec,
        perCpuSecondOne: one.rowsPerCpuSec,
        perCpuSecondTwo: two.rowsPerCpuSec,
        batchesAcked,
        inProcessProducer: producer.rowsPerSec,
        cpuUsPerTransition: {
          consumerOne: one.consumerCpuUsPerRow,
          consumerTwo: two.consumerCpuUsPerRow,
          simulator: 1e6 / one.rowsPerCpuSec,
          inProcessProducer: producer.cpuUsPerRow,
          envStep,
        },
        ackEvery,
        roundRatios,
      },
      lockstep: { unaryStepsPerSec: unary, streamStepsPerSec: stream, inProcessStepsPerSec: inProcess },
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    rmSync(runRoot, { recursive: true, force: true });
  }
}

export function formatSimBench(r: SimBenchResult): string {
  const f = (x: number) => x.toFixed(0).padStart(10);
  return [
    `simulator service: ${r.envId}, actor ${r.numEnvs} envs × ${r.batchSteps} steps per batch, ${r.seconds} s windows` +
      ` (3 processes up in ${r.startupSeconds.toFixed(1)} s)`,
    '',
    'actor mode (transitions/s received and acked)',
    `  1 process  ${f(r.actor.oneProcess)}`,
    `  2 processes${f(r.actor.twoProcesses)}   ratio ${r.actor.ratio.toFixed(2)}× (target ≥ 1.8×; per round ${r.actor.roundRatios.map((x) => x.toFixed(2)).join(' ')})`,
    `  per simulator CPU-second: 1 process ${r.actor.perCpuSecondOne.toFixed(0)}, 2 processes ${r.actor.perCpuSecondTwo.toFixed(0)}` +
      ' (equal: the processes scale until the cores run out)',
    `  in-process producer, no gRPC${f(r.actor.inProcessProducer)}   1 process streams ${(r.actor.oneProcess / r.actor.inProcessProducer).toFixed(2)}× of it`,
    `  CPU µs per transition: consumer ${r.actor.cpuUsPerTransition.consumerOne.toFixed(1)} (1 process) / ${r.actor.cpuUsPerTransition.consumerTwo.toFixed(1)} (2), simulator ${r.actor.cpuUsPerTransition.simulator.toFixed(1)}, actor loop without gRPC ${r.actor.cpuUsPerTransition.inProcessProducer.toFixed(1)}, bare env.step ${r.actor.cpuUsPerTransition.envStep.toFixed(1)}; ack every ${r.actor.ackEvery} batch(es)`,
    '',
    'lockstep, 1 env (steps/s)',
    `  unary Step       ${f(r.lockstep.unaryStepsPerSec)}`,
    `  Lockstep stream  ${f(r.lockstep.streamStepsPerSec)}   ${(r.lockstep.streamStepsPerSec / r.lockstep.unaryStepsPerSec).toFixed(2)}× unary`,
    `  in-process       ${f(r.lockstep.inProcessStepsPerSec)}   ${(r.lockstep.inProcessStepsPerSec / r.lockstep.streamStepsPerSec).toFixed(1)}× stream`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'num-envs': { type: 'string' },
      'batch-steps': { type: 'string' },
      'ack-every': { type: 'string' },
    },
  });
  const int = (flag: 'num-envs' | 'batch-steps' | 'ack-every'): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a positive integer, got '${v}'`);
    return n;
  };
  const numEnvs = int('num-envs');
  const batchSteps = int('batch-steps');
  const ackEvery = int('ack-every');
  const result = await runSimBench({
    ...(numEnvs === undefined ? {} : { numEnvs }),
    ...(batchSteps === undefined ? {} : { batchSteps }),
    ...(ackEvery === undefined ? {} : { ackEvery }),
    quick: values.quick,
    log: (m) => process.stderr.write(`[bench:services-sim] ${m}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${formatSimBench(result)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
