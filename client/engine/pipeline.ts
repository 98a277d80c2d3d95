/**
 * The pipeline over the parts storage lacks: a hashing pass (part MD5s, in order, a bounded
 * window ahead), the URL supplier (MD5-bound URLs in batches), and a pool of uploaders, each
 * reading its part into its own reused buffer and sending it, retried by cause in one loop
 * (`withRetry`): a fresh URL for an expired one, a re-read for a digest storage disputes,
 * backoff for the rest.
 */
import { partOffset, partSize, type PartPlan } from '../../contract/parts.js';
import { FileMismatchError, IntegrityError, InterruptedError } from '../errors.js';
import { etagMatches, md5Hex, normalizeEtag, sameBytes } from '../etag.js';
import type { ProgressTracker } from '../progress.js';
import type { RateLimiter } from '../rate-limit.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { runPool } from '../scheduler.js';
import { UrlSupplier, type FetchUrls, type PartJob } from '../url-supplier.js';
import type { PartUrl } from '../../contract/api.js';
import type { PartDigests } from './digests.js';
import type { Md5Port, PartBody, PartSource, PartTransport } from './ports.js';
import { putPart } from './put-part.js';
import type { Emit } from './types.js';

/** Fresh URLs per part before a refusal counts as final. */
const MAX_REFRESHES = 3;
/** Re-reads per part after storage disputes its MD5 (then plain retries). */
const MAX_REHASHES = 2;
/** A URL closer than this to its expiry is replaced before use. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * How many parts the hashing pass may be ahead of the uploaders: a few rounds of uploads, enough
 * to batch URL requests, little enough that URLs stay fresh.
 */
export function pipelineWindow(concurrency: number): number {
  return Math.max(8, concurrency * 4);
}

export interface PipelineConfig {
  sessionId: string;
  plan: PartPlan;
  source: PartSource;
  digests: PartDigests;
  transport: PartTransport;
  md5: Md5Port;
  fetchUrls: FetchUrls;
  /** ETags of the parts storage holds; each part sent is added. */
  etags: Map<number, string>;
  concurrency: number;
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
  /** One chunk-sized buffer per uploader slot. */
  private readonly buffers: Uint8Array[] = [];

  constructor(private readonly c: PipelineConfig) {}

  /** Sends the parts `todo` (ascending), using init's unbound URLs where they apply. */
  async run(todo: readonly number[], initialUrls: readonly PartUrl[] = [], initialExpiresAt = 0): Promise<void> {
    if (todo.length === 0) return;
    const { concurrency, signal, digests } = this.c;
    const window = pipelineWindow(concurrency);
    const supplier = new UrlSupplier({
      fetchUrls: this.c.fetchUrls,
      initialUrls,
      initialExpiresAt,
      window,
      batchSize: Math.max(4, Math.floor(window / 2)),
      lowWater: concurrency,
      expiryMarginMs: EXPIRY_MARGIN_MS,
    });

    const stop = new AbortController();
    const onStop = () => {
      this.c.emit({ type: 'stopping' });
      stop.abort();
      supplier.close();
    };
    if (signal?.aborted) onStop();
    else signal?.addEventListener('abort', onStop, { once: true });

    const hashing = (async () => {
      for (const n of todo) {
        if (!(await supplier.waitForRoom())) break;
        supplier.add(n, await digests.of(n));
      }
      supplier.end();
    })();
    hashing.catch((err: unknown) => supplier.fail(err));

    try {
      await runPool(() => supplier.take(), (job, slot, failed) => this.send(supplier, job, slot, failed), { concurrency, stop: stop.signal });
    } catch (err) {
      supplier.close();
      await hashing.catch(() => undefined);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onStop);
    }
    await hashing;
    if (stop.signal.aborted) throw new InterruptedError(this.c.sessionId, todo.filter((n) => this.c.etags.has(n)).length);
  }

  /** One part: read once, then PUT until stored, retried by cause. */
  private async send(supplier: UrlSupplier, first: PartJob, slot: number, signal: AbortSignal): Promise<void> {
    const { plan, source, progress, emit } = this.c;
    const n = first.partNumber;
    const size = partSize(plan, n);
    const offset = partOffset(plan, n);
    const read = async (): Promise<PartBody> => {
      // A lazy slice (browser Blob) is sent as is: the page never holds the part's bytes.
      if (source.slice) return source.slice(offset, size);
      // No bigger than the file: a run of many small files would otherwise hold a part-size buffer each.
      const buf = (this.buffers[slot] ??= new Uint8Array(Math.max(1, Math.min(plan.chunkSize, plan.fileSize))));
      return source.read(offset, size, buf);
    };
    let body = await read();
    let job = first;
    let attempts = 0;
    const started = performance.now();
    const etag = await withRetry(
      async (attempt) => {
        attempts = attempt;
        const etag = await putPart(this.c.transport, {
          partNumber: n,
          url: job.url,
          headers: job.headers,
          body,
          signal,
          stallTimeoutMs: this.c.stallTimeoutMs,
          onProgress: (bytes) => progress.update(n, bytes),
          limiter: this.c.limiter,
          urlExpiresAt: job.expiresAt,
        });
        if (!etagMatches(etag, job.md5)) {
          throw new IntegrityError(`storage stored part ${n} with ETag ${normalizeEtag(etag)}, but its MD5 is ${md5Hex(job.md5)}`);
        }
        return etag;
      },
      this.c.retry,
      {
        signal,
        refresh: {
          limit: MAX_REFRESHES,
          run: async (err) => {
            emit({ type: 'refresh', part_number: n, reason: reasonOf(err) });
            job = await supplier.refresh(job);
          },
        },
        rehash: {
          limit: MAX_REHASHES,
          // The bytes sent do not match the MD5 the hashing pass saw: did the file change?
          run: async () => {
            body = await read();
            const md5 = body instanceof Uint8Array ? await this.c.md5.ofBytes(body) : await this.c.md5.ofRange(source, offset, size);
            if (!sameBytes(md5, job.md5)) {
              throw new FileMismatchError('file_changed', `${source.name} changed during the upload (part ${n}); not completing session ${this.c.sessionId}`);
            }
          },
        },
        onRetry: (r) => emit({ type: 'retry', what: `PUT part ${n}`, part_number: n, attempt: r.attempt, delay_ms: r.delayMs, reason: reasonOf(r.error) }),
        beforeRetry: async () => {
          if (job.expiresAt - Date.now() < EXPIRY_MARGIN_MS) job = await supplier.refresh(job);
        },
      },
    );
    this.c.etags.set(n, etag);
    progress.done(n, size);
    this.partsSent++;
    this.bytesSent += size;
    emit({ type: 'part', part_number: n, size, etag: normalizeEtag(etag), attempts, ms: Math.round(performance.now() - started) });
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
