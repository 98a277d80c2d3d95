/**
 * Uploading a Node stream of unknown length (stdin in `mpu upload -`): stream-upload.ts with the
 * API client, Node's http/https transport and Node's MD5 plugged in.
 */
import { ApiClient } from './api-client.js';
import { createPool, type HttpPool } from './http.js';
import { HttpTransport } from './http-transport.js';
import { md5 } from './hashing.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { streamChunkSize, uploadStream, type StreamResult, type StreamUploadOptions } from './stream-upload.js';
import { streamConcurrency, type ConcurrencySetting } from './engine/worker-count.js';

export { DEFAULT_EXPECTED_STREAM_SIZE, streamChunkSize, type StreamResult } from './stream-upload.js';

export interface ReadableUploadOptions extends Omit<StreamUploadOptions, 'retry' | 'stallTimeoutMs' | 'concurrency'> {
  apiUrl: string;
  token?: string;
  pool?: HttpPool;
  /** A number fixes the parts in flight; 'auto' (default) is STREAM_AUTO_CONCURRENCY (worker-count.ts). */
  concurrency?: ConcurrencySetting;
  /** Part buffer bytes (default 256 MiB): the count never holds more parts than fit. */
  maxMemory?: number;
  retry?: Partial<RetryPolicy>;
  stallTimeoutMs?: number;
}

/** Uploads everything `input` yields as one object; the session is aborted if it fails. */
export async function uploadReadable(input: AsyncIterable<Uint8Array>, o: ReadableUploadOptions): Promise<StreamResult> {
  const concurrency = streamConcurrency(o.concurrency, o.maxMemory, o.chunkSize ?? streamChunkSize(o.expectedSize));
  const pool = o.pool ?? createPool({ connections: concurrency + 2 });
  const retry = { ...DEFAULT_RETRY, ...o.retry };
  const api = new ApiClient({
    baseUrl: o.apiUrl,
    pool,
    token: o.token,
    retry,
    userAgent: 'mpu-client/0.1',
    onRetry: (what, n) => o.onRetry?.(what, n.attempt, n.delayMs, n.error instanceof Error ? n.error.message : String(n.error)),
  });
  try {
    return await uploadStream(input, { ...o, concurrency, retry, stallTimeoutMs: o.stallTimeoutMs ?? 60_000 }, { api, transport: new HttpTransport(pool), md5 });
  } finally {
    if (!o.pool) await pool.close();
  }
}
