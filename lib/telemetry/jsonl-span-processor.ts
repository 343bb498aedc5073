// Writes finished spans to a JSONL file. Spans are buffered in memory and appended with one synchronous
// write per flush (every `flushIntervalMs`, when the buffer passes `maxBufferBytes`, on forceFlush and on
// process exit), so a process that calls process.exit() or crashes after a flush loses nothing it had
// flushed, and a single write per batch keeps lines whole even when two processes share one file.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { toSpanRecord } from './span-record.ts';

export interface JsonlSpanProcessorOptions {
  flushIntervalMs?: number;
  maxBufferBytes?: number;
}

export class JsonlSpanProcessor implements SpanProcessor {
  readonly path: string;
  private fd: number | undefined;
  private lines: string[] = [];
  private bufferedBytes = 0;
  private readonly maxBufferBytes: number;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.flushSync();

  constructor(path: string, opts: JsonlSpanProcessorOptions = {}) {
    this.path = path;
    this.maxBufferBytes = opts.maxBufferBytes ?? 256 * 1024;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.timer = setInterval(() => this.flushSync(), opts.flushIntervalMs ?? 500);
    this.timer.unref();
    process.on('exit', this.onExit);
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.fd === undefined) return;
    const line = JSON.stringify(toSpanRecord(span));
    this.lines.push(line);
    this.bufferedBytes += line.length + 1;
    if (this.bufferedBytes >= this.maxBufferBytes) this.flushSync();
  }

  /** Appends everything buffered in one write. */
  flushSync(): void {
    if (this.fd === undefined || this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.bufferedBytes = 0;
    try {
      const bytes = Buffer.from(text, 'utf8');
      // One write() per batch keeps lines whole between processes appending to one file; loop only in
      // the rare case of a short write.
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      process.stderr.write(`[telemetry] could not write spans to ${this.path}: ${(err as Error).message}\n`);
    }
  }

  async forceFlush(): Promise<void> {
    this.flushSync();
  }

  async shutdown(): Promise<void> {
    this.flushSync();
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
