/** What the engine is asked to do, what it tells while doing it, and what it returns. */
import type { CompleteRequest, CompleteResponse, InitRequest, InitResponse, PartUrlRequest, PartUrlResponse, StatusResponse } from '../../contract/api.js';
import type { UploadProgress } from '../progress.js';
import type { RetryPolicy } from '../retry.js';
import type { ConcurrencySetting, ConcurrencySummary, WorkerCountChange } from './worker-count.js';

/** The engine's options: everything about the upload except where the bytes and the network come from. */
export interface EngineOptions {
  /**
   * Part size in bytes. Default: 5 MiB, raised to the smallest whole MiB that keeps the file within
   * S3's 10,000 parts (the server's rule). One that would need more parts is refused before init.
   */
  chunkSize?: number;
  /**
   * Parts in flight. `'auto'` (default) starts from the round trip to the API (8 near, 32 far or
   * unknown: engine/start-count.ts) and adapts to the link: it grows while more
   * parts in parallel raise the goodput, backs off on retried PUTs, and keeps each part within
   * about 30 s (engine/concurrency.ts). A number (1 to 64) fixes the count.
   */
  concurrency?: ConcurrencySetting;
  /** Upper bound for `'auto'` (default 64). */
  maxConcurrency?: number;
  /**
   * Bytes of part buffers (default 256 MiB): `'auto'` never holds more than maxMemory / part size
   * parts; a fixed count is capped by it only when it is given. Peak RSS stays within about
   * 100 MiB + this. Parts sent as lazy slices (a browser Blob) hold no buffers.
   */
  maxMemory?: number;
  /** Continue this session instead of starting one. */
  resumeSessionId?: string;
  /** Object name sent to init (default: the source's base name). */
  filename?: string;
  contentType?: string;
  /**
   * Graceful stop: no new parts are started, parts in flight finish, then `upload` rejects with
   * an InterruptedError naming the session (which can be resumed). API calls already sent are
   * never cut (a cut `init` or `complete` would leave the caller unsure what the server did).
   */
  signal?: AbortSignal;
  onEvent?: (event: UploadEvent) => void;
  /** Called on every progress change (cheap; throttle rendering yourself). */
  onProgress?: (progress: UploadProgress) => void;
  retry?: Partial<RetryPolicy>;
  /** A part PUT or API call without progress for this long is retried (default 60 s). */
  stallTimeoutMs?: number;
  /** Upper bound on upload rate, bytes per second. */
  rateLimit?: number;
}

export interface UploadResult {
  session_id: string;
  file: string;
  /** `s3://bucket/key`. */
  file_path: string;
  size: number;
  /** The object's ETag as storage reports it (unquoted), verified against the local file. */
  etag: string;
  /** Parts storage already held (and that matched the file) when this run began. */
  parts_already_stored: number;
  /** Bytes and parts sent by this run (a resumed run sends only the missing parts). */
  bytes_sent: number;
  parts_sent: number;
  parts_total: number;
  chunk_size: number;
  resumed: boolean;
  duration_ms: number;
  timings: { init_ms: number; verify_ms: number; upload_ms: number; complete_ms: number };
  /** Parts in flight over the run (absent when nothing was sent). */
  concurrency?: ConcurrencySummary;
}

export type UploadEvent =
  | {
      type: 'session';
      session_id: string;
      resumed: boolean;
      file_size: number;
      chunk_size: number;
      total_parts: number;
      /** Parts already stored (resume). */
      stored_parts: number;
      expires_at: string;
    }
  | { type: 'verified'; parts: number; bytes: number; ms: number }
  | { type: 'part'; part_number: number; size: number; etag: string; attempts: number; ms: number }
  | { type: 'retry'; what: string; part_number?: number; attempt: number; delay_ms: number; reason: string }
  | { type: 'refresh'; part_number: number; reason: string }
  | { type: 'stopping' }
  /** A remembered session for this file is being resumed. */
  | { type: 'auto_resume'; session_id: string; created_at: string }
  /** `restart`: the remembered session is forgotten (left to expire server-side). */
  | { type: 'restart'; previous_session_id: string }
  /** The remembered session cannot be resumed any more; a new upload starts. */
  | { type: 'session_gone'; session_id: string; reason: string }
  | { type: 'completing'; parts: number }
  /** The number of parts in flight changed (`'auto'`): why, and the goodput (MiB/s) that decided it. */
  | ({ type: 'concurrency' } & WorkerCountChange);

/** The API calls the engine needs (an ApiClient, or a fake in tests); each retried by cause inside. */
export interface UploadApi {
  init(body: InitRequest): Promise<InitResponse>;
  partUrls(sessionId: string, parts: PartUrlRequest['parts']): Promise<PartUrlResponse>;
  status(sessionId: string): Promise<StatusResponse>;
  complete(sessionId: string, parts?: CompleteRequest['parts']): Promise<CompleteResponse>;
  /** The network's round trip to the API (ms) once known (ApiCore); sets where 'auto' concurrency starts. */
  readonly networkRttMs?: number | undefined;
}

export type Emit = (event: UploadEvent) => void;
