/**
 * The number of uploaders of one run: fixed (`concurrency: N`) or adapted to the link
 * (`'auto'`, concurrency.ts), within the bounds of the options (maximum, memory budget, parts
 * left). It keeps the path the count took (for the result and benchmarks) and reports each change.
 */
import { DEFAULTS, MiB } from '../../contract/limits.js';
import { UsageError } from '../errors.js';
import { ConcurrencyController, type ChangeReason } from './concurrency.js';
import { startingConcurrency } from './start-count.js';

export type ConcurrencySetting = number | 'auto';

export interface WorkerCountChange {
  from: number;
  to: number;
  /** Goodput that decided it, MiB/s (two decimals). */
  mibps: number;
  reason: ChangeReason;
  /** Since the upload started. */
  t_ms: number;
}

export interface ConcurrencySummary {
  mode: 'auto' | 'fixed';
  initial: number;
  final: number;
  max: number;
  /** The network's round trip to the API that set the start ('auto'), when the API reported its own time. */
  rtt_ms?: number;
  /** The count over time (t_ms since the upload started); its first entry is the start. */
  trace: { t_ms: number; n: number }[];
}

/** Refuses what is neither 'auto' nor an integer from 1 to the maximum. */
export function checkConcurrency(v: ConcurrencySetting | undefined, name = 'concurrency'): ConcurrencySetting {
  const s = v ?? DEFAULTS.concurrency;
  if (s === 'auto') return s;
  if (!Number.isInteger(s) || s < 1 || s > DEFAULTS.maxConcurrency) throw new UsageError(`${name} must be 'auto' or an integer from 1 to ${DEFAULTS.maxConcurrency}`);
  return s;
}

export function checkMaxMemory(v: number | undefined): number | undefined {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new UsageError('maxMemory must be a positive number of bytes');
  return v;
}

/** Part buffers that fit in `maxMemory` (at least one: a part cannot be sent with less). */
export function buffersWithin(maxMemory: number, partSize: number): number {
  return Math.max(1, Math.floor(maxMemory / Math.max(1, partSize)));
}

export interface WorkerCountOptions {
  concurrency?: ConcurrencySetting;
  /** Upper bound for 'auto' (default DEFAULTS.maxConcurrency). */
  maxConcurrency?: number;
  /**
   * Bytes of part buffers, in flight and read ahead. Bounds 'auto' (default DEFAULTS.maxMemory);
   * a fixed count only when given, so `concurrency: N` alone means N buffers plus the read-ahead.
   */
  maxMemory?: number;
  partSize: number;
  /** The network's round trip to the API (ms), if known: where 'auto' starts (start-count.ts). */
  rttMs?: number;
  /** false when parts are sent as lazy slices (a browser Blob): no buffers, no memory bound. */
  buffered: boolean;
  /** Parts this run sends. */
  parts: number;
  /** performance.now() when the upload started (trace times are from there). */
  startedAt: number;
  clock?: () => number;
  onChange?: (c: WorkerCountChange) => void;
}

export class WorkerCount {
  readonly mode: 'auto' | 'fixed';
  readonly trace: { t_ms: number; n: number }[] = [];
  private readonly controller: ConcurrencyController | undefined;
  private readonly fixed: number;
  private readonly initial: number;
  private readonly clock: () => number;
  /** Part buffers the memory budget holds (Infinity: unbounded, or no buffers at all). */
  private readonly buffers: number;

  constructor(private readonly o: WorkerCountOptions) {
    this.clock = o.clock ?? (() => performance.now());
    const setting = checkConcurrency(o.concurrency);
    const maxMemory = checkMaxMemory(o.maxMemory);
    const memory = o.buffered ? buffersWithin(maxMemory ?? DEFAULTS.maxMemory, o.partSize) : Infinity;
    const parts = Math.max(1, o.parts);
    if (setting === 'auto') {
      this.buffers = memory;
      const cap = checkConcurrency(o.maxConcurrency ?? DEFAULTS.maxConcurrency, 'maxConcurrency') as number;
      // The read-ahead's buffers come out of the same budget.
      const max = Math.min(cap, Math.max(1, memory - DEFAULTS.readAhead), parts);
      this.mode = 'auto';
      this.controller = new ConcurrencyController({ initial: Math.min(startingConcurrency(o.rttMs), max), max, partSize: o.partSize }, this.clock());
      this.controller.setRemaining(parts);
      this.fixed = 0;
    } else {
      this.mode = 'fixed';
      this.buffers = maxMemory === undefined ? Infinity : memory;
      this.fixed = Math.min(setting, this.buffers, parts);
    }
    this.initial = this.limit;
    this.trace.push({ t_ms: this.since(), n: this.initial });
  }

  get limit(): number {
    return this.controller ? this.controller.limit : this.fixed;
  }

  /** Parts to read ahead of the uploaders now: DEFAULTS.readAhead, less what the budget cannot hold beside the count. */
  get readAhead(): number {
    return Math.max(0, Math.min(DEFAULTS.readAhead, this.buffers - this.limit));
  }

  /** Bytes accepted so far, in flight included. */
  progress(bytesDone: number): void {
    if (this.controller) this.note(this.controller.progress(this.clock(), bytesDone));
  }

  /** A part of `bytes` was stored, `ms` after it began. */
  partDone(bytesDone: number, part: { bytes: number; ms: number }): void {
    if (this.controller) this.note(this.controller.partDone(this.clock(), bytesDone, part));
  }

  /** A PUT is retried for a cause that signals congestion or a bad link. */
  trouble(): void {
    if (this.controller) this.note(this.controller.trouble(this.clock()));
  }

  summary(): ConcurrencySummary {
    const rtt = this.controller && this.o.rttMs !== undefined ? { rtt_ms: Math.round(this.o.rttMs * 10) / 10 } : {};
    return { mode: this.mode, initial: this.initial, final: this.limit, max: Math.max(...this.trace.map((p) => p.n)), ...rtt, trace: this.trace };
  }

  private since(): number {
    return Math.round(this.clock() - this.o.startedAt);
  }

  private note(c: ReturnType<ConcurrencyController['trouble']>): void {
    if (!c) return;
    const t_ms = this.since();
    this.trace.push({ t_ms, n: c.to });
    this.o.onChange?.({ from: c.from, to: c.to, mibps: Math.round((c.bytesPerSec / MiB) * 100) / 100, reason: c.reason, t_ms });
  }
}

/** Sockets a connection pool needs for one upload: the most parts in flight, plus two for API calls. */
export function connectionsFor(o: { concurrency?: ConcurrencySetting; maxConcurrency?: number }): number {
  const s = o.concurrency ?? DEFAULTS.concurrency;
  return (s === 'auto' ? (o.maxConcurrency ?? DEFAULTS.maxConcurrency) : s) + 2;
}

/** Parts in flight for 'auto' on a stream (stream-upload.ts has a fixed count: no adaptive path there). */
export const STREAM_AUTO_CONCURRENCY = 8;

/**
 * A stream's count: N as given (capped by maxMemory only when given), or for 'auto'
 * STREAM_AUTO_CONCURRENCY within the memory budget: a stream holds one buffer per part in flight.
 */
export function streamConcurrency(setting: ConcurrencySetting | undefined, maxMemory: number | undefined, partSize: number): number {
  const s = checkConcurrency(setting);
  checkMaxMemory(maxMemory);
  if (s === 'auto') return Math.min(STREAM_AUTO_CONCURRENCY, buffersWithin(maxMemory ?? DEFAULTS.maxMemory, partSize));
  return maxMemory === undefined ? s : Math.min(s, buffersWithin(maxMemory, partSize));
}
