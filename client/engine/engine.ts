/**
 * The upload engine: session (init or resume, verify what storage holds), pipeline (the parts
 * storage lacks), completion (complete, ETag check). It reads through a PartSource and sends
 * through a PartTransport, so it runs wherever those two can be implemented.
 *
 * Memory: one chunk-sized buffer per uploader and per part read ahead, the hasher's 1 MiB scratch (resume), 16 bytes per part.
 * An error never aborts the session server-side: whatever was stored can be resumed.
 */
import { ProgressTracker } from '../progress.js';
import { RateLimiter } from '../rate-limit.js';
import { DEFAULT_RETRY } from '../retry.js';
import { checkCompleted, completeUpload } from './completion.js';
import { Pipeline } from './pipeline.js';
import type { Md5Port, PartSource, PartTransport } from './ports.js';
import { openSession, tagged, verifyStored } from './session.js';
import { checkConcurrency, checkMaxMemory, WorkerCount } from './worker-count.js';
import type { EngineOptions, UploadApi, UploadResult } from './types.js';

export interface EngineDeps {
  api: UploadApi;
  transport: PartTransport;
  /** Where MD5s are computed (Node's crypto, or a Web Worker in a browser). */
  md5: Md5Port;
}

export async function uploadSource(source: PartSource, opts: EngineOptions, deps: EngineDeps): Promise<UploadResult> {
  const t0 = performance.now();
  // Refused before init: nothing is created for options that cannot run.
  checkConcurrency(opts.concurrency);
  if (opts.maxConcurrency !== undefined) checkConcurrency(opts.maxConcurrency, 'maxConcurrency');
  checkMaxMemory(opts.maxMemory);
  const emit = (e: Parameters<NonNullable<EngineOptions['onEvent']>>[0]) => opts.onEvent?.(e);
  const version = await source.version?.();

  const { session, digests } = await openSession(deps.api, source, deps.md5, {
    resumeSessionId: opts.resumeSessionId,
    chunkSize: opts.chunkSize,
    filename: opts.filename ?? source.name,
    contentType: opts.contentType,
  });
  const { plan } = session;
  const ms = (a: number, b: number) => Math.round(b - a);
  type Outcome = Pick<UploadResult, 'file_path' | 'etag' | 'parts_already_stored' | 'bytes_sent' | 'parts_sent'>;
  /** Times (performance.now()) at which init, verification, the uploads and completion ended. */
  const result = (r: Outcome, tInit: number, tVerify: number, tUpload = tVerify, tDone = tVerify): UploadResult => ({
    session_id: session.id,
    file: source.name,
    size: source.size,
    parts_total: plan.totalParts,
    chunk_size: plan.chunkSize,
    resumed: session.resumed,
    ...r,
    duration_ms: ms(t0, tDone),
    timings: { init_ms: ms(t0, tInit), verify_ms: ms(tInit, tVerify), upload_ms: ms(tVerify, tUpload), complete_ms: ms(tUpload, tDone) },
  });

  return tagged(session.id, async () => {
    try {
      emit({
        type: 'session',
        session_id: session.id,
        resumed: session.resumed,
        file_size: source.size,
        chunk_size: plan.chunkSize,
        total_parts: plan.totalParts,
        stored_parts: session.stored.length,
        expires_at: session.expiresAt,
      });
      const tInit = performance.now();
      const stored = await verifyStored(session, digests, source.name);
      if (session.stored.length > 0) emit({ type: 'verified', parts: session.stored.length, bytes: stored.bytes, ms: ms(tInit, performance.now()) });

      if (session.completed) {
        const etag = await checkCompleted(session, digests);
        const file_path = session.completed.filePath;
        return result({ file_path, etag, parts_already_stored: plan.totalParts, bytes_sent: 0, parts_sent: 0 }, tInit, performance.now());
      }
      const tVerify = performance.now();

      const missing = Array.from({ length: plan.totalParts }, (_, i) => i + 1).filter((n) => !stored.etags.has(n));
      const workers = new WorkerCount({
        concurrency: opts.concurrency,
        ...(opts.maxConcurrency !== undefined ? { maxConcurrency: opts.maxConcurrency } : {}),
        ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
        partSize: plan.chunkSize,
        ...(deps.api.networkRttMs !== undefined ? { rttMs: deps.api.networkRttMs } : {}),
        // Lazy slices (a browser Blob) are sent as they are: no part buffers.
        buffered: source.slice === undefined,
        parts: missing.length,
        startedAt: t0,
        onChange: (c) => {
          emit({ type: 'concurrency', ...c });
          // Called from progress, which only the pipeline's parts make: it exists by then.
          pipeline.resize();
        },
      });
      // The count measures goodput from the same bytes the progress shows (in flight included).
      const progress = new ProgressTracker(source.size, plan.totalParts, { bytes: stored.bytes, parts: session.stored.length }, (p) => {
        workers.progress(p.bytesDone);
        opts.onProgress?.(p);
      });
      const pipeline = new Pipeline({
        sessionId: session.id,
        plan,
        source,
        digests,
        transport: deps.transport,
        md5: deps.md5,
        fetchUrls: (parts) => deps.api.partUrls(session.id, parts),
        etags: stored.etags,
        concurrency: () => workers.limit,
        readAhead: () => workers.readAhead,
        retry: { ...DEFAULT_RETRY, ...opts.retry },
        stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
        limiter: opts.rateLimit ? new RateLimiter(opts.rateLimit) : undefined,
        progress,
        signal: opts.signal,
        emit: (e) => {
          // A PUT retried (5xx, SlowDown, stall, network): fewer parts in flight. URL refreshes are not congestion.
          if (e.type === 'retry' && e.part_number !== undefined) workers.trouble();
          emit(e);
          if (e.type === 'part') workers.partDone(progress.snapshot().bytesDone, { bytes: e.size, ms: e.ms });
        },
      });
      await pipeline.run(missing, session.initialUrls, session.initialExpiresAt);
      const tUpload = performance.now();

      const done = await completeUpload({ api: deps.api, session, source, version, etags: stored.etags, pipeline, signal: opts.signal, emit }, digests);
      const { partsSent: parts_sent, bytesSent: bytes_sent } = pipeline;
      const outcome = { ...done, parts_already_stored: session.stored.length, bytes_sent, parts_sent };
      return { ...result(outcome, tInit, tVerify, tUpload, performance.now()), concurrency: workers.summary() };
    } finally {
      await digests.close();
    }
  });
}
