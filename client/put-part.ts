/**
 * One part PUT to a presigned URL: the part's bytes straight from the reused buffer (slices are
 * views, never copies), exact Content-Length, and exactly the headers the API returned. Returns
 * the part's ETag. A stall timer aborts the request when no bytes were accepted and no answer
 * came for `stallTimeoutMs`.
 */
import { request, type Dispatcher } from 'undici';
import { MpuError, PutPartError, StallError } from './errors.js';
import { header } from './http.js';
import type { RateLimiter } from './rate-limit.js';
import { parseRetryAfter } from './retry.js';

export interface PutPartOptions {
  dispatcher: Dispatcher;
  partNumber: number;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  signal?: AbortSignal;
  stallTimeoutMs: number;
  /**
   * Bytes handed to the socket per write. Smaller slices give finer progress, rate limiting and
   * stall detection; a slice >= the body writes it in one go.
   */
  sliceSize: number;
  /** Bytes of this attempt accepted by the connection so far. */
  onProgress?: (bytes: number) => void;
  limiter?: RateLimiter;
  /** When the URL stops working (ms since epoch), to tell an expired URL from a refusal. */
  urlExpiresAt?: number;
}

export type PutPart = (opts: PutPartOptions) => Promise<string>;

export const putPart: PutPart = async (o) => {
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // Storage may answer (e.g. 403) before the whole body was written, and undici may still pull
  // a slice after that: once settled, no new timer (it would keep the process alive).
  let settled = false;
  const arm = () => {
    clearTimeout(timer);
    if (settled) return;
    timer = setTimeout(() => stall.abort(new StallError(`PUT part ${o.partNumber}`, o.stallTimeoutMs)), o.stallTimeoutMs);
  };
  const signal = o.signal ? AbortSignal.any([o.signal, stall.signal]) : stall.signal;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = v;
  headers['content-length'] = String(o.body.length);

  const { body, sliceSize, onProgress, limiter } = o;
  const direct = body.length <= sliceSize && !limiter;

  arm();
  try {
    const res = await request(o.url, {
      method: 'PUT',
      headers,
      // undici accepts async iterables (written with backpressure) although its types omit them.
      body: direct ? body : (bodySlices(body, { sliceSize, limiter, signal, onProgress, onSlice: arm }) as unknown as Buffer),
      dispatcher: o.dispatcher,
      signal,
    });
    arm();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      const etag = header(res.headers, 'etag');
      if (!etag) throw new MpuError('no_etag', `storage stored part ${o.partNumber} but sent no ETag header`);
      if (direct) onProgress?.(body.length);
      return etag;
    }
    const text = await res.body.text().catch(() => '');
    throw new PutPartError(o.partNumber, res.statusCode, xmlField(text, 'Code'), xmlField(text, 'Message'), {
      retryAfterMs: parseRetryAfter(header(res.headers, 'retry-after')),
      urlExpiresAt: o.urlExpiresAt,
    });
  } catch (err) {
    if (stall.signal.aborted && !o.signal?.aborted) throw stall.signal.reason;
    throw err;
  } finally {
    settled = true;
    clearTimeout(timer);
  }
};

/**
 * The part as views of the buffer (no copies), paced by the rate limiter. The consumer pulls the
 * next slice only once the previous one was written to the socket, so progress counts bytes the
 * connection accepted, and a stalled socket stops the pulls (and `onSlice`, the stall timer's reset).
 */
export async function* bodySlices(
  body: Buffer,
  o: { sliceSize: number; limiter?: RateLimiter; signal?: AbortSignal; onProgress?: (bytes: number) => void; onSlice?: () => void },
): AsyncGenerator<Buffer> {
  for (let off = 0; off < body.length; ) {
    const end = Math.min(body.length, off + o.sliceSize);
    if (o.limiter) await o.limiter.take(end - off, o.signal);
    o.onSlice?.();
    yield body.subarray(off, end);
    off = end;
    o.onProgress?.(off);
  }
  o.onSlice?.();
}

/** `<Code>BadDigest</Code>` from S3's XML error body. */
export function xmlField(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m?.[1];
}
