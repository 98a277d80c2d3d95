/**
 * What to do about a failed request, decided by its cause:
 *  - `refresh`: the presigned URL stopped working (expired, signature, lapsed token) -> a fresh URL;
 *  - `rehash`:  storage says the bytes do not match Content-MD5 -> re-read the part (file changed?);
 *  - `retry`:   throttling, server errors, resets, timeouts, stalls -> exponential backoff with jitter;
 *  - `fatal`:   anything else (storage refusals such as QuotaExceeded, other 4xx, local errors)
 *               -> fail fast.
 */
import { ApiRequestError, NETWORK_CODES, NetworkError, PutPartError, StallError, UrlLapsedError } from './errors.js';
import { urlNeedsRefresh } from './storage-refusal.js';

export type RetryKind = 'retry' | 'refresh' | 'rehash' | 'fatal';

export function classify(err: unknown): RetryKind {
  if (err instanceof PutPartError) {
    if (urlNeedsRefresh({ status: err.status, code: err.s3Code, message: err.s3Message, urlExpiresAt: err.urlExpiresAt, answeredAt: err.answeredAt })) {
      return 'refresh';
    }
    // Quota, policy, unknown key, account: neither a fresh URL nor waiting fixes these.
    if (err.status === 403) return 'fatal';
    if (err.s3Code === 'BadDigest' || err.s3Code === 'InvalidDigest') return 'rehash';
    // S3 answers 400 RequestTimeout when a slow client does not finish the body in time.
    if (err.s3Code === 'RequestTimeout' || err.s3Code === 'SlowDown') return 'retry';
    return retryableStatus(err.status) ? 'retry' : 'fatal';
  }
  if (err instanceof ApiRequestError) {
    // Another `complete` holds the lease: it will finish, and complete is idempotent.
    if (err.code === 'session_busy') return 'retry';
    // A cap that clears only when the user finishes other uploads: retrying cannot help.
    if (err.code === 'too_many_open_sessions') return 'fatal';
    return retryableStatus(err.status) ? 'retry' : 'fatal';
  }
  if (err instanceof UrlLapsedError) return 'refresh';
  if (err instanceof StallError || err instanceof NetworkError) return 'retry';
  return isNetworkError(err) ? 'retry' : 'fatal';
}

export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Node connection failures, also when wrapped (fetch-style `cause`). */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export interface RetryPolicy {
  /** Attempts in total for one operation (1 = no retry). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 20_000 };

/**
 * "Full jitter" backoff: uniform in [0, min(max, base * 2^(attempt-1))], so clients that failed
 * together do not retry together. A server's Retry-After is a floor.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs !== undefined ? Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs)) : jittered;
}

export function retryAfterOf(err: unknown): number | undefined {
  if (err instanceof ApiRequestError || err instanceof PutPartError) return err.retryAfterMs;
  return undefined;
}

/** `Retry-After` header (seconds or HTTP date) in ms. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: unknown;
}

/** How to recover from a cause that waiting alone does not fix. */
export interface Recovery {
  /** At most this many times per operation. */
  limit: number;
  run: (error: unknown) => Promise<void>;
}

export interface RetryOptions {
  signal?: AbortSignal;
  onRetry?: (n: RetryNotice) => void;
  classify?: (err: unknown) => RetryKind;
  /** `refresh` (a URL stopped working): recover, then try again at once. Without it, or past its limit, fatal. */
  refresh?: Recovery;
  /**
   * `rehash` (storage says the bytes do not match their MD5): recover (re-read, compare), then
   * back off like `retry`; past its limit, back off without recovering. Without it, fatal.
   */
  rehash?: Recovery;
  /** After each backoff delay, before the next attempt (e.g. replace a URL about to expire). */
  beforeRetry?: () => Promise<void>;
}

/**
 * The one retry loop: runs `fn` until it succeeds, or an error that `classify` calls fatal (or
 * whose recovery is missing or used up) occurs, or `maxAttempts` attempts ran out (then the
 * last error). `refresh` attempts count as attempts but are not delayed.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, opts: RetryOptions = {}): Promise<T> {
  const kindOf = opts.classify ?? classify;
  let refreshes = 0;
  let rehashes = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const kind = kindOf(err);
      if (kind === 'refresh' && opts.refresh && refreshes < opts.refresh.limit) {
        refreshes++;
        await opts.refresh.run(err);
        continue;
      }
      if (kind === 'rehash' && opts.rehash) {
        if (rehashes < opts.rehash.limit) {
          rehashes++;
          await opts.rehash.run(err);
        }
      } else if (kind !== 'retry') {
        throw err;
      }
      if (attempt >= policy.maxAttempts) throw err;
      const delayMs = backoffDelay(policy, attempt, retryAfterOf(err));
      opts.onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs, opts.signal);
      await opts.beforeRetry?.();
    }
  }
}
