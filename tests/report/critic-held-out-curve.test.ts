// The held-out check logged during pre-training (critic.jsonl's `heldOut`): on a task whose episodes never
// terminate (HalfCheetah) there are no terminal-ending rows, so it is the only critic diagnostic; the report
// must still show that task's critic, with the curve over updates and the final check from the last row.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../../lib/report/build.ts';
import { heldOutSide } from './fixture-results.ts';
import { checkWellFormed } from './xml-check.ts';

const ENV = 'HalfCheetah-v5';
const UPDATES = [10_000, 20_000];

/** Held-out |Q − G| = (20 + seed) · (1 with augmentation, 10 without) at the last update, half that before. */
function heldOutRow(update: number, augmented: boolean, seed: number) {
  const error = ((augmented ? 1 : 10) * (20 + seed) * update) / UPDATES.at(-1)!;
  return { train: heldOutSide(9_000, error - 1, 300), heldOut: heldOutSide(80_000, error, 300) };
}

function writeEntry(root: string, augFraction: number, seed: number): void {
  const name = augFraction > 0 ? `aug-${augFraction}-seed-${seed}` : `bc-seed-${seed}`;
  const dir = join(root, ENV, 'medium-10k', '_pretrained', name);
  mkdirSync(dir, { recursive: true });
  const dataset = {
    file: 'datasets/HalfCheetah-v5/medium.hdf5',
    kind: 'medium',
    transitions: 10_000,
    by: 'transition',
    subsetSeed: 0,
    sha256: null,
  };
  const key = { env: ENV, dataset, seed, augFraction, offlineSteps: UPDATES.at(-1), evalEvery: UPDATES[0] };
  writeFileSync(join(dir, 'offline.json'), JSON.stringify({ key, finishedAt: 'x', seconds: 1 }));
  const lines = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    lines(UPDATES.map((u) => ({ phase: 'offline', step: u, returnMean: 1000 + seed, normalizedScore: 10 }))),
  );
  writeFileSync(
    join(dir, 'critic.jsonl'),
    lines(
      UPDATES.map((u) => ({
        phase: 'offline',
        update: u,
        vsReturns: null,
        targetShift:
          augFraction > 0
            ? {
                qDifference: { mean: 2, p05: -1, p50: 2, p95: 5 },
                predictionError: { mean: 0.01, p05: 0, p50: 0, p95: 0 },
              }
            : null,
        heldOut: heldOutRow(u, augFraction > 0, seed),
      })),
    ),
  );
}

describe('o2o report: the critic check logged during pre-training', () => {
  let dir: string;
  let built: ReturnType<typeof buildReport>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'o2o-report-held-out-'));
    const results = join(dir, 'results');
    for (const seed of [0, 1, 2]) for (const augFraction of [0, 0.5]) writeEntry(results, augFraction, seed);
    built = buildReport({
      results,
      out: join(dir, 'report'),
      commit: 'test-commit',
      settings: { resamples: 200, seed: 0 },
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows a task without terminal-ending rows, from the logged held-out check and target shift', () => {
    const critic = built.analysis.critic.find((c) => c.env === ENV && c.dataset === 'medium-10k');
    assert.ok(critic, 'the task is in the critic analysis');
    const bySide = (augmented: boolean) => critic.offline.find((s) => s.augmented === augmented)!;
    for (const augmented of [false, true]) {
      const s = bySide(augmented);
      assert.deepEqual(s.seeds, [0, 1, 2]);
      assert.deepEqual([s.q, s.finalBySeed, s.finalOverestimation], [[], [], null], 'no terminal-row data');
      // IQM of three seeds 20, 21, 22 (× 10 without augmentation), half of it at the first update.
      const k = augmented ? 1 : 10;
      assert.deepEqual(
        s.heldOutCurve.heldOut.map((p) => [p.x, p.y]),
        [
          [10_000, 10.5 * k],
          [20_000, 21 * k],
        ],
      );
      assert.deepEqual(
        s.heldOutCurve.monteCarlo.map((p) => p.y),
        [300, 300],
      );
      // The world model's target shift needs no terminal-ending rows either.
      assert.deepEqual(
        s.targetShift.map((p) => [p.x, p.p50]),
        augmented
          ? [
              [10_000, 2],
              [20_000, 2],
            ]
          : [],
      );
      assert.equal(s.finalTargetShift?.qDifference ?? null, augmented ? 2 : null);
      // No critic-held-out.json: the final check is the last logged row.
      assert.equal(s.heldOutError?.heldOut.point, 21 * k);
      assert.equal(s.heldOutBySeed.length, 3);
    }
  });

  it('decides the held-out claim there, and leaves the terminal-row claim unchecked rather than "not run"', () => {
    const ofTask = built.claims.filter((c) => c.env === ENV && c.dataset === 'medium-10k');
    const heldOut = ofTask.find((c) => c.claim.includes('held-out |Q − G|'));
    // Tenfold smaller with augmentation on each of three seeds: the intervals separate.
    assert.equal(heldOut?.verdict, 'holds', heldOut?.text);
    assert.ok(!ofTask.some((c) => c.claim.includes('closer to Monte-Carlo returns offline')));
  });

  it('draws the curve, and no terminal-row figure where there are no such rows', () => {
    const figures = readdirSync(join(dir, 'report', 'figures'));
    const file = `critic-held-out-${ENV}-medium-10k.svg`;
    assert.ok(figures.includes(file), figures.join(', '));
    assert.ok(!figures.includes(`critic-q-${ENV}-medium-10k.svg`));
    const svg = readFileSync(join(dir, 'report', 'figures', file), 'utf8');
    checkWellFormed(svg);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    assert.match(svg, /held-out rows, aug p=0\.5/);
    assert.match(svg, /training rows, no aug/);
    const html = readFileSync(join(dir, 'report', 'index.html'), 'utf8');
    assert.ok(html.includes(file), 'on the page');
  });
});
