/**
 * mpu client library: resumable multipart uploads through the upload API.
 *
 *   import { upload } from '@mpu/client';
 *   const r = await upload({ file: 'big.iso', apiUrl, concurrency: 8, onProgress });
 *   // r.session_id, r.file_path, r.etag, r.bytes_sent, r.duration_ms, ...
 *
 * The CLI (client/cli.ts) is a thin layer over this module.
 */
import type { AbortResponse, StatusResponse } from '../contract/api.js';
import { ApiClient } from './api-client.js';
import { createPool, type HttpPool } from './http.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { runUploadWithState } from './auto-resume.js';
import { HttpTransport } from './http-transport.js';
import type { UploadOptions, UploadResult } from './upload.js';
import { connectionsFor } from './engine/worker-count.js';

export type { UploadOptions, UploadResult, UploadEvent } from './upload.js';
export { connectionsFor, type ConcurrencySetting, type ConcurrencySummary } from './engine/worker-count.js';
export type { UploadProgress } from './progress.js';
export type { RetryPolicy } from './retry.js';
export * from './errors.js';
export { ApiClient } from './api-client.js';
export { parseSize, formatBytes } from './sizes.js';
export { md5, multipartEtag } from './hashing.js';
/** One keep-alive connection pool to share between uploads (UploadOptions.pool). */
export { createPool, HttpPool, type HttpOptions, type HttpExchange } from './http.js';
export { StateStore, type StateEntry } from './state.js';
/** Uploading a stream of unknown length (e.g. process.stdin): no resume, aborted on failure. */
export { uploadReadable, streamChunkSize, DEFAULT_EXPECTED_STREAM_SIZE, type ReadableUploadOptions, type StreamResult } from './stream-node.js';
/** Where the local cloud's endpoints file is found (the operator tool looks for its tokens table there too). */
export { findEndpointsFile, type Env } from './config.js';

const USER_AGENT = 'mpu-client/0.1';

/** Uploads one file (or resumes a session); resolves once the object is stored and verified. */
export async function upload(options: UploadOptions): Promise<UploadResult> {
  const pool = options.pool ?? createPool({ connections: connectionsFor(options) });
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const api = new ApiClient({
    baseUrl: options.apiUrl,
    pool,
    token: options.token,
    retry,
    userAgent: USER_AGENT,
    onRetry: (what, n) =>
      options.onEvent?.({ type: 'retry', what, attempt: n.attempt, delay_ms: n.delayMs, reason: n.error instanceof Error ? n.error.message : String(n.error) }),
  });
  try {
    return await runUploadWithState(options, { api, transport: new HttpTransport(pool, options.putSliceSize) });
  } finally {
    if (!options.pool) await pool.close();
  }
}

export interface SessionCallOptions {
  apiUrl: string;
  token?: string;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Reuse a connection pool (createPool); otherwise one is created and closed. */
  pool?: HttpPool;
}

async function withApi<T>(o: SessionCallOptions, fn: (api: ApiClient) => Promise<T>): Promise<T> {
  const pool = o.pool ?? createPool({ connections: 2 });
  const api = new ApiClient({ baseUrl: o.apiUrl, pool, token: o.token, retry: { ...DEFAULT_RETRY, ...o.retry }, userAgent: USER_AGENT });
  try {
    return await fn(api);
  } finally {
    if (!o.pool) await pool.close();
  }
}

/** Session status as storage sees it. */
export function getStatus(sessionId: string, o: SessionCallOptions): Promise<StatusResponse> {
  return withApi(o, (api) => api.status(sessionId, o.signal));
}

/** Aborts a session server-side (frees its stored parts). */
export function abortSession(sessionId: string, o: SessionCallOptions): Promise<AbortResponse> {
  return withApi(o, (api) => api.abort(sessionId, o.signal));
}
