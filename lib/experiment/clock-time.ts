// A local time of day (HH:MM, as --stop-at and --built-since take it) as a moment: the next such moment
// for a deadline, the last one for a start.

/**
 * Epoch milliseconds of `hhmm` (local time) today, moved a day on (`next`: the moment must be after `now`)
 * or a day back (`last`: it must not be after `now`).
 */
export function clockTime(hhmm: string, direction: 'next' | 'last', now: Date = new Date()): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const at = new Date(now);
  at.setHours(h, m, 0, 0);
  if (direction === 'next' && at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  if (direction === 'last' && at.getTime() > now.getTime()) at.setDate(at.getDate() - 1);
  return at.getTime();
}
