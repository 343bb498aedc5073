// Whether the pre-trained critics fit the rows they trained on better than the rest of their source
// dataset: per checked critic, its mean |Q − G| on held-out rows ÷ on training rows. The critic claims
// compare critics with and without augmentation; this says which kind of error they compare.
import type { CriticChecks } from './critic-outcome.ts';
import { formatCount } from './format.ts';
import { taskLabel } from './short-task.ts';
import { percentile } from './stats.ts';

export interface HeldOutGap {
  /** "Hopper-v5 medium-replay-10k p=0.5 seed 3". */
  critic: string;
  augmented: boolean;
  /** Mean |Q − G| on the rows it trained on. */
  trainError: number;
  /** Held-out rows' mean |Q − G| ÷ training rows'. */
  ratio: number;
}

/** One row per seed of every offline series with a held-out check. */
export function heldOutGaps(critic: readonly CriticChecks[]): HeldOutGap[] {
  return critic.flatMap((c) =>
    c.offline.flatMap((s) =>
      s.heldOutBySeed
        .filter((h) => h.train.absError > 0)
        .map((h) => ({
          critic: `${taskLabel(c)} ${s.augmented ? `p=${s.augFraction}` : 'no augmentation'}${s.worldModel === 'vae' ? '' : ` (${s.worldModel})`} seed ${h.seed}`,
          augmented: s.augmented,
          trainError: h.train.absError,
          ratio: h.heldOut.absError / h.train.absError,
        })),
    ),
  );
}

/** A held-out error this much above the training rows' counts as fitting the training rows better. */
export const GAP_THRESHOLD = 1.1;

function spread(gaps: readonly HeldOutGap[]): string {
  const ratios = gaps.map((g) => g.ratio);
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
}

/** The gaps in a paragraph for the critic section; empty when no critic was checked. */
export function describeHeldOutGaps(gaps: readonly HeldOutGap[]): string {
  if (gaps.length === 0) return '';
  const median = percentile(
    gaps.map((g) => g.ratio),
    50,
  );
  const sides = [
    ['without augmentation', gaps.filter((g) => !g.augmented)],
    ['with', gaps.filter((g) => g.augmented)],
  ] as const;
  const bySide = sides
    .filter(([, side]) => side.length > 0)
    .map(([name, side]) => `${name} ${spread(side)}`)
    .join(', ');
  const errors = gaps.map((g) => g.trainError);
  const head =
    `Held-out rows against training rows, critic by critic (${gaps.length}: every checked seed of each ` +
    `task and setting, mean |Q − G| on training rows from ${formatCount(Math.min(...errors))} to ` +
    `${formatCount(Math.max(...errors))}): mean |Q − G| on held-out rows ÷ on training rows, median ` +
    `${median.toFixed(2)}, ${spread(gaps)} (${bySide}).`;
  // The first of the largest ratios, as the ones above the threshold would list it.
  const furthest = gaps.reduce((x, y) => (y.ratio > x.ratio ? y : x));
  const over = gaps.filter((g) => g.ratio > GAP_THRESHOLD).length;
  const verdict =
    over === 0
      ? ` No critic is ${furthest.ratio > 1 ? `more than ${Math.ceil(Math.round((furthest.ratio - 1) * 1e4) / 100)}% ` : ''}further off ` +
        'on rows it did not train on: a critic far from the returns is as far on the rest of the data, so ' +
        'what augmentation lowers is the error of its values everywhere, not a fit to its own rows.'
      : ` ${over} of ${gaps.length} are more than ${Math.round((GAP_THRESHOLD - 1) * 100)}% further ` +
        `off on held-out rows (the furthest: ${furthest.critic}, ×${furthest.ratio.toFixed(2)}).`;
  return (
    `${head}${verdict} The held-out rows are mostly steps of the episodes the training rows came from (the ` +
    "grid's subsets are drawn by transition), their neighbours: the check would show rows memorised, not " +
    'how a critic does on states the data never visited.'
  );
}
