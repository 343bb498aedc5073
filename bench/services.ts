// bench:services — the services' two throughput targets in one table and one JSON object:
//   world model: gRPC Predict at batch 256 reaches ≥ 70% of in-process predictNextStates rows/s
//     (bench/services-wm.ts, measured side by side in one run);
//   simulators: two actor-mode simulator processes stream ≥ 1.8× the transitions of one
//     (bench/services-sim.ts).
// Usage: npm run bench:services -- [--quick] [--json]
import { parseArgs } from 'node:util';
import { formatSimBench, runSimBench, type SimBenchResult } from './services-sim.ts';
import {
  formatWmBench,
  runServicesWmBench,
  WM_BENCH_TARGET_RATIO_AT_256,
  type WmBenchResult,
} from './services-wm.ts';

export const SIM_TARGET_RATIO = 1.8;

export interface ServicesBenchResult {
  quick: boolean;
  targets: {
    name: string;
    measured: number;
    target: number;
    met: boolean;
    /** The same ratio in each interleaved round of the run (its spread on a shared machine). */
    rounds: number[];
  }[];
  worldModel: WmBenchResult;
  simulator: SimBenchResult;
}

export async function runServicesBench(
  quick: boolean,
  log: (line: string) => void,
): Promise<ServicesBenchResult> {
  // One after the other: both parts load the two cores fully, side by side they would measure each other.
  const worldModel = await runServicesWmBench({ quick, log: (l) => log(`wm: ${l}`) });
  const simulator = await runSimBench({ quick, log: (l) => log(`sim: ${l}`) });
  const at256 = worldModel.ratios.find((r) => r.batch === 256);
  const wmRatio = at256 === undefined ? Number.NaN : Math.max(at256.grpc, at256.grpcConcurrent);
  const rounds256 = worldModel.roundRatios.find((r) => r.batch === 256);
  const wmRounds =
    rounds256 === undefined ? [] : rounds256.grpc.map((g, i) => Math.max(g, rounds256.grpcConcurrent[i]!));
  return {
    quick,
    targets: [
      {
        name: 'world model: gRPC / in-process Predict rows/s at batch 256',
        measured: wmRatio,
        target: WM_BENCH_TARGET_RATIO_AT_256,
        met: wmRatio >= WM_BENCH_TARGET_RATIO_AT_256,
        rounds: wmRounds,
      },
      {
        name: 'simulators: 2 processes / 1 process transitions/s (actor mode)',
        measured: simulator.actor.ratio,
        target: SIM_TARGET_RATIO,
        met: simulator.actor.ratio >= SIM_TARGET_RATIO,
        rounds: simulator.actor.roundRatios,
      },
    ],
    worldModel,
    simulator,
  };
}

export function formatServicesBench(r: ServicesBenchResult): string {
  const width = Math.max(...r.targets.map((t) => t.name.length));
  const lines = [
    `bench:services${r.quick ? ' (quick)' : ''}`,
    '',
    `${'target'.padEnd(width)}  measured    goal  met  per round`,
    ...r.targets.map(
      (t) =>
        `${t.name.padEnd(width)}  ${t.measured.toFixed(2).padStart(7)}×  ≥${t.target.toFixed(2)}×  ${(t.met ? 'yes' : 'NO').padEnd(3)}  ${t.rounds.map((x) => x.toFixed(2)).join(' ')}`,
    ),
    '',
    formatWmBench(r.worldModel),
    '',
    formatSimBench(r.simulator),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const result = await runServicesBench(values.quick, (l) => process.stderr.write(`[bench:services] ${l}\n`));
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${formatServicesBench(result)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
