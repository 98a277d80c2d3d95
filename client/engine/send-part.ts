/**
 * One part, sent until storage holds it: PUT with Content-MD5 (storage verifies the bytes), the
 * answer's ETag checked against the MD5, and every failure handled by its cause in one loop
 * (`withRetry`): a fresh URL for an expired or refused one, a re-read for bytes storage disputes
 * (the same MD5 again: a transient corruption, retried; another: the source changed, fatal),
 * backoff for the rest. The file engine (pipeline.ts) and the stream upload share it.
 */
import { IntegrityError } from '../errors.js';
import { etagMatches, md5Base64, md5Hex, normalizeEtag, sameBytes } from '../etag.js';
import type { RateLimiter } from '../rate-limit.js';
import { withRetry, type RetryNotice, type RetryPolicy } from '../retry.js';
import type { PartBody, PartTransport } from './ports.js';
import { putPart } from './put-part.js';

/** Fresh URLs per part before a refusal counts as final. */
export const MAX_REFRESHES = 3;
/** Re-reads per part after storage disputes its MD5 (then plain retries). */
export const MAX_REHASHES = 2;

/** Where one part goes: a presigned URL, the headers its signature needs, its expiry (ms since epoch). */
export interface PartGrant {
  url: string;
  headers: Record<string, string>;
  expiresAt: number;
}

export interface ReadPart {
  body: PartBody;
  md5: Uint8Array;
}

export interface SendPartOptions {
  partNumber: number;
  /** The part as first read, with its MD5. */
  part: ReadPart;
  grant: PartGrant;
  /** A fresh URL for this part. */
  renew: () => Promise<PartGrant>;
  /** Reads and hashes the part again (storage disputed its MD5). */
  reread: () => Promise<ReadPart>;
  /** The error when the part read again has another MD5 than at first. */
  changed: () => Error;
  /** Replace a URL closer than this to its expiry before a retry. */
  expiryMarginMs: number;
  transport: PartTransport;
  retry: RetryPolicy;
  stallTimeoutMs: number;
  limiter?: RateLimiter | undefined;
  signal?: AbortSignal | undefined;
  /** Bytes of the current attempt accepted so far. */
  onProgress?: (bytes: number) => void;
  onRefresh?: (reason: string) => void;
  onRetry?: (notice: RetryNotice) => void;
}

/** Resolves with storage's ETag for the part and the attempts it took. */
export async function sendPart(o: SendPartOptions): Promise<{ etag: string; attempts: number }> {
  const n = o.partNumber;
  const { md5 } = o.part;
  let body = o.part.body;
  let grant = o.grant;
  let attempts = 0;
  const etag = await withRetry(
    async (attempt) => {
      attempts = attempt;
      const etag = await putPart(o.transport, {
        partNumber: n,
        url: grant.url,
        headers: withContentMd5(grant.headers, md5),
        body,
        stallTimeoutMs: o.stallTimeoutMs,
        urlExpiresAt: grant.expiresAt,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(o.limiter ? { limiter: o.limiter } : {}),
      });
      if (!etagMatches(etag, md5)) throw new IntegrityError(`storage stored part ${n} with ETag ${normalizeEtag(etag)}, but its MD5 is ${md5Hex(md5)}`);
      return etag;
    },
    o.retry,
    {
      ...(o.signal ? { signal: o.signal } : {}),
      refresh: {
        limit: MAX_REFRESHES,
        run: async (err) => {
          o.onRefresh?.(reasonOf(err));
          grant = await o.renew();
        },
      },
      rehash: {
        limit: MAX_REHASHES,
        run: async () => {
          const again = await o.reread();
          if (!sameBytes(again.md5, md5)) throw o.changed();
          body = again.body;
        },
      },
      ...(o.onRetry ? { onRetry: o.onRetry } : {}),
      beforeRetry: async () => {
        if (grant.expiresAt - Date.now() < o.expiryMarginMs) grant = await o.renew();
      },
    },
  );
  return { etag, attempts };
}

/** The URL's headers (sent exactly, for its signature) plus Content-MD5, unless it carries one. */
export function withContentMd5(headers: Record<string, string>, md5: Uint8Array): Record<string, string> {
  if (Object.keys(headers).some((k) => k.toLowerCase() === 'content-md5')) return headers;
  return { ...headers, 'content-md5': md5Base64(md5) };
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
