// A progress line for long runs: phase, step/total with a bar, steps/s over the last stretch, ETA and
// whatever the caller adds (last evaluation). On a terminal it redraws one line a few times a second;
// otherwise (CI, redirected logs) it prints a plain line every `plainEveryMs`, so logs stay readable.

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Redraw interval on a terminal. */
  redrawMs?: number;
  /** Line interval when the stream is not a terminal. */
  plainEveryMs?: number;
  width?: number;
  /** The step the work resumes from (steps/s counts from here). */
  startStep?: number;
}

export class ProgressLine {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly interval: number;
  private readonly width: number;
  private lastDraw = 0;
  private rateClock = performance.now();
  private rateStep = 0;
  private rate = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.interval = this.tty ? (options.redrawMs ?? 250) : (options.plainEveryMs ?? 30_000);
    this.width = options.width ?? 24;
    this.rateStep = options.startStep ?? 0;
  }

  /** Cheap to call every step: draws only when the interval has passed (or at the last step). */
  update(step: number, note = ''): void {
    const now = performance.now();
    if (now - this.lastDraw < this.interval && step < this.total) return;
    const dt = now - this.rateClock;
    if (dt >= 1000 || this.rate === 0) {
      this.rate = ((step - this.rateStep) * 1000) / Math.max(1, dt);
      this.rateClock = now;
      this.rateStep = step;
    }
    this.lastDraw = now;
    const line = formatProgress(this.label, step, this.total, this.rate, note, this.width);
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the redrawn line so that later output starts on a fresh one. */
  done(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  /** Clears the redrawn line before other output, which then scrolls above it. */
  clear(): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
  }
}

export function formatProgress(
  label: string,
  step: number,
  total: number,
  stepsPerSecond: number,
  note: string,
  width = 24,
): string {
  const frac = total > 0 ? Math.min(1, step / total) : 1;
  const filled = Math.round(frac * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const eta = stepsPerSecond > 0 ? formatDuration((total - step) / stepsPerSecond) : '?';
  const pct = (frac * 100).toFixed(0).padStart(3);
  const tail = note === '' ? '' : `  ${note}`;
  return `[${label}] [${bar}] ${pct}% ${step}/${total}  ${formatRate(stepsPerSecond)}  eta ${eta}${tail}`;
}

/** Steps per second, or for slow steps (world-model epochs) seconds per step, which "0/s" would hide. */
export function formatRate(stepsPerSecond: number): string {
  if (!(stepsPerSecond > 0) || !Number.isFinite(stepsPerSecond)) return '?/s';
  if (stepsPerSecond >= 1) return `${stepsPerSecond.toFixed(0)}/s`;
  return `${(1 / stepsPerSecond).toFixed(1)} s each`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
