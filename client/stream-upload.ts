/**
 * Uploading a stream of unknown length (`mpu upload - --name NAME`): the session is opened
 * without a size, the input is cut into parts of one fixed size as it arrives, each part is
 * hashed and sent from its in-memory buffer (engine/send-part.ts: a failed PUT is retried from
 * that buffer, a pipe cannot be read twice) to a URL from the URL supplier (batches, in part
 * order, as for files), and the session is completed with the number of parts read; the API
 * sizes the object from storage and the client checks its ETag against the parts' MD5s.
 *
 * Memory: `concurrency` part buffers, reused; the reader waits for a free one, so a fast pipe
 * and a slow network never hold more than concurrency x part size.
 *
 * A pipe cannot be resumed once the process is gone (its bytes are consumed): any failure or
 * interruption aborts the session, so no parts are left behind in storage.
 */
import type { AbortResponse, CompleteRequest, CompleteResponse, InitRequest, InitResponse, PartUrlRequest, PartUrlResponse } from '../contract/api.js';
import { API_LIMITS, GiB, S3_LIMITS } from '../contract/limits.js';
import { minimumChunkSize } from '../contract/parts.js';
import { IntegrityError, InterruptedError, MpuError, UsageError } from './errors.js';
import { multipartEtagOf, normalizeEtag, concatDigests } from './etag.js';
import type { PartTransport } from './engine/ports.js';
import { reasonOf, sendPart } from './engine/send-part.js';
import type { RetryPolicy } from './retry.js';
import { formatBytes } from './sizes.js';
import { EXPIRY_MARGIN_MS, UrlSupplier } from './url-supplier.js';

/** `--expected-size` when none is given: the part size then fits 100 GiB in 10,000 parts (11 MiB). */
export const DEFAULT_EXPECTED_STREAM_SIZE = 100 * GiB;

export interface StreamApi {
  init(body: InitRequest): Promise<InitResponse>;
  partUrls(sessionId: string, parts: PartUrlRequest['parts']): Promise<PartUrlResponse>;
  /**
   * Completes the session. For a session opened without a size, `parts` (when given) names the
   * object's parts; without it the API takes the parts storage holds, 1..N.
   */
  complete(sessionId: string, parts?: CompleteRequest['parts']): Promise<CompleteResponse>;
  abort(sessionId: string): Promise<AbortResponse>;
}

export interface StreamUploadOptions {
  /** Object name (a base name or a relative path). */
  name: string;
  contentType?: string;
  /** Part size; default: the smallest whole MiB (at least 5 MiB) that fits `expectedSize` in 10,000 parts. */
  chunkSize?: number;
  expectedSize?: number;
  concurrency: number;
  retry: RetryPolicy;
  stallTimeoutMs: number;
  signal?: AbortSignal;
  onSession?: (s: { session_id: string; chunk_size: number; max_size: number }) => void;
  onPart?: (p: { part_number: number; size: number; attempts: number }) => void;
  onRetry?: (what: string, attempt: number, delayMs: number, reason: string) => void;
  /** Bytes read from the input and bytes stored so far. */
  onProgress?: (p: { bytesRead: number; bytesStored: number; partsStored: number }) => void;
}

export interface StreamDeps {
  api: StreamApi;
  transport: PartTransport;
  md5: (data: Uint8Array) => Uint8Array;
}

export interface StreamResult {
  session_id: string;
  file_path: string;
  size: number;
  etag: string;
  parts: number;
  chunk_size: number;
  duration_ms: number;
}

/** The part size for a stream expected to be about `expectedSize` bytes. */
export function streamChunkSize(expectedSize: number = DEFAULT_EXPECTED_STREAM_SIZE): number {
  return minimumChunkSize(expectedSize);
}

export async function uploadStream(input: AsyncIterable<Uint8Array>, o: StreamUploadOptions, deps: StreamDeps): Promise<StreamResult> {
  const t0 = performance.now();
  const chunkSize = o.chunkSize ?? streamChunkSize(o.expectedSize);
  if (chunkSize < S3_LIMITS.minPartSize || chunkSize > S3_LIMITS.maxPartSize) {
    throw new UsageError(`chunk size must be from ${S3_LIMITS.minPartSize} to ${S3_LIMITS.maxPartSize} bytes`);
  }
  const init = await deps.api.init({ filename: o.name, chunk_size: chunkSize, ...(o.contentType ? { content_type: o.contentType } : {}) });
  const sid = init.session_id;
  o.onSession?.({ session_id: sid, chunk_size: init.chunk_size, max_size: init.chunk_size * S3_LIMITS.maxParts });
  // URLs in part order for as many parts as S3 allows: the stream's end is unknown, so the last
  // batch may cover parts never read (unbound URLs cost nothing but the call that brought them).
  const urls = new UrlSupplier({
    fetchUrls: (parts) => deps.api.partUrls(sid, parts),
    parts: Array.from({ length: S3_LIMITS.maxParts }, (_, i) => i + 1),
    initialUrls: init.parts,
    initialExpiresAt: Date.now() + init.url_expires_in * 1000,
    concurrency: () => o.concurrency,
    partSize: init.chunk_size,
  });

  try {
    const sender = new PartSender(sid, init.chunk_size, urls, o, deps);
    const read = await sender.readAll(input).finally(() => urls.close());
    const done = await deps.api.complete(sid, completeParts(read.etags));
    const expected = multipartEtagOf(deps.md5(concatDigests(read.digests)), read.digests.length);
    if (normalizeEtag(done.etag) !== expected) {
      throw new IntegrityError(`storage assembled ${done.file_path} with ETag ${normalizeEtag(done.etag)}, but the parts read give ${expected}`);
    }
    if (done.size !== read.bytes) throw new IntegrityError(`storage assembled ${done.size} bytes, ${read.bytes} were read`);
    return { session_id: sid, file_path: done.file_path, size: done.size, etag: expected, parts: read.parts, chunk_size: init.chunk_size, duration_ms: Math.round(performance.now() - t0) };
  } catch (err) {
    // Nothing can resume a consumed pipe: free the stored parts now rather than at expiry.
    await deps.api.abort(sid).catch(() => undefined);
    if (err instanceof MpuError) err.sessionId ??= sid;
    throw err;
  }
}

/** Part `n` of a stream must be within S3's 10,000: past it, the advice is a bigger part size. */
export function checkPartNumber(n: number, chunkSize: number): void {
  if (n <= S3_LIMITS.maxParts) return;
  throw new UsageError(
    `the input is larger than ${S3_LIMITS.maxParts.toLocaleString('en-US')} parts of ${formatBytes(chunkSize)} (${formatBytes(chunkSize * S3_LIMITS.maxParts)}); ` +
      'give --expected-size (or --chunk-size) big enough for it',
  );
}

/**
 * The parts list for complete when it fits the API's 64 KiB body (about 1,000 parts): the API
 * then checks every ETag before assembling. Longer streams are checked by the object's ETag.
 */
function completeParts(etags: readonly string[]): CompleteRequest['parts'] {
  const parts = etags.map((etag, i) => ({ part_number: i + 1, etag }));
  return JSON.stringify({ parts }).length < API_LIMITS.maxBodyBytes - 1024 ? parts : undefined;
}

/** Cuts the input into parts and sends them, at most `concurrency` at once. */
class PartSender {
  private readonly free: Uint8Array[] = [];
  private readonly waiters: ((b: Uint8Array) => void)[] = [];
  private allocated = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private readonly digests: Uint8Array[] = [];
  private readonly etags: string[] = [];
  private bytesRead = 0;
  private bytesStored = 0;
  private partsStored = 0;

  constructor(
    private readonly sid: string,
    private readonly chunkSize: number,
    private readonly urls: UrlSupplier,
    private readonly o: StreamUploadOptions,
    private readonly deps: StreamDeps,
  ) {}

  async readAll(input: AsyncIterable<Uint8Array>): Promise<{ parts: number; bytes: number; digests: Uint8Array[]; etags: string[] }> {
    let buf = await this.buffer();
    let fill = 0;
    let partNumber = 0;
    const dispatch = (length: number) => {
      partNumber++;
      checkPartNumber(partNumber, this.chunkSize);
      this.launch(partNumber, buf, length);
    };
    for await (const chunk of input) {
      this.check();
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, this.chunkSize - fill);
        buf.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        this.bytesRead += n;
        if (fill === this.chunkSize) {
          dispatch(fill);
          buf = await this.buffer();
          fill = 0;
        }
      }
      this.progress();
    }
    // The last part is whatever is left; an empty input is one empty part (S3 needs one).
    if (fill > 0 || partNumber === 0) dispatch(fill);
    else this.release(buf);
    await Promise.all(this.inFlight);
    this.check();
    return { parts: partNumber, bytes: this.bytesRead, digests: this.digests, etags: this.etags };
  }

  /** A free part buffer; waits while `concurrency` are in use. */
  private async buffer(): Promise<Uint8Array> {
    this.check();
    const b = this.free.pop();
    if (b) return b;
    if (this.allocated < this.o.concurrency) {
      this.allocated++;
      return new Uint8Array(this.chunkSize);
    }
    const got = await new Promise<Uint8Array>((resolve) => this.waiters.push(resolve));
    this.check();
    return got;
  }

  private release(b: Uint8Array): void {
    const w = this.waiters.shift();
    if (w) w(b);
    else this.free.push(b);
  }

  /** Stops the reading loop at the first failed part, or at a requested stop. */
  private check(): void {
    if (this.failure) throw this.failure.error;
    if (this.o.signal?.aborted) throw new InterruptedError(this.sid, this.partsStored);
  }

  private launch(n: number, buf: Uint8Array, length: number): void {
    const body = buf.subarray(0, length);
    const digest = this.deps.md5(body);
    this.digests[n - 1] = digest;
    const task = this.send(n, body, digest).then(
      () => {
        this.partsStored++;
        this.bytesStored += length;
        this.progress();
      },
      (error: unknown) => {
        this.failure ??= { error };
        // Wake a reader waiting for a buffer so it sees the failure.
        for (const w of this.waiters.splice(0)) w(new Uint8Array(0));
      },
    );
    const tracked = task.finally(() => {
      this.inFlight.delete(tracked);
      if (!this.failure) this.release(buf);
    });
    this.inFlight.add(tracked);
  }

  /** Takes the next URL (jobs come in part order, as parts are launched) and sends the part until stored. */
  private async send(n: number, body: Uint8Array, digest: Uint8Array): Promise<void> {
    const job = await this.urls.take();
    if (job?.partNumber !== n) throw new MpuError('bad_response', `expected a URL for part ${n}, got ${job ? `part ${job.partNumber}` : 'none'}`);
    const { etag, attempts } = await sendPart({
      partNumber: n,
      part: { body, md5: digest },
      grant: job,
      renew: () => this.urls.refresh(n),
      // The part is in memory and cannot change: the same MD5 again means the bytes were garbled on the way.
      reread: async () => ({ body, md5: this.deps.md5(body) }),
      changed: () => new IntegrityError(`part ${n} changed in memory while it was being sent`),
      expiryMarginMs: EXPIRY_MARGIN_MS,
      transport: this.deps.transport,
      retry: this.o.retry,
      stallTimeoutMs: this.o.stallTimeoutMs,
      // A stopped stream is aborted anyway: parts in flight are cut, not finished.
      signal: this.o.signal,
      onRetry: (r) => this.o.onRetry?.(`PUT part ${n}`, r.attempt, r.delayMs, reasonOf(r.error)),
    });
    this.etags[n - 1] = etag;
    this.urls.stored(body.length);
    this.o.onPart?.({ part_number: n, size: body.length, attempts });
  }

  private progress(): void {
    this.o.onProgress?.({ bytesRead: this.bytesRead, bytesStored: this.bytesStored, partsStored: this.partsStored });
  }
}
