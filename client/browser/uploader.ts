/**
 * Several files at once, each with pause / resume / cancel: the page-facing controller over
 * uploadFile(). One MD5 worker, one API client and one transport serve every file.
 *
 * Pause is the engine's graceful stop (parts in flight finish, their bytes kept); resume picks the
 * session up again (from the store). When the network goes away for longer than the retries
 * last, the upload waits for the browser to be online again and resumes by itself.
 */
import { ApiCore } from '../api-core.js';
import type { Md5Port, PartTransport } from '../engine/ports.js';
import type { EngineOptions, UploadEvent, UploadResult } from '../engine/types.js';
import type { ConcurrencySetting } from '../engine/worker-count.js';
import { EXIT, InterruptedError, MpuError } from '../errors.js';
import type { UploadProgress } from '../progress.js';
import type { RetryPolicy } from '../retry.js';
import { FetchTransport, fetchSend } from './fetch-transport.js';
import { IndexedDbSessionStore, type SessionStore } from './session-store.js';
import { forgetFile, uploadFile } from './upload-file.js';
import { WorkerMd5 } from './worker-md5.js';

export interface BrowserUploaderOptions {
  /** Base URL of the upload API. */
  apiUrl: string;
  /** Bearer token (an API token or a JWT); a function is asked before every API call (refreshing JWTs). */
  token?: string | (() => string | Promise<string>);
  chunkSize?: number;
  /**
   * Parts in flight per file: 'auto' (default) adapts to the link up to `maxConcurrency`; a number
   * (1 to 64) fixes it.
   */
  concurrency?: ConcurrencySetting;
  /**
   * Upper bound for 'auto' (default 6: a browser opens at most 6 HTTP/1.1 connections per origin,
   * and more parts would only wait in its queue, their stall timers running).
   */
  maxConcurrency?: number;
  /** Bytes per second per file. */
  rateLimit?: number;
  retry?: Partial<RetryPolicy>;
  stallTimeoutMs?: number;
  /** URL of hash-worker.js (default: beside the bundle). */
  workerUrl?: string | URL;
  /** Where sessions are remembered (default IndexedDB). */
  store?: SessionStore;
}

/** Default upper bound of 'auto' in a browser: its HTTP/1.1 connections per origin. */
export const BROWSER_MAX_CONCURRENCY = 6;

export type UploadState = 'preparing' | 'uploading' | 'paused' | 'offline' | 'done' | 'failed' | 'cancelled';

export class BrowserUploader {
  readonly api: ApiCore;
  readonly md5: WorkerMd5;
  readonly transport: PartTransport = new FetchTransport();
  readonly store: SessionStore;
  readonly uploads: UploadHandle[] = [];

  constructor(readonly options: BrowserUploaderOptions) {
    this.api = new ApiCore({ baseUrl: options.apiUrl, send: fetchSend, token: options.token, retry: { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 20_000, ...options.retry } });
    this.md5 = new WorkerMd5(options.workerUrl);
    this.store = options.store ?? new IndexedDbSessionStore();
  }

  /** Starts uploading `file`; `onChange` is called on every state or progress change. */
  add(file: File, onChange?: (u: UploadHandle) => void): UploadHandle {
    const u = new UploadHandle(file, this, onChange);
    this.uploads.push(u);
    u.resume();
    return u;
  }

  /** Stops the MD5 worker; uploads still running fail. */
  close(): void {
    this.md5.terminate();
  }
}

export class UploadHandle {
  state: UploadState = 'preparing';
  /** Never goes backwards, also across pause, resume and reload. */
  progress: UploadProgress | undefined;
  sessionId: string | undefined;
  result: UploadResult | undefined;
  error: MpuError | Error | undefined;
  /** Events of the engine, newest last (session, auto_resume, retry, refresh, part, ...). */
  readonly events: UploadEvent[] = [];
  private stop: AbortController | undefined;
  private running: Promise<void> | undefined;
  private cancelled = false;

  constructor(
    readonly file: File,
    private readonly up: BrowserUploader,
    private readonly onChange: ((u: UploadHandle) => void) | undefined,
  ) {}

  /** Starts, or continues after pause, offline or a failure. */
  resume(): void {
    if (this.running || this.cancelled || this.state === 'done') return;
    this.stop = new AbortController();
    this.error = undefined;
    this.set('preparing');
    this.running = this.run(this.stop.signal).finally(() => {
      this.running = undefined;
      this.changed();
    });
  }

  /** Graceful: no new parts start; those in flight finish (their bytes are kept). */
  pause(): void {
    this.stop?.abort();
  }

  /** Stops, aborts the session server-side (frees its stored parts) and forgets it. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    this.stop?.abort();
    await this.running;
    if (this.sessionId && this.state !== 'done') await this.up.api.abort(this.sessionId).catch(() => undefined);
    await forgetFile(this.file, this.up.options.apiUrl, this.up.store);
    this.set('cancelled');
  }

  private async run(signal: AbortSignal): Promise<void> {
    const o = this.up.options;
    const engine: Omit<EngineOptions, 'resumeSessionId'> = {
      chunkSize: o.chunkSize,
      concurrency: o.concurrency,
      maxConcurrency: o.maxConcurrency ?? BROWSER_MAX_CONCURRENCY,
      rateLimit: o.rateLimit,
      retry: o.retry,
      // fetch reports no upload progress: a part's whole transfer must fit the stall timeout.
      stallTimeoutMs: o.stallTimeoutMs ?? 120_000,
      signal,
      onProgress: (p) => {
        if (this.progress && p.bytesDone < this.progress.bytesDone) return;
        this.progress = p;
        this.changed();
      },
      onEvent: (e) => {
        this.events.push(e);
        if (e.type === 'session') {
          this.sessionId = e.session_id;
          this.set('uploading');
        }
      },
    };
    try {
      this.result = await uploadFile(this.file, { ...engine, apiUrl: o.apiUrl }, { api: this.up.api, transport: this.up.transport, md5: this.up.md5 as Md5Port, store: this.up.store });
      this.progress = { ...(this.progress ?? { partsTotal: this.result.parts_total, bytesThisRun: this.result.bytes_sent }), bytesDone: this.file.size, bytesTotal: this.file.size, partsDone: this.result.parts_total };
      this.set('done');
    } catch (err) {
      if (this.cancelled) return;
      if (err instanceof InterruptedError) return this.set('paused');
      if (isNetworkFailure(err) && !navigator.onLine) {
        // Back online: continue where storage is (the session is remembered).
        this.set('offline');
        window.addEventListener('online', () => setTimeout(() => this.resume(), 0), { once: true });
        return;
      }
      this.error = err instanceof Error ? err : new Error(String(err));
      this.set('failed');
    }
  }

  private set(s: UploadState): void {
    this.state = s;
    this.changed();
  }

  private changed(): void {
    this.onChange?.(this);
  }
}

function isNetworkFailure(err: unknown): boolean {
  return err instanceof MpuError && err.exitCode === EXIT.unavailable;
}
