// How well the grid's run estimates predict stage times, on the stage times committed under results/: each
// time with an earlier one of its key (env, budgets, kind: run-estimate.ts) is predicted from the times of
// that key finished before it started, by several rules side by side: the median of all of them, the median
// of the latest k, the latest alone. Reported per rule: median |ln(estimate ÷ time)| (0.1: ~10% off), the
// mean ln (below 0: estimates short), and how many times exceeded the estimate × the grid's deadline
// margin (a run the grid would have started and seen cut off).
//
// usage: npm run bench:run-estimate -- [--spec experiments/paper.yaml] [--json]
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { RECENT_TIMES, stageTimings } from '../lib/experiment/run-estimate.ts';
import { DEADLINE_MARGIN, selectRuns } from '../lib/experiment/scheduler.ts';
import { loadSpec } from '../lib/experiment/spec.ts';
import { percentile } from '../lib/report/stats.ts';

const optionsSchema = z.strictObject({
  spec: z.string().min(1).default('experiments/paper.yaml'),
  json: z.boolean().default(false),
});

const RULES: { name: string; predict: (earlier: readonly number[]) => number }[] = [
  { name: 'median of all', predict: (p) => percentile([...p], 50) },
  ...[3, 5, 7].map((k) => ({
    name: `median of latest ${k}${k === RECENT_TIMES ? ' (in use)' : ''}`,
    predict: (p: readonly number[]) => percentile(p.slice(-k), 50),
  })),
  { name: 'latest', predict: (p) => p.at(-1)! },
];

function main(): void {
  const { values } = parseArgs({
    options: { spec: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(`bench:run-estimate: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    process.exit(2);
  }
  const o = parsed.data;
  // Timings without a finish time cannot be ordered: left out.
  const timings = stageTimings(selectRuns(loadSpec(o.spec), []))
    .filter((t) => t.at > 0)
    .sort((a, b) => a.at - b.at);
  const logRatios = RULES.map(() => [] as number[]);
  const cutOff = RULES.map(() => 0);
  for (const t of timings) {
    const started = t.at - t.seconds * 1000;
    const earlier = timings.filter((e) => e.key === t.key && e.at <= started).map((e) => e.seconds);
    if (earlier.length === 0) continue;
    RULES.forEach((rule, i) => {
      const estimate = rule.predict(earlier);
      logRatios[i]!.push(Math.log(estimate / t.seconds));
      if (estimate * DEADLINE_MARGIN < t.seconds) cutOff[i]!++;
    });
  }
  const predicted = logRatios[0]!.length;
  const rows = RULES.map((rule, i) => ({
    rule: rule.name,
    medianAbsLogRatio: Number(percentile(logRatios[i]!.map(Math.abs), 50).toFixed(3)),
    meanLogRatio: Number((logRatios[i]!.reduce((a, b) => a + b, 0) / Math.max(1, predicted)).toFixed(3)),
    beyondMargin: cutOff[i]!,
  }));
  if (o.json) {
    console.log(
      JSON.stringify({ spec: o.spec, timings: timings.length, predicted, margin: DEADLINE_MARGIN, rows }),
    );
    return;
  }
  console.log(
    `${timings.length} stage times in ${o.spec}'s results, ${predicted} with an earlier one of their key`,
  );
  console.log(
    `${'rule'.padEnd(30)} ${'median |ln(est/time)|'.padStart(22)} ${'mean ln'.padStart(8)} ${`> est × ${DEADLINE_MARGIN}`.padStart(14)}`,
  );
  for (const r of rows)
    console.log(
      `${r.rule.padEnd(30)} ${r.medianAbsLogRatio.toFixed(3).padStart(22)} ${r.meanLogRatio.toFixed(3).padStart(8)} ${String(r.beyondMargin).padStart(14)}`,
    );
}

main();
