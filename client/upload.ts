/**
 * The upload orchestrator: init (or resume from status), verify stored parts, run the pipeline
 * (hashing pass -> URL supplier -> uploader pool), complete, and check the object's ETag against
 * the one computed from the local file.
 *
 * Memory: one chunk-sized buffer per uploader, the hasher's 1 MiB scratch, 16 bytes per part.
 * An error never aborts the session server-side: whatever was stored can be resumed.
 */
import { basename } from 'node:path';
import type { Dispatcher } from 'undici';
import type { CompleteResponse, InitResponse, PartUrl, StatusResponse } from '../contract/api.js';
import { API_LIMITS, DEFAULTS, S3_LIMITS } from '../contract/limits.js';
import { countParts, defaultChunkSize, minimumChunkSize, partSize, planParts, type PartPlan } from '../contract/parts.js';
import type { ApiClient } from './api-client.js';
import { ApiRequestError, FileMismatchError, InterruptedError, IntegrityError, MpuError, SessionStateError, UsageError } from './errors.js';
import { etagMatches, md5, md5Hex, multipartEtag, normalizeEtag } from './hashing.js';
import { HashWorker } from './hash-worker.js';
import { HASH_BLOCK_SIZE, hashPart } from './part-hasher.js';
import { PartReader } from './part-reader.js';
import { ProgressTracker, type UploadProgress } from './progress.js';
import type { PutPart } from './put-part.js';
import { RateLimiter } from './rate-limit.js';
import { backoffDelay, classify, DEFAULT_RETRY, retryAfterOf, sleep, type RetryPolicy } from './retry.js';
import { runPool } from './scheduler.js';
import { formatBytes, formatSizeArg } from './sizes.js';
import { UrlSupplier, type PartJob } from './url-supplier.js';

export interface UploadOptions {
  /** Path of the local file. */
  file: string;
  /** Base URL of the upload API. */
  apiUrl: string;
  /** Bearer token for the API. */
  token?: string;
  /**
   * Part size in bytes. Default: 5 MiB, raised to the smallest whole MiB that keeps the file within
   * S3's 10,000 parts (the server's rule). One that would need more parts is refused before init.
   */
  chunkSize?: number;
  /** Parallel part uploads (default 4). */
  concurrency?: number;
  /** Continue this session instead of starting one. */
  resumeSessionId?: string;
  /** Object name sent to init (default: the file's base name). */
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
  /** Reuse a connection pool (e.g. across files); otherwise one is created and closed. */
  dispatcher?: Dispatcher;
  /**
   * Where part MD5s are computed: on the main thread (default: measured faster on small
   * machines, no thread start-up), or on a worker thread, which keeps the event loop free.
   */
  hashThread?: 'worker' | 'main';
  /**
   * Remember unfinished uploads here and resume them automatically (see state.ts). Without it,
   * only `resumeSessionId` resumes.
   */
  stateDir?: string;
  /** With `stateDir`: forget a remembered session for this file and start a new one. */
  restart?: boolean;
  /** Tuning: bytes per socket write of a part (default 1 MiB; >= part size writes it whole). */
  putSliceSize?: number;
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
  | { type: 'completing'; parts: number };

/** A chunk size that would split the file into more parts than S3 allows: refused before any request. */
function checkChunkFits(size: number, chunkSize: number): void {
  const parts = countParts(size, chunkSize);
  if (parts <= S3_LIMITS.maxParts) return;
  throw new UsageError(
    `chunk size ${formatSizeArg(chunkSize)} splits the file (${formatBytes(size)}) into ${parts} parts; S3 allows ` +
      `${S3_LIMITS.maxParts.toLocaleString('en-US')}. Use a chunk size of at least ${formatSizeArg(minimumChunkSize(size))}, or none to have it chosen`,
  );
}

/** The API calls the orchestrator needs (an ApiClient, or a fake in tests). */
export type UploadApi = Pick<ApiClient, 'init' | 'partUrls' | 'status' | 'complete'>;

export interface UploadDeps {
  api: UploadApi;
  put: PutPart;
  dispatcher: Dispatcher;
}

/** Write slice of a part PUT: fine enough for progress and stall detection, coarse enough to be free. */
const PUT_SLICE = 1024 * 1024;

export async function runUpload(opts: UploadOptions, deps: UploadDeps): Promise<UploadResult> {
  const t0 = performance.now();
  const concurrency = opts.concurrency ?? DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError('concurrency must be an integer from 1 to 64');
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const stallTimeoutMs = opts.stallTimeoutMs ?? 60_000;
  const emit = (e: UploadEvent) => opts.onEvent?.(e);
  const limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit) : undefined;

  const reader = await PartReader.open(opts.file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${opts.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  let sessionId: string | undefined;
  let prehash: Prehash = NO_PREHASH;
  // Booted now, so its start-up overlaps the init round trip.
  const hashWorker = opts.hashThread === 'worker' ? new HashWorker(opts.file) : undefined;
  try {
    const st0 = await reader.stat();
    const size = st0.size;

    // 1. Session: start one, or take over an existing one from what storage holds.
    let plan: PartPlan;
    let initialUrls: PartUrl[] = [];
    let initialExpiresAt = 0;
    let stored: StatusResponse['uploaded_parts'] = [];
    let status: StatusResponse | undefined;
    let sessionExpiresAt = '';
    if (opts.resumeSessionId) {
      status = await deps.api.status(opts.resumeSessionId);
      sessionId = status.session_id;
      checkResumable(status, size, opts.file);
      plan = planParts(size, status.chunk_size);
      if (plan.totalParts !== status.total_parts) throw new MpuError('bad_response', `session has ${status.total_parts} parts, expected ${plan.totalParts}`);
      stored = status.status === 'completed' ? [] : status.uploaded_parts;
    } else {
      if (opts.chunkSize !== undefined) checkChunkFits(size, opts.chunkSize);
      // While init is in flight, hash the first parts by the part size the server will plan (the
      // one asked for, or its default rule); should it plan otherwise, the guesses are dropped.
      prehash = startPrehash(reader, hashWorker, planParts(size, opts.chunkSize ?? defaultChunkSize(size)), pipelineWindow(concurrency));
      const init: InitResponse = await deps.api.init(
        {
          filename: opts.filename ?? basename(opts.file),
          file_size: size,
          ...(opts.chunkSize !== undefined ? { chunk_size: opts.chunkSize } : {}),
          ...(opts.contentType ? { content_type: opts.contentType } : {}),
        },
      );
      sessionId = init.session_id;
      plan = planParts(size, init.chunk_size);
      if (plan.chunkSize !== prehash.plan.chunkSize) prehash.cancel();
      if (plan.totalParts !== init.total_parts) throw new MpuError('bad_response', `server planned ${init.total_parts} parts, expected ${plan.totalParts}`);
      initialUrls = init.parts;
      initialExpiresAt = Date.now() + init.url_expires_in * 1000;
      sessionExpiresAt = init.expires_at;
    }
    const sid = sessionId;
    emit({
      type: 'session',
      session_id: sid,
      resumed: status !== undefined,
      file_size: size,
      chunk_size: plan.chunkSize,
      total_parts: plan.totalParts,
      stored_parts: stored.length,
      expires_at: status?.expires_at ?? sessionExpiresAt,
    });
    const tInit = performance.now();

    // 2. Parts already in storage must be this file's bytes, or the object would mix two files.
    const digests: (Buffer | undefined)[] = new Array<Buffer | undefined>(plan.totalParts + 1);
    const etags = new Map<number, string>();
    const scratch = Buffer.allocUnsafeSlow(Math.min(HASH_BLOCK_SIZE, Math.max(1, plan.chunkSize)));
    const worker = hashWorker;
    // Not reentrant on the main thread (one scratch buffer): callers await one digest at a time,
    // or queue them on the worker, which answers in order.
    const digestOf = (n: number): Promise<Buffer> =>
      prehash.take(n) ?? (worker ? worker.digest(plan, n) : hashPart(reader, plan, n, scratch));
    let storedBytes = 0;
    for (const p of [...stored].sort((a, b) => a.part_number - b.part_number)) {
      if (p.part_number < 1 || p.part_number > plan.totalParts) throw new MpuError('bad_response', `stored part ${p.part_number} is outside 1..${plan.totalParts}`);
      const want = partSize(plan, p.part_number);
      if (p.size !== want) {
        throw new FileMismatchError('part_mismatch', `${opts.file} does not match session ${sid}: stored part ${p.part_number} has ${p.size} bytes, the file's has ${want}; use --restart to start over`);
      }
      const d = await digestOf(p.part_number);
      if (!etagMatches(p.etag, d)) {
        throw new FileMismatchError('part_mismatch', `${opts.file} does not match session ${sid}: stored part ${p.part_number} differs from the file (ETag ${normalizeEtag(p.etag)}, file MD5 ${md5Hex(d)}); the file changed since the upload started; use --restart to start over`);
      }
      digests[p.part_number] = d;
      etags.set(p.part_number, p.etag);
      storedBytes += want;
    }
    if (stored.length > 0) emit({ type: 'verified', parts: stored.length, bytes: storedBytes, ms: Math.round(performance.now() - tInit) });
    const tVerify = performance.now();

    // An already completed session: nothing to send, but the object must be this file.
    if (status?.status === 'completed') {
      for (let n = 1; n <= plan.totalParts; n++) digests[n] = await digestOf(n);
      const expected = multipartEtag(digests.slice(1) as Buffer[]);
      if (!status.etag || normalizeEtag(status.etag) !== expected) {
        throw new SessionStateError('session_completed', `session ${sid} was completed with other content (ETag ${status.etag ?? 'unknown'}, file gives ${expected})`);
      }
      const now = performance.now();
      return {
        session_id: sid,
        file: opts.file,
        file_path: status.file_path ?? '',
        size,
        etag: expected,
        parts_already_stored: plan.totalParts,
        bytes_sent: 0,
        parts_sent: 0,
        parts_total: plan.totalParts,
        chunk_size: plan.chunkSize,
        resumed: true,
        duration_ms: Math.round(now - t0),
        timings: { init_ms: Math.round(tInit - t0), verify_ms: Math.round(now - tInit), upload_ms: 0, complete_ms: 0 },
      };
    }

    // 3. The pipeline, for every part storage does not have.
    const progress = new ProgressTracker(size, plan.totalParts, { bytes: storedBytes, parts: stored.length }, opts.onProgress);
    const buffers: Buffer[] = [];
    let partsSent = 0;
    let bytesSent = 0;
    const ctx: PipelineCtx = {
      opts, deps, reader, plan, digests, etags, concurrency, retry, stallTimeoutMs, limiter, progress, buffers, digestOf, pipelinedHashing: worker !== undefined, emit, sessionId: sid,
      sent: (n) => {
        partsSent++;
        bytesSent += partSize(plan, n);
      },
    };
    const missing: number[] = [];
    for (let n = 1; n <= plan.totalParts; n++) if (!etags.has(n)) missing.push(n);
    await runPipeline(ctx, missing, initialUrls, initialExpiresAt);
    const tUpload = performance.now();

    // 4. Complete, unless the file changed under us (its parts would mix two versions).
    const st1 = await reader.stat();
    if (st1.size !== st0.size || st1.mtimeMs !== st0.mtimeMs) {
      throw new FileMismatchError('file_changed', `${opts.file} was modified during the upload; not completing session ${sid}`);
    }
    let done: CompleteResponse | undefined;
    for (let round = 1; !done; round++) {
      emit({ type: 'completing', parts: plan.totalParts });
      try {
        if (opts.signal?.aborted) throw new InterruptedError(sid, partsSent);
        done = await deps.api.complete(sid, completeParts(plan, etags));
      } catch (err) {
        // Storage lost parts we sent (or never had them): send them again, once.
        const lost = missingFrom(err);
        if (!lost || round > 1) throw err;
        for (const n of lost) etags.delete(n);
        await runPipeline(ctx, lost, [], 0);
      }
    }
    const tDone = performance.now();

    const expected = multipartEtag(digests.slice(1) as Buffer[]);
    if (!done.etag) {
      throw new IntegrityError(`the API reported no ETag for ${done.file_path}, so it cannot be checked against the file (expected ${expected})`);
    }
    if (normalizeEtag(done.etag) !== expected) {
      throw new IntegrityError(`storage assembled ${done.file_path} with ETag ${normalizeEtag(done.etag)}, but the file's parts give ${expected}`);
    }
    if (done.size !== size) throw new IntegrityError(`storage assembled ${done.size} bytes, the file has ${size}`);
    return {
      session_id: sid,
      file: opts.file,
      file_path: done.file_path,
      size,
      etag: expected,
      parts_already_stored: stored.length,
      bytes_sent: bytesSent,
      parts_sent: partsSent,
      parts_total: plan.totalParts,
      chunk_size: plan.chunkSize,
      resumed: status !== undefined,
      duration_ms: Math.round(tDone - t0),
      timings: {
        init_ms: Math.round(tInit - t0),
        verify_ms: Math.round(tVerify - tInit),
        upload_ms: Math.round(tUpload - tVerify),
        complete_ms: Math.round(tDone - tUpload),
      },
    };
  } catch (err) {
    if (err instanceof MpuError && sessionId && err.sessionId === undefined) err.sessionId = sessionId;
    throw err;
  } finally {
    prehash.cancel();
    await prehash.settled();
    await hashWorker?.close();
    await reader.close();
  }
}

/**
 * How many parts the hashing pass may be ahead of the uploaders: a few rounds of uploads, enough
 * to batch URL requests, little enough that URLs stay fresh.
 */
function pipelineWindow(concurrency: number): number {
  return Math.max(8, concurrency * 4);
}

/** Digests computed before the plan was confirmed; each is handed out once. */
interface Prehash {
  readonly plan: PartPlan;
  take(n: number): Promise<Buffer> | undefined;
  cancel(): void;
  settled(): Promise<void>;
}

const NO_PREHASH: Prehash = { plan: planParts(0, 1), take: () => undefined, cancel: () => undefined, settled: async () => undefined };

function startPrehash(reader: PartReader, worker: HashWorker | undefined, plan: PartPlan, count: number): Prehash {
  const pending = new Map<number, Promise<Buffer>>();
  const scratch = worker ? undefined : Buffer.allocUnsafeSlow(Math.min(HASH_BLOCK_SIZE, Math.max(1, plan.chunkSize)));
  let cancelled = false;
  let chain: Promise<unknown> = Promise.resolve();
  for (let n = 1; n <= Math.min(plan.totalParts, count); n++) {
    // One at a time on the main thread (its own scratch buffer); queued in order on the worker.
    const p = worker
      ? worker.digest(plan, n)
      : chain.then(() => (cancelled ? Promise.reject(new Error('cancelled')) : hashPart(reader, plan, n, scratch!)));
    p.catch(() => undefined);
    pending.set(n, p);
    chain = p.catch(() => undefined);
  }
  return {
    plan,
    take(n) {
      const p = pending.get(n);
      pending.delete(n);
      return p;
    },
    cancel() {
      cancelled = true;
      pending.clear();
    },
    settled: () => chain.then(() => undefined),
  };
}

interface PipelineCtx {
  opts: UploadOptions;
  deps: UploadDeps;
  reader: PartReader;
  plan: PartPlan;
  digests: (Buffer | undefined)[];
  etags: Map<number, string>;
  concurrency: number;
  retry: RetryPolicy;
  stallTimeoutMs: number;
  limiter: RateLimiter | undefined;
  progress: ProgressTracker;
  buffers: Buffer[];
  digestOf: (n: number) => Promise<Buffer>;
  /** The digests come from a worker: ask for the next ones before the current one is done. */
  pipelinedHashing: boolean;
  emit: (e: UploadEvent) => void;
  sessionId: string;
  sent: (n: number) => void;
}

/** Hashing pass, URL supplier and uploader pool over `todo` (ascending part numbers). */
async function runPipeline(ctx: PipelineCtx, todo: number[], initialUrls: PartUrl[], initialExpiresAt: number): Promise<void> {
  const { opts, deps, concurrency } = ctx;
  if (todo.length === 0) return;
  const window = pipelineWindow(concurrency);
  const supplier = new UrlSupplier({
    fetchUrls: async (parts) => deps.api.partUrls(ctx.sessionId, parts),
    initialUrls,
    initialExpiresAt,
    window,
    batchSize: Math.max(4, Math.floor(window / 2)),
    lowWater: concurrency,
    expiryMarginMs: 60_000,
  });

  const stop = new AbortController();
  const onStop = () => {
    ctx.emit({ type: 'stopping' });
    stop.abort();
    supplier.close();
  };
  if (opts.signal?.aborted) onStop();
  else opts.signal?.addEventListener('abort', onStop, { once: true });

  const hashing = (async () => {
    // With a worker, keep a couple of parts queued there so it never idles between requests.
    const queued: Promise<Buffer>[] = [];
    let next = 0;
    const ahead = ctx.pipelinedHashing ? 2 : 1;
    for (const n of todo) {
      if (!(await supplier.waitForRoom())) break;
      while (queued.length < ahead && next < todo.length) {
        const p = ctx.digestOf(todo[next++]!);
        p.catch(() => undefined); // awaited below; never an unhandled rejection if we stop early
        queued.push(p);
      }
      const d = await queued.shift()!;
      ctx.digests[n] = d;
      supplier.add(n, d);
    }
    await Promise.allSettled(queued);
    supplier.end();
  })();
  hashing.catch((err: unknown) => supplier.fail(err));

  try {
    await runPool(() => supplier.take(), (job, slot, signal) => sendPart(ctx, supplier, job, slot, signal), { concurrency, stop: stop.signal });
  } catch (err) {
    supplier.close();
    await hashing.catch(() => undefined);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onStop);
  }
  await hashing;
  if (stop.signal.aborted) {
    const sentNow = todo.filter((n) => ctx.etags.has(n)).length;
    throw new InterruptedError(ctx.sessionId, sentNow);
  }
}

async function sendPart(ctx: PipelineCtx, supplier: UrlSupplier, first: PartJob, slot: number, signal: AbortSignal): Promise<void> {
  const { plan, reader, deps, progress } = ctx;
  const n = first.partNumber;
  const size = partSize(plan, n);
  const buf = (ctx.buffers[slot] ??= Buffer.allocUnsafeSlow(Math.max(1, plan.chunkSize)));
  let body = await reader.readPart(plan, n, buf);
  let job = first;
  let refreshes = 0;
  let rehashes = 0;
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const etag = await deps.put({
        dispatcher: deps.dispatcher,
        partNumber: n,
        url: job.url,
        headers: job.headers,
        body,
        signal,
        stallTimeoutMs: ctx.stallTimeoutMs,
        sliceSize: ctx.opts.putSliceSize ?? PUT_SLICE,
        onProgress: (bytes) => progress.update(n, bytes),
        limiter: ctx.limiter,
        urlExpiresAt: job.expiresAt,
      });
      if (!etagMatches(etag, job.md5)) {
        throw new IntegrityError(`storage stored part ${n} with ETag ${normalizeEtag(etag)}, but its MD5 is ${md5Hex(job.md5)}`);
      }
      ctx.etags.set(n, etag);
      progress.done(n, size);
      ctx.sent(n);
      ctx.emit({ type: 'part', part_number: n, size, etag: normalizeEtag(etag), attempts: attempt, ms: Math.round(performance.now() - started) });
      return;
    } catch (err) {
      if (signal.aborted) throw err;
      const kind = classify(err);
      const reason = err instanceof Error ? err.message : String(err);
      if (kind === 'refresh' && refreshes < 3) {
        refreshes++;
        ctx.emit({ type: 'refresh', part_number: n, reason });
        job = await supplier.refresh(job);
        continue;
      }
      if (kind === 'rehash' && rehashes < 2) {
        rehashes++;
        // The bytes we sent do not match the MD5 the hashing pass saw: did the file change?
        body = await reader.readPart(plan, n, buf);
        if (!md5(body).equals(job.md5)) {
          throw new FileMismatchError('file_changed', `${ctx.opts.file} changed during the upload (part ${n}); not completing session ${ctx.sessionId}`);
        }
      } else if (kind !== 'retry' && kind !== 'rehash') {
        throw err;
      }
      if (attempt >= ctx.retry.maxAttempts) throw err;
      const delay = backoffDelay(ctx.retry, attempt, retryAfterOf(err));
      ctx.emit({ type: 'retry', what: `PUT part ${n}`, part_number: n, attempt, delay_ms: delay, reason });
      await sleep(delay, signal);
      if (job.expiresAt - Date.now() < 60_000) job = await supplier.refresh(job);
    }
  }
}

function checkResumable(status: StatusResponse, size: number, file: string): void {
  const id = status.session_id;
  if (status.status === 'aborted' || status.status === 'expired') {
    throw new SessionStateError(`session_${status.status}`, `session ${id} is ${status.status} and cannot be resumed; start a new upload (--restart)`);
  }
  if (status.file_size !== size) {
    throw new FileMismatchError('size_mismatch', `${file} has ${size} bytes but session ${id} is for ${status.file_size} bytes; use --restart to start over`);
  }
}

/** The parts list for complete, when it fits the API's body limit (it is optional). */
function completeParts(plan: PartPlan, etags: Map<number, string>): { part_number: number; etag: string }[] | undefined {
  const parts: { part_number: number; etag: string }[] = [];
  for (let n = 1; n <= plan.totalParts; n++) parts.push({ part_number: n, etag: etags.get(n)! });
  return JSON.stringify({ parts }).length < API_LIMITS.maxBodyBytes - 1024 ? parts : undefined;
}

function missingFrom(err: unknown): number[] | undefined {
  if (!(err instanceof ApiRequestError) || err.code !== 'missing_parts') return undefined;
  const m = err.body?.missing_parts;
  return Array.isArray(m) && m.every((x) => Number.isInteger(x)) && m.length > 0 ? (m as number[]) : undefined;
}
