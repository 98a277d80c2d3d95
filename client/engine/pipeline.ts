/**
 * The parts storage lacks, each read once and hashed once: a pool of uploaders takes jobs (a part
 * and an unbound presigned URL) from the URL supplier, reads the part into the slot's buffer,
 * hashes that buffer, sends it with Content-MD5 (send-part.ts: retried by cause until stored) and
 * records the MD5 for the object's ETag check. A source with lazy slices (a browser Blob) is
 * hashed by the Md5Port from the source and sent as its slice: no part bytes enter the page.
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
import { SlotBuffers } from './slot-buffers.js';
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
  /** One part buffer per uploader slot; no bigger than the file (many small files would each hold a part size). */
  private readonly buffers: SlotBuffers;

  private pool: WorkerPool<PartJob> | undefined;

  constructor(private readonly c: PipelineConfig) {
    this.buffers = new SlotBuffers(Math.max(1, Math.min(c.plan.chunkSize, c.plan.fileSize)));
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

    try {
      // A slot retired when the count shrank gives its buffer back.
      this.pool = new WorkerPool((): Promise<PartJob | undefined> => supplier.take(), (job, slot, failed) => this.send(supplier, job, slot, failed), {
        limit: concurrency,
        stop: stop.signal,
        onRetire: (slot) => this.buffers.release(slot),
      });
      await this.pool.run();
    } finally {
      this.pool = undefined;
      supplier.close();
      signal?.removeEventListener('abort', onStop);
      this.buffers.releaseAll();
    }
    if (stop.signal.aborted) throw new InterruptedError(this.c.sessionId, todo.filter((n) => this.c.etags.has(n)).length);
  }

  /** The count grew: start its uploaders now rather than at the next part's end. */
  resize(): void {
    this.pool?.resize();
  }

  /** One part: read and hash once, record the MD5, send until stored. */
  private async send(supplier: UrlSupplier, job: PartJob, slot: number, signal: AbortSignal): Promise<void> {
    const { plan, source, progress, emit } = this.c;
    const n = job.partNumber;
    const size = partSize(plan, n);
    const offset = partOffset(plan, n);
    const read = async (): Promise<ReadPart> => {
      if (source.slice) return { body: source.slice(offset, size), md5: await this.c.md5.ofRange(source, offset, size) };
      const body = await source.read(offset, size, this.buffers.get(slot));
      return { body, md5: await this.c.md5.ofBytes(body) };
    };
    const started = performance.now();
    const part = await read();
    this.c.digests.record(n, part.md5);
    const { etag, attempts } = await sendPart({
      partNumber: n,
      part,
      grant: job,
      renew: () => supplier.refresh(n),
      reread: read,
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
  }
}
