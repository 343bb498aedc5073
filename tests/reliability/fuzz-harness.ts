// Shared by the fuzz tests: a seeded generator of malformed messages, raw gRPC calls that send exactly
// the bytes generated (the project's clients would validate them first), the statuses a malformed
// request may legitimately get, and the resident memory of a server process.
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { FloatBatch } from '../../generated/proto/o2o/v1/common.js';
import { Rng } from '../../lib/envs/rng.ts';

/** Requests in total per service (O2O_FUZZ_REQUESTS, default 1000). */
export function fuzzRequestCount(): number {
  const raw = process.env['O2O_FUZZ_REQUESTS'];
  const n = raw === undefined || raw === '' ? 1000 : Number(raw);
  if (!Number.isInteger(n) || n < 10)
    throw new Error(`O2O_FUZZ_REQUESTS: expected an integer >= 10, got '${raw}'`);
  return n;
}

/** Statuses that say "your request was wrong" (or "not now"), each with a message. */
export const REJECTIONS = new Set<status>([
  status.INVALID_ARGUMENT,
  status.RESOURCE_EXHAUSTED,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  status.OUT_OF_RANGE,
]);

export type CallKind = 'unary' | 'server-stream' | 'bidi';

export interface FuzzCase {
  /** Full method path, e.g. /o2o.v1.WorldModel/Predict. */
  path: string;
  kind: CallKind;
  /** One message (unary, server stream) or the messages written to a bidi stream. */
  messages: Buffer[];
  /** What was wrong with it, for failure messages. */
  label: string;
  /** False for inputs that may happen to be valid (random bytes decoding into an acceptable message). */
  mustFail: boolean;
}

export interface CallOutcome {
  code: status;
  details: string;
}

/** The generator's random source (lib/envs Rng, seeded). */
export class FuzzRng {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng.nextDouble() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rng.nextDouble() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
  normal(): number {
    return this.rng.normal();
  }
}

/** A well-formed rows × cols batch of small finite values. */
export function goodBatch(rng: FuzzRng, rows: number, cols: number, scale = 0.1): FloatBatch {
  const v = new Float32Array(rows * cols);
  for (let i = 0; i < v.length; i++) v[i] = scale * rng.normal();
  return { rows, cols, data: Buffer.from(v.buffer) };
}

/**
 * A batch that is wrong in one way the decoder must catch, given the expected shape: byte length not
 * rows·cols·4, wrong columns, a NaN or ±Infinity, no rows, or an absurd row count.
 */
export function badBatch(rng: FuzzRng, rows: number, cols: number): { batch: FloatBatch; label: string } {
  const kind = rng.int(0, 6);
  const b = goodBatch(rng, rows, cols);
  switch (kind) {
    case 0:
      return {
        batch: { ...b, data: b.data.subarray(0, b.data.length - rng.int(1, 4)) },
        label: 'bytes short',
      };
    case 1:
      return {
        batch: { ...b, data: Buffer.concat([b.data, rng.bytes(rng.int(1, 9))]) },
        label: 'bytes over',
      };
    case 2: {
      const c = rng.pick([0, cols + 1, Math.max(0, cols - 1), 0xffff_ffff].filter((x) => x !== cols));
      return { batch: { ...goodBatch(rng, rows, Math.min(c, 64)), cols: c }, label: `cols ${c}` };
    }
    case 3: {
      const v = new Float32Array(b.data.buffer.slice(b.data.byteOffset, b.data.byteOffset + b.data.length));
      v[rng.int(0, v.length - 1)] = rng.pick([
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
      ]);
      return { batch: { ...b, data: Buffer.from(v.buffer) }, label: 'non-finite value' };
    }
    case 4:
      return { batch: { rows: 0, cols, data: Buffer.alloc(0) }, label: 'empty' };
    case 5:
      return { batch: { rows: 0xffff_ffff, cols, data: b.data }, label: 'rows 2^32-1' };
    default:
      return { batch: { rows: rows * 2, cols, data: b.data }, label: 'rows twice the data' };
  }
}

/** Random bytes, or a valid encoding truncated / with bytes flipped (decoding may or may not fail). */
export function garbage(rng: FuzzRng, valid: Buffer): { bytes: Buffer; label: string } {
  const kind = rng.int(0, 2);
  if (kind === 0) return { bytes: rng.bytes(rng.int(1, 256)), label: 'random bytes' };
  if (kind === 1 && valid.length > 1)
    return { bytes: valid.subarray(0, rng.int(1, valid.length - 1)), label: 'truncated' };
  const b = Buffer.from(valid.length > 0 ? valid : rng.bytes(8));
  for (let k = 0; k < 3; k++) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
  return { bytes: b, label: 'bytes flipped' };
}

/** Varint-encoded field `field` = `value` (for uint64 values no generated encoder will write). */
export function varintField(field: number, value: bigint): Buffer {
  const out = [field << 3];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

const identity = (b: Buffer): Buffer => b;

/** A raw client: sends Buffers as they are, so the server sees exactly what the generator made. */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': 256 << 20,
  });
}

export function callRaw(client: Client, c: FuzzCase, deadlineMs = 15_000): Promise<CallOutcome> {
  const deadline = Date.now() + deadlineMs;
  return new Promise((resolve) => {
    const done = (err: ServiceError | null): void =>
      resolve(err === null ? { code: status.OK, details: '' } : { code: err.code, details: err.details });
    if (c.kind === 'unary') {
      client.makeUnaryRequest(
        c.path,
        identity,
        identity,
        c.messages[0]!,
        new Metadata(),
        { deadline },
        (err) => done(err),
      );
      return;
    }
    if (c.kind === 'server-stream') {
      const call = client.makeServerStreamRequest(
        c.path,
        identity,
        identity,
        c.messages[0]!,
        new Metadata(),
        {
          deadline,
        },
      );
      let settled = false;
      const finish = (o: CallOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      // A message means the request was accepted: that is the outcome, the stream is not needed.
      call.on('data', () => {
        finish({ code: status.OK, details: 'streaming' });
        call.cancel();
      });
      call.on('error', (err: ServiceError) => finish({ code: err.code, details: err.details }));
      call.on('end', () => finish({ code: status.OK, details: 'ended' }));
      return;
    }
    const call = client.makeBidiStreamRequest(c.path, identity, identity, new Metadata(), { deadline });
    let settled = false;
    let answers = 0;
    const finish = (o: CallOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    call.on('data', () => {
      answers++;
      if (answers === c.messages.length) {
        finish({ code: status.OK, details: 'all answered' });
        call.end();
      }
    });
    call.on('error', (err: ServiceError) => finish({ code: err.code, details: err.details }));
    call.on('end', () => finish({ code: status.OK, details: 'ended' }));
    for (const m of c.messages) call.write(m);
  });
}

/** Statuses seen per method, and every answer that broke the rules. */
export interface FuzzReport {
  requests: number;
  byMethod: Map<string, Map<string, number>>;
  violations: string[];
}

/** Sends every case (`concurrency` in flight) and checks each answer against the rules. */
export async function runFuzz(client: Client, cases: FuzzCase[], concurrency = 4): Promise<FuzzReport> {
  const report: FuzzReport = { requests: 0, byMethod: new Map(), violations: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const o = await callRaw(client, c);
      report.requests++;
      const method = c.path.slice(c.path.lastIndexOf('/') + 1);
      const counts = report.byMethod.get(method) ?? new Map<string, number>();
      counts.set(status[o.code]!, (counts.get(status[o.code]!) ?? 0) + 1);
      report.byMethod.set(method, counts);
      const ok = o.code === status.OK;
      if (ok && c.mustFail) report.violations.push(`${method} [${c.label}]: accepted (OK)`);
      else if (!ok && !REJECTIONS.has(o.code))
        report.violations.push(`${method} [${c.label}]: ${status[o.code]} ${o.details}`);
      else if (!ok && o.details.trim().length < 8)
        report.violations.push(`${method} [${c.label}]: ${status[o.code]} without a message`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return report;
}

/** A table of the statuses seen, for the test output. */
export function formatReport(service: string, r: FuzzReport): string {
  const lines = [`${service}: ${r.requests} requests`];
  for (const [method, counts] of r.byMethod)
    lines.push(`  ${method.padEnd(18)} ${[...counts].map(([s, n]) => `${s} ${n}`).join(', ')}`);
  return lines.join('\n');
}

/** Resident set size of a process (kB), from /proc. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}
