// Okabe & Ito's colour-blind-safe palette (distinguishable under the common colour-vision deficiencies),
// black last; series beyond it repeat with dashes.

export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

export function colour(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** Neutral grey for reference lines and gridlines. */
export const GREY = '#999999';
export const GRID = '#e5e5e5';
