/**
 * Supplies the uploaders with (part, presigned URL) jobs in part order, ahead of need, in as few
 * API calls as the URL lifetime allows.
 *
 * The URLs are unbound (no MD5 in their signature): an uploader hashes the part once it has read
 * it and sends the MD5 as Content-MD5, which storage verifies whenever it is present. So URLs can
 * be fetched long before the bytes are read: init's first 100, then `/parts` batches sized to
 * what the uploaders can send within most of a URL's lifetime at the rate measured so far, clamped to
 * [100, 500] (fewer only at the end). One batch request is in flight at a time, sent while enough
 * jobs are still ready to cover its round trip, so uploaders do not starve. Jobs close to expiry
 * are not handed out: they go back to the queue and are re-signed together with the next batch.
 */
import type { PartUrl, PartUrlRequest, PartUrlResponse } from '../contract/api.js';
import { API_LIMITS } from '../contract/limits.js';
import { MpuError } from './errors.js';

/** A URL closer than this to its expiry is replaced before use. */
export const EXPIRY_MARGIN_MS = 60_000;
/** Fewest URLs per `/parts` call while that many parts remain: at most one call per 100 parts. */
export const MIN_BATCH = 100;
/** Share of a URL's lifetime (less the margin) a batch is sized to fill at the measured rate. */
const USABLE_SHARE = 0.75;
/** Round trip of a `/parts` call assumed until one was measured. */
const ASSUMED_FETCH_MS = 1000;

export interface PartJob {
  partNumber: number;
  url: string;
  /** Headers the PUT must send for the signature to hold (the uploader adds Content-MD5). */
  headers: Record<string, string>;
  /** When the URL stops working (ms since epoch). */
  expiresAt: number;
}

export type FetchUrls = (parts: PartUrlRequest['parts']) => Promise<Pick<PartUrlResponse, 'url_expires_in' | 'parts'>>;

export interface UrlSupplierOptions {
  fetchUrls: FetchUrls;
  /** The parts to hand out, ascending. */
  parts: readonly number[];
  /** Unbound URLs from init, valid until `initialExpiresAt`. */
  initialUrls?: readonly PartUrl[];
  initialExpiresAt?: number;
  /** Uploaders at work now; read at every decision, so the look-ahead follows a changing count. */
  concurrency: () => number;
  /** Bytes of a part: turns the measured rate into parts. */
  partSize: number;
  expiryMarginMs?: number;
  now?: () => number;
}

/**
 * URLs to ask for in one call: as many parts as the measured rate sends in the usable part of a
 * URL's lifetime, within [MIN_BATCH, maxUrlsPerRequest]; all the rest when they fit in one call
 * and would otherwise leave a tail smaller than MIN_BATCH (a call of its own).
 */
export function batchSize(o: { remaining: number; bytesPerSecond: number; partSize: number; usableMs: number }): number {
  const max = API_LIMITS.maxUrlsPerRequest;
  const affordable = Math.floor((o.bytesPerSecond * Math.max(0, o.usableMs)) / 1000 / Math.max(1, o.partSize));
  const size = Math.min(o.remaining, Math.max(MIN_BATCH, Math.min(max, affordable)));
  return o.remaining <= max && o.remaining - size < MIN_BATCH ? o.remaining : size;
}

/**
 * Ready jobs below which the next batch is asked for: every uploader takes one at once, and the
 * parts sent during two round trips of the call (the rate may rise) must still find theirs.
 */
export function lowWater(o: { concurrency: number; bytesPerSecond: number; partSize: number; fetchMs: number }): number {
  const partsPerSecond = o.bytesPerSecond / Math.max(1, o.partSize);
  return 2 * o.concurrency + Math.ceil((partsPerSecond * 2 * o.fetchMs) / 1000);
}

interface Waiter {
  resolve: (job: PartJob | undefined) => void;
  reject: (err: unknown) => void;
}

export class UrlSupplier {
  private readonly now: () => number;
  private readonly margin: number;
  /** Parts without a usable URL yet, ascending. */
  private unsigned: number[];
  /** Signed jobs not handed out yet, ascending. */
  private ready: PartJob[] = [];
  private fetching = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private takers: Waiter[] = [];
  /** The URL lifetime the API last granted, ms. */
  private lifetimeMs: number | undefined;
  private fetchMs = ASSUMED_FETCH_MS;
  /** Rate measurement: bytes stored since the first job was taken. */
  private startedAt: number | undefined;
  private storedBytes = 0;
  /** `/parts` calls made (tests, stats). */
  requests = 0;

  constructor(private readonly opts: UrlSupplierOptions) {
    this.now = opts.now ?? Date.now;
    this.margin = opts.expiryMarginMs ?? EXPIRY_MARGIN_MS;
    const initial = new Map((opts.initialUrls ?? []).map((u) => [u.part_number, u]));
    const expiresAt = opts.initialExpiresAt ?? 0;
    if (initial.size > 0) this.lifetimeMs = Math.max(0, expiresAt - this.now());
    this.unsigned = [];
    for (const n of opts.parts) {
      const u = initial.get(n);
      if (u) this.ready.push(toJob(u, expiresAt));
      else this.unsigned.push(n);
    }
  }

  /** Bytes per second of the parts stored so far (0 before the first). */
  get rate(): number {
    if (this.startedAt === undefined || this.storedBytes === 0) return 0;
    return this.storedBytes / (Math.max(1, this.now() - this.startedAt) / 1000);
  }

  /** A part of `bytes` was stored (the measured rate sizes the batches). */
  stored(bytes: number): void {
    this.storedBytes += bytes;
  }

  /** Next job in part order; `undefined` once every part was handed out (or after `close`). */
  take(): Promise<PartJob | undefined> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.resolve(undefined);
    this.startedAt ??= this.now();
    this.requeueExpiring();
    const job = this.takers.length === 0 ? this.nextInOrder() : undefined;
    const p = job ? Promise.resolve(job) : this.drained() ? Promise.resolve(undefined) : new Promise<PartJob | undefined>((resolve, reject) => this.takers.push({ resolve, reject }));
    this.maybeFetch();
    return p;
  }

  /** A fresh URL for one part whose URL expired or was refused. */
  async refresh(partNumber: number): Promise<PartJob> {
    const [job] = await this.fetch([partNumber]);
    return job!;
  }

  /** Stops handing out jobs: waiting and future `take`s get `undefined`. */
  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t.resolve(undefined);
  }

  /** The ready job of the lowest part not handed out yet, if it is ready (re-signing may hold it back). */
  private nextInOrder(): PartJob | undefined {
    const head = this.ready[0];
    if (!head || (this.unsigned.length > 0 && this.unsigned[0]! < head.partNumber)) return undefined;
    return this.ready.shift();
  }

  private drained(): boolean {
    return this.ready.length === 0 && this.unsigned.length === 0 && !this.fetching;
  }

  /** Ready jobs too close to expiry go back to the queue, to be re-signed in the next batch. */
  private requeueExpiring(): void {
    const now = this.now();
    const margin = this.marginMs();
    if (this.ready.length === 0 || this.ready[0]!.expiresAt - now > margin) return;
    const stale = this.ready.filter((j) => j.expiresAt - now <= margin).map((j) => j.partNumber);
    this.ready = this.ready.filter((j) => j.expiresAt - now > margin);
    this.unsigned = [...stale, ...this.unsigned].sort((a, b) => a - b);
  }

  /** The margin, or a quarter of a URL's lifetime where URLs live shorter than four margins. */
  private marginMs(): number {
    return Math.min(this.margin, (this.lifetimeMs ?? Infinity) / 4);
  }

  private maybeFetch(): void {
    if (this.fetching || this.closed || this.failure || this.unsigned.length === 0) return;
    const rate = this.rate;
    const { partSize } = this.opts;
    const urgent = this.takers.length > 0 || this.ready.length < lowWater({ concurrency: this.opts.concurrency(), bytesPerSecond: rate, partSize, fetchMs: this.fetchMs });
    if (!urgent) return;
    // The batch is used after the jobs still ready, and the rate may dip: a quarter of the
    // lifetime is kept in reserve, so a batch's last URLs are not re-signed in a call of their own.
    const aheadMs = rate > 0 ? ((this.ready.length * partSize) / rate) * 1000 : 0;
    const usableMs = ((this.lifetimeMs ?? 0) - this.marginMs()) * USABLE_SHARE - aheadMs;
    const batch = this.unsigned.splice(0, batchSize({ remaining: this.unsigned.length, bytesPerSecond: rate, partSize, usableMs }));
    this.fetching = true;
    const t0 = this.now();
    this.fetch(batch).then(
      (jobs) => {
        this.fetching = false;
        this.fetchMs = Math.max(1, this.now() - t0);
        // Re-signed parts come before the queue's rest; the batch itself is ascending.
        this.ready = mergeByPart(this.ready, jobs);
        this.serveTakers();
        this.maybeFetch();
      },
      (error: unknown) => {
        this.fetching = false;
        this.failure = { error };
        for (const t of this.takers.splice(0)) t.reject(error);
      },
    );
  }

  /** After a batch arrived: its jobs are fresh, handed out without an expiry check. */
  private serveTakers(): void {
    while (this.takers.length > 0 && !this.closed) {
      const job = this.nextInOrder();
      if (job) this.takers.shift()!.resolve(job);
      else if (this.drained()) this.takers.shift()!.resolve(undefined);
      else return;
    }
  }

  private async fetch(parts: number[]): Promise<PartJob[]> {
    this.requests++;
    const res = await this.opts.fetchUrls(parts.map((part_number) => ({ part_number })));
    this.lifetimeMs = res.url_expires_in * 1000;
    const expiresAt = this.now() + this.lifetimeMs;
    const byPart = new Map(res.parts.map((u) => [u.part_number, u]));
    return parts.map((n) => {
      const u = byPart.get(n);
      if (!u) throw new MpuError('bad_response', `the API returned no URL for part ${n}`);
      return toJob(u, expiresAt);
    });
  }
}

function toJob(u: PartUrl, expiresAt: number): PartJob {
  return { partNumber: u.part_number, url: u.url, headers: { ...u.headers }, expiresAt };
}

/** Two ascending job lists as one. */
function mergeByPart(a: PartJob[], b: PartJob[]): PartJob[] {
  if (a.length === 0) return b;
  if (b.length === 0 || a[a.length - 1]!.partNumber < b[0]!.partNumber) return [...a, ...b];
  return [...a, ...b].sort((x, y) => x.partNumber - y.partNumber);
}
