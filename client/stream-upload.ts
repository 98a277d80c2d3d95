/**
 * Uploading a stream of unknown length (`mpu upload - --name NAME`): the session is opened
 * without a size, the input is cut into parts of one fixed size as it arrives, each part is
 * hashed and sent from its in-memory buffer (so a failed PUT is retried from that buffer: a pipe
 * cannot be read twice), and the session is completed with the number of parts read; the API
 * sizes the object from storage and the client checks its ETag against the parts' MD5s.
 *
 * Memory: `concurrency` part buffers, reused; the reader waits for a free one, so a fast pipe
 * and a slow network never hold more than concurrency x part size.
 *
 * A pipe cannot be resumed once the process is gone (its bytes are consumed): any failure or
 * interruption aborts the session, so no parts are left behind in storage.
 */
import type { AbortResponse, CompleteRequest, CompleteResponse, InitRequest, InitResponse, PartUrl, PartUrlRequest, PartUrlResponse } from '../contract/api.js';
import { API_LIMITS, GiB, S3_LIMITS } from '../contract/limits.js';
import { minimumChunkSize } from '../contract/parts.js';
import { IntegrityError, InterruptedError, MpuError, UsageError } from './errors.js';
import { etagMatches, md5Base64, md5Hex, multipartEtagOf, normalizeEtag, concatDigests } from './etag.js';
import { putPart } from './engine/put-part.js';
import type { PartTransport } from './engine/ports.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { formatBytes } from './sizes.js';

/** `--expected-size` when none is given: the part size then fits 100 GiB in 10,000 parts (11 MiB). */
export const DEFAULT_EXPECTED_STREAM_SIZE = 100 * GiB;
/** A URL closer than this to its expiry is fetched again before use. */
const EXPIRY_MARGIN_MS = 60_000;
const MAX_REFRESHES = 3;

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
  const initialUrls = new Map(init.parts.map((p) => [p.part_number, p]));
  const initialExpiresAt = Date.now() + init.url_expires_in * 1000;

  try {
    const sender = new PartSender(sid, init.chunk_size, initialUrls, initialExpiresAt, o, deps);
    const read = await sender.readAll(input);
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
    private readonly initialUrls: Map<number, PartUrl>,
    private readonly initialExpiresAt: number,
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

  private async url(n: number, digest: Uint8Array, fresh: boolean): Promise<{ url: string; headers: Record<string, string>; expiresAt: number }> {
    const initial = this.initialUrls.get(n);
    if (!fresh && initial && this.initialExpiresAt - Date.now() > EXPIRY_MARGIN_MS) {
      // init's URLs are not bound to an MD5; the Content-MD5 header still makes storage check the bytes.
      return { url: initial.url, headers: { ...initial.headers, 'content-md5': md5Base64(digest) }, expiresAt: this.initialExpiresAt };
    }
    const res = await this.deps.api.partUrls(this.sid, [{ part_number: n, md5: md5Base64(digest) }]);
    const p = res.parts[0]!;
    return { url: p.url, headers: p.headers, expiresAt: Date.now() + res.url_expires_in * 1000 };
  }

  private async send(n: number, body: Uint8Array, digest: Uint8Array): Promise<void> {
    let job = await this.url(n, digest, false);
    let attempts = 0;
    await withRetry(
      async (attempt) => {
        attempts = attempt;
        const etag = await putPart(this.deps.transport, {
          partNumber: n,
          url: job.url,
          headers: job.headers,
          body,
          stallTimeoutMs: this.o.stallTimeoutMs,
          urlExpiresAt: job.expiresAt,
          // A stopped stream is aborted anyway: parts in flight are cut, not finished.
          ...(this.o.signal ? { signal: this.o.signal } : {}),
        });
        if (!etagMatches(etag, digest)) {
          throw new IntegrityError(`storage stored part ${n} with ETag ${normalizeEtag(etag)}, but its MD5 is ${md5Hex(digest)}`);
        }
        this.etags[n - 1] = etag;
      },
      this.o.retry,
      {
        ...(this.o.signal ? { signal: this.o.signal } : {}),
        refresh: { limit: MAX_REFRESHES, run: async () => void (job = await this.url(n, digest, true)) },
        onRetry: (r) => this.o.onRetry?.(`PUT part ${n}`, r.attempt, r.delayMs, r.error instanceof Error ? r.error.message : String(r.error)),
        beforeRetry: async () => {
          if (job.expiresAt - Date.now() < EXPIRY_MARGIN_MS) job = await this.url(n, digest, true);
        },
      },
    );
    this.o.onPart?.({ part_number: n, size: body.length, attempts });
  }

  private progress(): void {
    this.o.onProgress?.({ bytesRead: this.bytesRead, bytesStored: this.bytesStored, partsStored: this.partsStored });
  }
}
