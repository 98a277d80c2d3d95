/**
 * One part PUT through a PartTransport, and what storage's answer means: a stall timer aborts
 * the request when no bytes were accepted and no answer came for `stallTimeoutMs`; a non-2xx
 * answer becomes a PutPartError carrying the S3 error code of its XML body (what `classify`
 * decides by); a 2xx must carry the part's ETag.
 */
import { MpuError, PutPartError, StallError, UrlLapsedError } from '../errors.js';
import { isNetworkError, parseRetryAfter } from '../retry.js';
import { URL_SIGNING_SLACK_MS } from '../storage-refusal.js';
import type { RateLimiter } from '../rate-limit.js';
import type { PartBody, PartTransport } from './ports.js';

export interface PutPartOptions {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
  body: PartBody;
  signal?: AbortSignal;
  stallTimeoutMs: number;
  /** Bytes of this attempt accepted by the connection so far. */
  onProgress?: (bytes: number) => void;
  limiter?: RateLimiter;
  /** When the URL stops working (ms since epoch), to tell an expired URL from a refusal. */
  urlExpiresAt?: number;
}

/** Sends the part; resolves with its ETag. */
export async function putPart(transport: PartTransport, o: PutPartOptions): Promise<string> {
  const stall = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Storage may answer (e.g. 403) before the whole body was written, and the transport may still
  // pull a slice after that: once settled, no new timer (it would keep the process alive).
  let settled = false;
  const arm = () => {
    clearTimeout(timer);
    if (settled) return;
    timer = setTimeout(() => stall.abort(new StallError(`PUT part ${o.partNumber}`, o.stallTimeoutMs)), o.stallTimeoutMs);
  };
  const signal = o.signal ? AbortSignal.any([o.signal, stall.signal]) : stall.signal;
  const { limiter } = o;

  arm();
  try {
    const res = await transport.put({
      url: o.url,
      headers: o.headers,
      body: o.body,
      signal,
      onProgress: (bytes) => {
        arm();
        o.onProgress?.(bytes);
      },
      pace: limiter
        ? async (bytes) => {
            await limiter.take(bytes, signal);
            arm();
          }
        : undefined,
    });
    if (res.status >= 200 && res.status < 300) {
      if (!res.etag) throw new MpuError('no_etag', `storage stored part ${o.partNumber} but sent no ETag header`);
      return res.etag;
    }
    throw new PutPartError(o.partNumber, res.status, xmlField(res.body, 'Code'), xmlField(res.body, 'Message'), {
      retryAfterMs: parseRetryAfter(res.retryAfter),
      urlExpiresAt: o.urlExpiresAt,
    });
  } catch (err) {
    if (stall.signal.aborted && !o.signal?.aborted) throw stall.signal.reason;
    // No answer we could read, from a URL past its lifetime: most likely storage refused it as
    // expired without the CORS headers a browser needs to show us the 403 (RGW does so).
    const lapsed = o.urlExpiresAt !== undefined && Date.now() >= o.urlExpiresAt - URL_SIGNING_SLACK_MS;
    if (lapsed && (err instanceof MpuError ? err.code === 'network' : isNetworkError(err))) throw new UrlLapsedError(o.partNumber, { cause: err });
    throw err;
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}

/** `<Code>BadDigest</Code>` from S3's XML error body. */
export function xmlField(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m?.[1];
}
