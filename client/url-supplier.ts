/**
 * Supplies the uploaders with (part, MD5, presigned URL) jobs ahead of need.
 *
 * The hashing pass `add`s parts in order as their MD5s become known; the supplier asks the API for
 * MD5-bound URLs in batches (one request in flight at a time, up to 500 parts each) and hands jobs
 * out in part order. A batch is sent when enough parts are pending, or early when the uploaders are
 * about to starve, so the API's round trip overlaps the uploads. `waitForRoom` bounds how far the
 * hashing pass may run ahead, which also keeps fetched URLs from expiring before use.
 *
 * URLs that came with `init` (not bound to an MD5) are used first for their parts, with our own
 * Content-MD5 header added: storage still verifies the bytes, and no extra round trip is needed.
 */
import type { PartUrl, PartUrlResponse } from '../contract/api.js';
import { API_LIMITS } from '../contract/limits.js';
import { md5Base64 } from './etag.js';
import { MpuError } from './errors.js';

export interface PartJob {
  partNumber: number;
  md5: Uint8Array;
  url: string;
  /** Exactly the headers the PUT must send (the server's, plus Content-MD5). */
  headers: Record<string, string>;
  /** When the URL stops working (ms since epoch). */
  expiresAt: number;
}

export type FetchUrls = (parts: { part_number: number; md5: string }[]) => Promise<Pick<PartUrlResponse, 'url_expires_in' | 'parts'>>;

export interface UrlSupplierOptions {
  fetchUrls: FetchUrls;
  /** Unbound URLs from init, valid until `initialExpiresAt`. */
  initialUrls?: readonly PartUrl[];
  initialExpiresAt?: number;
  /** Most parts hashed but not yet taken by an uploader. */
  window: number;
  /** Send a batch once this many parts wait for a URL. */
  batchSize: number;
  /** Send whatever is pending when fewer ready jobs than this remain. */
  lowWater: number;
  /** A URL closer than this to its expiry is not handed out but fetched again. */
  expiryMarginMs: number;
  maxBatch?: number;
  now?: () => number;
}

interface Pending {
  partNumber: number;
  md5: Uint8Array;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class UrlSupplier {
  private readonly opts: Required<Omit<UrlSupplierOptions, 'initialUrls' | 'initialExpiresAt'>>;
  private readonly initial = new Map<number, PartUrl>();
  private readonly initialExpiresAt: number;
  private pending: Pending[] = [];
  private ready: PartJob[] = [];
  private inFlightParts = 0;
  private ended = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private takers: Waiter<PartJob | undefined>[] = [];
  private roomWaiters: Waiter<boolean>[] = [];
  /** Number of /parts requests made (for tests and stats). */
  requests = 0;

  constructor(opts: UrlSupplierOptions) {
    this.opts = { maxBatch: API_LIMITS.maxUrlsPerRequest, now: Date.now, ...opts };
    for (const u of opts.initialUrls ?? []) this.initial.set(u.part_number, u);
    this.initialExpiresAt = opts.initialExpiresAt ?? 0;
  }

  /** Parts accepted and not yet handed out. */
  get outstanding(): number {
    return this.pending.length + this.inFlightParts + this.ready.length;
  }

  /** Resolves true when another part may be added, false once the supplier is closed or failed. */
  waitForRoom(): Promise<boolean> {
    if (this.closed || this.failure) return Promise.resolve(false);
    if (this.outstanding < this.opts.window) return Promise.resolve(true);
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  add(partNumber: number, md5: Uint8Array): void {
    if (this.closed || this.failure) return;
    const now = this.opts.now();
    const init = this.initial.get(partNumber);
    if (init) {
      this.initial.delete(partNumber);
      if (this.initialExpiresAt - now > this.opts.expiryMarginMs) {
        this.pushReady(toJob(init, md5, this.initialExpiresAt));
        this.serveTakers();
        this.maybeFlush();
        return;
      }
    }
    this.pending.push({ partNumber, md5 });
    this.maybeFlush();
  }

  /** No more parts will be added. */
  end(): void {
    this.ended = true;
    this.maybeFlush();
    this.serveTakers();
  }

  /** Stops handing out jobs: waiting and future `take`s get `undefined`, the hashing pass stops. */
  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t.resolve(undefined);
    for (const w of this.roomWaiters.splice(0)) w.resolve(false);
  }

  /** Fails every waiting and future `take` with `error` (e.g. the hashing pass failed). */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    for (const t of this.takers.splice(0)) t.reject(error);
    for (const w of this.roomWaiters.splice(0)) w.resolve(false);
  }

  /** Next job in part order; `undefined` when all parts were handed out (or after `close`). */
  take(): Promise<PartJob | undefined> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.resolve(undefined);
    this.requeueExpiring();
    const job = this.ready.shift();
    if (job) {
      this.afterTake();
      return Promise.resolve(job);
    }
    if (this.isDrained()) return Promise.resolve(undefined);
    const p = new Promise<PartJob | undefined>((resolve, reject) => this.takers.push({ resolve, reject }));
    this.maybeFlush();
    return p;
  }

  /** A fresh MD5-bound URL for one part (its URL expired or was refused). */
  async refresh(job: Pick<PartJob, 'partNumber' | 'md5'>): Promise<PartJob> {
    const jobs = await this.fetch([{ partNumber: job.partNumber, md5: job.md5 }]);
    return jobs[0]!;
  }

  private isDrained(): boolean {
    return this.ended && this.pending.length === 0 && this.inFlightParts === 0 && this.ready.length === 0;
  }

  private afterTake(): void {
    while (this.roomWaiters.length > 0 && this.outstanding < this.opts.window) this.roomWaiters.shift()!.resolve(true);
    this.maybeFlush();
  }

  private requeueExpiring(): void {
    const now = this.opts.now();
    const keep: PartJob[] = [];
    for (const j of this.ready) {
      if (j.expiresAt - now > this.opts.expiryMarginMs) keep.push(j);
      else this.pending.push({ partNumber: j.partNumber, md5: j.md5 });
    }
    if (keep.length !== this.ready.length) {
      this.ready = keep;
      this.pending.sort((a, b) => a.partNumber - b.partNumber);
    }
  }

  private pushReady(job: PartJob): void {
    // Jobs mostly arrive in order; insert from the end to keep `ready` sorted by part number.
    let i = this.ready.length;
    while (i > 0 && this.ready[i - 1]!.partNumber > job.partNumber) i--;
    this.ready.splice(i, 0, job);
  }

  private serveTakers(): void {
    while (this.takers.length > 0 && this.ready.length > 0) {
      this.takers.shift()!.resolve(this.ready.shift()!);
      this.afterTake();
    }
    if (this.isDrained()) for (const t of this.takers.splice(0)) t.resolve(undefined);
  }

  private maybeFlush(): void {
    if (this.inFlightParts > 0 || this.closed || this.failure || this.pending.length === 0) return;
    const urgent =
      this.takers.length > 0 ||
      this.ready.length < this.opts.lowWater ||
      this.ended ||
      // The hashing pass is blocked by parts waiting for URLs: nothing more arrives until we flush.
      this.pending.length >= this.opts.window;
    if (!urgent && this.pending.length < this.opts.batchSize) return;
    const batch = this.pending.splice(0, this.opts.maxBatch);
    this.inFlightParts = batch.length;
    this.fetch(batch).then(
      (jobs) => {
        this.inFlightParts = 0;
        for (const j of jobs) this.pushReady(j);
        this.serveTakers();
        this.maybeFlush();
      },
      (err: unknown) => {
        this.inFlightParts = 0;
        this.fail(err);
      },
    );
  }

  private async fetch(batch: Pending[]): Promise<PartJob[]> {
    this.requests++;
    const res = await this.opts.fetchUrls(batch.map((p) => ({ part_number: p.partNumber, md5: md5Base64(p.md5) })));
    const expiresAt = this.opts.now() + res.url_expires_in * 1000;
    const byPart = new Map(res.parts.map((u) => [u.part_number, u]));
    return batch.map((p) => {
      const u = byPart.get(p.partNumber);
      if (!u) throw new MpuError('bad_response', `the API returned no URL for part ${p.partNumber}`);
      return toJob(u, p.md5, expiresAt);
    });
  }
}

/** The PUT's headers: the server's (which must be sent exactly), plus Content-MD5 if absent. */
function toJob(u: PartUrl, md5: Uint8Array, expiresAt: number): PartJob {
  const headers: Record<string, string> = { ...u.headers };
  const has = Object.keys(headers).some((k) => k.toLowerCase() === 'content-md5');
  if (!has) headers['content-md5'] = md5Base64(md5);
  return { partNumber: u.part_number, md5, url: u.url, headers, expiresAt };
}
