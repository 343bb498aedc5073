// What a transition-stream consumer pays per transition, under two sets of consumer settings, side by side
// on ONE actor-mode simulator process (Hopper-v5, 4 envs): rounds alternate the settings, so background
// load hits both alike. Per setting and round: CPU µs per transition of this process (receive, decode,
// ack), of the simulator process, and transitions/s. Two simulators on two cores can only scale ~2× if
// the consumer is cheap against a simulator: the ceiling is 2·sim ÷ (sim + consumer).
//
//   before: 256-row batches, an Ack per batch, HTTP/2's 64 KiB receive window
//   after:  512-row batches, one cumulative Ack per 8 batches, a 1 MiB window (the client's default)
//
// usage: node --import tsx bench/services-sim-consumer.ts [--rounds n] [--seconds s] [--json]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SimulatorClient } from '../services/simulator/client.ts';
import { spawnSimulator } from '../services/simulator/spawn.ts';

interface ConsumerSetting {
  name: string;
  batchRows: number;
  ackEvery: number;
  flowControlWindowBytes: number;
}

const SETTINGS: ConsumerSetting[] = [
  { name: 'before', batchRows: 256, ackEvery: 1, flowControlWindowBytes: 65_535 },
  { name: 'after', batchRows: 512, ackEvery: 8, flowControlWindowBytes: 1 << 20 },
];

export interface ConsumerBenchResult {
  settings: (ConsumerSetting & {
    consumerCpuUsPerTransition: number[];
    simulatorCpuUsPerTransition: number[];
    transitionsPerSec: number[];
    /** 2·sim ÷ (sim + consumer) from the round medians: the 2-simulator scaling this consumer allows. */
    scalingCeiling: number;
  })[];
  secondsPerRound: number;
}

/** User + system CPU µs of a process (Linux /proc; 100 ticks/s). */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function runConsumerBench(rounds: number, seconds: number): Promise<ConsumerBenchResult> {
  const runRoot = mkdtempSync(join(tmpdir(), 'o2o-bench-consumer-'));
  const sim = await spawnSimulator({
    O2O_SIM_ENV: 'Hopper-v5',
    O2O_NATS_URL: 'none',
    O2O_RUN_ROOT: runRoot,
    O2O_SIM_NUM_ENVS: '4',
    O2O_SIM_ID: 'bench-consumer',
  });
  const clients = await Promise.all(
    SETTINGS.map((s) =>
      SimulatorClient.connect(sim.address, { flowControlWindowBytes: s.flowControlWindowBytes }),
    ),
  );
  const samples = SETTINGS.map(() => ({
    consumer: [] as number[],
    sim: [] as number[],
    rate: [] as number[],
  }));
  try {
    // Each stream resumes after the last ack (a new stream replaces the previous consumer).
    let lastAcked = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [k, setting] of SETTINGS.entries()) {
        const client = clients[k]!;
        let rows = 0;
        let received = 0;
        let counting = false;
        let stop = false;
        const loop = (async () => {
          for await (const batch of client.streamTransitions(lastAcked + 1, {
            maxBatchRows: setting.batchRows,
          })) {
            if (counting) rows += batch.rows;
            if (++received % setting.ackEvery === 0 || stop) {
              lastAcked = batch.seq;
              client.ack(batch.seq).catch(() => {});
            }
            if (stop) break;
          }
        })();
        // Warm-up: batches of the previous size still in the window go by first.
        await new Promise((r) => setTimeout(r, 1000));
        counting = true;
        const own0 = process.cpuUsage();
        const sim0 = processCpuUs(sim.pid);
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        const own = process.cpuUsage(own0);
        const simUs = processCpuUs(sim.pid) - sim0;
        const elapsed = (performance.now() - t0) / 1000;
        counting = false;
        stop = true;
        await loop;
        samples[k]!.consumer.push((own.user + own.system) / rows);
        samples[k]!.sim.push(simUs / rows);
        samples[k]!.rate.push(rows / elapsed);
      }
    }
  } finally {
    for (const c of clients) c.close();
    await sim.stop('SIGTERM');
    rmSync(runRoot, { recursive: true, force: true });
  }
  return {
    settings: SETTINGS.map((s, k) => {
      const { consumer, sim: simUs, rate } = samples[k]!;
      const c = median(consumer);
      const p = median(simUs);
      return {
        ...s,
        consumerCpuUsPerTransition: consumer,
        simulatorCpuUsPerTransition: simUs,
        transitionsPerSec: rate,
        scalingCeiling: (2 * p) / (p + c),
      };
    }),
    secondsPerRound: seconds,
  };
}

export function formatConsumerBench(r: ConsumerBenchResult): string {
  const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(' ');
  const lines = [
    `transition-stream consumer cost, one simulator, ${r.secondsPerRound} s per setting and round`,
  ];
  for (const s of r.settings) {
    lines.push(
      `${s.name}: ${s.batchRows}-row batches, ack every ${s.ackEvery}, ${s.flowControlWindowBytes} B window`,
      `  consumer CPU µs/transition   ${list(s.consumerCpuUsPerTransition, 1)}`,
      `  simulator CPU µs/transition  ${list(s.simulatorCpuUsPerTransition, 1)}`,
      `  transitions/s                ${list(s.transitionsPerSec, 0)}`,
      `  2-simulator ceiling 2·sim/(sim+consumer) from medians: ${s.scalingCeiling.toFixed(2)}×`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '2.5' },
      json: { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds: expected a positive integer, got '${values.rounds}'`);
  if (!(seconds > 0)) throw new Error(`--seconds: expected a positive number, got '${values.seconds}'`);
  const result = await runConsumerBench(rounds, seconds);
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${formatConsumerBench(result)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
