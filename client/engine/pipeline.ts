/**
 * The parts storage lacks, each read once and hashed once: jobs (a part and an unbound presigned
 * URL) come from the URL supplier; each part is read into a buffer of its own and hashed ahead of
 * need (read-ahead.ts), then a pool of uploaders sends it with Content-MD5 (send-part.ts: retried
 * by cause until stored) and records the MD5 for the object's ETag check. A source with lazy
 * slices (a browser Blob) is hashed by the Md5Port from the source and sent as its slice: no part
 * bytes enter the page.
 */
import { partOffset, partSize, type PartPlan } from '../../contract/parts.js';
import { FileMismatchError, InterruptedError } from '../errors.js';
import { normalizeEtag } from '../etag.js';
import type { ProgressTracker } from '../progress.js';
import type { RateLimiter } from '../rate-limit.js';
import type { RetryPolicy } from '../retry.js';
import { WorkerPool } from '../scheduler.js';
import { EXPIRY_MARGIN_MS, UrlSupplier, type FetchUrls, type PartJob } from '../url-supplier.js';
import type { PartUrl } from '../../contract/api.js';
import type { PartDigests } from './digests.js';
import type { Md5Port, PartSource, PartTransport } from './ports.js';
import { reasonOf, sendPart, type ReadPart } from './send-part.js';
import { PartBuffers } from './part-buffers.js';
import { ReadAhead } from './read-ahead.js';
import type { Emit } from './types.js';

export interface PipelineConfig {
  sessionId: string;
  plan: PartPlan;
  source: PartSource;
  /** Each part's MD5 is recorded here as it is read. */
  digests: PartDigests;
  transport: PartTransport;
  md5: Md5Port;
  fetchUrls: FetchUrls;
  /** ETags of the parts storage holds; each part sent is added. */
  etags: Map<number, string>;
  /** Parts in flight now: read after every part and on `resize()` (engine/worker-count.ts). */
  concurrency: () => number;
  /** Parts read and hashed ahead of the uploaders now (engine/worker-count.ts). */
  readAhead: () => number;
  retry: RetryPolicy;
  stallTimeoutMs: number;
  limiter: RateLimiter | undefined;
  progress: ProgressTracker;
  /** Graceful stop: parts in flight finish, then `run` rejects with an InterruptedError. */
  signal: AbortSignal | undefined;
  emit: Emit;
}

export class Pipeline {
  /** Parts and bytes this run stored. */
  partsSent = 0;
  bytesSent = 0;
  /** A buffer per part in flight or read ahead; no bigger than the file (many small files would each hold a part size). */
  private readonly buffers: PartBuffers;

  private pool: WorkerPool<ReadyPart> | undefined;

  constructor(private readonly c: PipelineConfig) {
    this.buffers = new PartBuffers(Math.max(1, Math.min(c.plan.chunkSize, c.plan.fileSize)), () => c.concurrency() + c.readAhead());
  }

  /** Sends the parts `todo` (ascending), using init's unbound URLs where they apply. */
  async run(todo: readonly number[], initialUrls: readonly PartUrl[] = [], initialExpiresAt = 0): Promise<void> {
    if (todo.length === 0) return;
    const { signal } = this.c;
    const { concurrency } = this.c;
    const supplier = new UrlSupplier({ fetchUrls: this.c.fetchUrls, parts: todo, initialUrls, initialExpiresAt, concurrency, partSize: this.c.plan.chunkSize });

    const stop = new AbortController();
    const onStop = () => {
      this.c.emit({ type: 'stopping' });
      stop.abort();
      supplier.close();
    };
    if (signal?.aborted) onStop();
    else signal?.addEventListener('abort', onStop, { once: true });

    const ahead = new ReadAhead(() => this.prepare(supplier), this.c.readAhead);
    try {
      this.pool = new WorkerPool(() => ahead.take(), (part, failed) => this.send(supplier, part, failed), { limit: concurrency, stop: stop.signal });
      await this.pool.run();
    } finally {
      this.pool = undefined;
      supplier.close();
      signal?.removeEventListener('abort', onStop);
      // Parts read ahead but not sent (a stop or a failure): nothing recorded, buffers back once their reads ended.
      for (const p of await ahead.leftovers()) if (p.buffer) this.buffers.give(p.buffer);
      this.buffers.clear();
    }
    if (stop.signal.aborted) throw new InterruptedError(this.c.sessionId, todo.filter((n) => this.c.etags.has(n)).length);
  }

  /** The count grew: start its uploaders now rather than at the next part's end. */
  resize(): void {
    this.pool?.resize();
  }

  /** The next job, its part read into a buffer of its own and hashed. */
  private async prepare(supplier: UrlSupplier): Promise<ReadyPart | undefined> {
    const job = await supplier.take();
    if (!job) return undefined;
    const { plan, source } = this.c;
    const offset = partOffset(plan, job.partNumber);
    const size = partSize(plan, job.partNumber);
    const buffer = source.slice ? undefined : this.buffers.take();
    const read = async (): Promise<ReadPart> => {
      if (!buffer) return { body: source.slice!(offset, size), md5: await this.c.md5.ofRange(source, offset, size) };
      const body = await source.read(offset, size, buffer);
      return { body, md5: await this.c.md5.ofBytes(body) };
    };
    try {
      return { job, size, buffer, read, part: await read() };
    } catch (err) {
      if (buffer) this.buffers.give(buffer);
      throw err;
    }
  }

  /** One part, read and hashed once: record the MD5, send until stored. */
  private async send(supplier: UrlSupplier, ready: ReadyPart, signal: AbortSignal): Promise<void> {
    const { source, progress, emit } = this.c;
    const { job, size } = ready;
    const n = job.partNumber;
    const started = performance.now();
    this.c.digests.record(n, ready.part.md5);
    try {
      const { etag, attempts } = await sendPart({
        partNumber: n,
        part: ready.part,
        grant: job,
        renew: () => supplier.refresh(n),
        reread: ready.read,
        changed: () => new FileMismatchError('file_changed', `${source.name} changed during the upload (part ${n}); not completing session ${this.c.sessionId}`),
        expiryMarginMs: EXPIRY_MARGIN_MS,
        transport: this.c.transport,
        retry: this.c.retry,
        stallTimeoutMs: this.c.stallTimeoutMs,
        limiter: this.c.limiter,
        signal,
        onProgress: (bytes) => progress.update(n, bytes),
        onRefresh: (reason) => emit({ type: 'refresh', part_number: n, reason }),
        onRetry: (r) => emit({ type: 'retry', what: `PUT part ${n}`, part_number: n, attempt: r.attempt, delay_ms: r.delayMs, reason: reasonOf(r.error) }),
      });
      this.c.etags.set(n, etag);
      supplier.stored(size);
      progress.done(n, size);
      this.partsSent++;
      this.bytesSent += size;
      emit({ type: 'part', part_number: n, size, etag: normalizeEtag(etag), attempts, ms: Math.round(performance.now() - started) });
    } finally {
      if (ready.buffer) this.buffers.give(ready.buffer);
    }
  }
}

/** A job whose part was read and hashed, ready to send. */
interface ReadyPart {
  job: PartJob;
  size: number;
  /** The part's buffer (undefined for a lazy slice), given back once the part was sent or failed. */
  buffer: Uint8Array | undefined;
  /** Reads and hashes the part again into the same buffer (storage disputed its MD5). */
  read: () => Promise<ReadPart>;
  part: ReadPart;
}
