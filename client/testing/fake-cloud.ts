/**
 * In-memory stand-in for the upload API and S3 (no network), for unit tests of the engine: it
 * keeps sessions and part MD5s, checks Content-MD5 like S3 does, expires URLs, answers errors
 * with S3's XML bodies, and lets a test inject faults per PUT.
 */
import { createHash } from 'node:crypto';
import type { CompleteResponse, InitRequest, InitResponse, PartUrl, PartUrlResponse, StatusResponse } from '../../contract/api.js';
import { API_LIMITS } from '../../contract/limits.js';
import { missingParts, partSize, planParts } from '../../contract/parts.js';
import type { PartTransport, PutRequest, PutResponse } from '../engine/ports.js';
import type { UploadApi } from '../engine/types.js';
import { ApiRequestError } from '../errors.js';
import { multipartEtag } from '../hashing.js';

interface FakeSession {
  id: string;
  filename: string;
  fileSize: number;
  chunkSize: number;
  totalParts: number;
  status: StatusResponse['status'];
  parts: Map<number, { md5: Buffer; size: number }>;
  etag?: string;
}

/**
 * What a PUT should do instead of succeeding: an HTTP error (S3's XML body with `code` and
 * `message`), a thrown network error, or hanging (no progress, no answer) until aborted.
 */
export type PutFault = { status: number; code?: string; message?: string; retryAfter?: string } | { throw: Error } | { hang: true } | undefined;

export class FakeCloud {
  readonly sessions = new Map<string, FakeSession>();
  urlLifetimeSeconds = 900;
  /** The message of the 403 AccessDenied for an expired URL: AWS S3's; Ceph RGW sends ''. */
  expiredUrlMessage = 'Request has expired';
  /** Part size the server imposes, whatever the client asks (like raising it to S3's minimum). */
  forceChunkSize: number | undefined;
  /** Latency of a /parts call. */
  partUrlsLatencyMs = 0;
  now = () => Date.now();
  /** Called before each PUT is applied. */
  fault: (partNumber: number, attempt: number, req: PutRequest) => PutFault = () => undefined;
  /** Called after a part is stored (e.g. to abort a signal mid-upload). */
  afterPut: (partNumber: number) => void = () => undefined;
  readonly stats = { partUrlCalls: 0, partUrlCounts: [] as number[], puts: 0, putsByPart: new Map<number, number>(), maxConcurrentPuts: 0, blobPuts: 0 };
  private concurrentPuts = 0;
  private nextId = 0;

  readonly api: UploadApi = {
    init: async (req: InitRequest): Promise<InitResponse> => {
      const chunk = this.forceChunkSize ?? req.chunk_size ?? 5 * 1024 * 1024;
      // The fake plays sized sessions only (the engine always sends file_size).
      const plan = planParts(req.file_size ?? 0, chunk);
      const id = `fake${String(this.nextId++).padStart(18, '0')}`;
      this.sessions.set(id, {
        id,
        filename: req.filename,
        fileSize: plan.fileSize,
        chunkSize: chunk,
        totalParts: plan.totalParts,
        status: 'in_progress',
        parts: new Map(),
      });
      const first = Math.min(plan.totalParts, API_LIMITS.initialUrlCount);
      return {
        session_id: id,
        total_parts: plan.totalParts,
        chunk_size: chunk,
        expires_at: new Date(this.now() + 86_400_000).toISOString(),
        url_expires_in: this.urlLifetimeSeconds,
        parts: Array.from({ length: first }, (_, i) => this.url(id, i + 1)),
      };
    },
    partUrls: async (sessionId, parts): Promise<PartUrlResponse> => {
      const s = this.session(sessionId);
      if (parts.length > API_LIMITS.maxUrlsPerRequest) throw new ApiRequestError(400, { error: 'validation_error', message: 'too many' }, 'parts');
      this.stats.partUrlCalls++;
      this.stats.partUrlCounts.push(parts.length);
      if (this.partUrlsLatencyMs > 0) await new Promise((r) => setTimeout(r, this.partUrlsLatencyMs));
      return { session_id: s.id, url_expires_in: this.urlLifetimeSeconds, parts: parts.map((p) => this.url(s.id, p.part_number, p.md5)) };
    },
    status: async (sessionId): Promise<StatusResponse> => {
      const s = this.session(sessionId);
      const stored = [...s.parts.entries()].sort((a, b) => a[0] - b[0]);
      return {
        session_id: s.id,
        filename: s.filename,
        file_size: s.fileSize,
        chunk_size: s.chunkSize,
        total_parts: s.totalParts,
        completed_parts: stored.map(([n]) => n),
        uploaded_parts: s.status === 'completed' ? [] : stored.map(([n, p]) => ({ part_number: n, size: p.size, etag: `"${p.md5.toString('hex')}"` })),
        bytes_uploaded: stored.reduce((a, [, p]) => a + p.size, 0),
        status: s.status,
        created_at: new Date(0).toISOString(),
        expires_at: new Date(this.now() + 86_400_000).toISOString(),
        ...(s.status === 'completed' ? { file_path: `s3://bucket/${s.id}/${s.filename}`, etag: s.etag } : {}),
      };
    },
    complete: async (sessionId, clientParts): Promise<CompleteResponse> => {
      const s = this.session(sessionId);
      if (s.status !== 'completed') {
        const missing = missingParts(s.totalParts, s.parts.keys());
        if (missing.length > 0) {
          throw new ApiRequestError(409, { error: 'missing_parts', message: 'missing', missing_parts: missing }, 'complete');
        }
        const plan = planParts(s.fileSize, s.chunkSize);
        for (const [n, p] of s.parts) if (p.size !== partSize(plan, n)) throw new ApiRequestError(409, { error: 'part_mismatch', message: 'size' }, 'complete');
        for (const cp of clientParts ?? []) {
          if (cp.etag.replace(/"/g, '') !== s.parts.get(cp.part_number)?.md5.toString('hex')) {
            throw new ApiRequestError(409, { error: 'part_mismatch', message: 'etag' }, 'complete');
          }
        }
        s.etag = `"${multipartEtag([...s.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p.md5))}"`;
        s.status = 'completed';
      }
      return { session_id: s.id, status: 'completed', file_path: `s3://bucket/${s.id}/${s.filename}`, size: s.fileSize, etag: s.etag! };
    },
  };

  readonly transport: PartTransport = {
    put: async (o: PutRequest): Promise<PutResponse> => {
      const u = new URL(o.url);
      const [, sid, n] = u.pathname.split('/');
      const partNumber = Number(n);
      const attempt = (this.stats.putsByPart.get(partNumber) ?? 0) + 1;
      this.stats.putsByPart.set(partNumber, attempt);
      this.stats.puts++;
      this.concurrentPuts++;
      this.stats.maxConcurrentPuts = Math.max(this.stats.maxConcurrentPuts, this.concurrentPuts);
      try {
        // Let other uploaders run, like a real request would.
        await new Promise((r) => setImmediate(r));
        // A lazy slice (a Blob source) is read here, as a browser's network stack reads it.
        const body = o.body instanceof Uint8Array ? o.body : new Uint8Array(await o.body.arrayBuffer());
        if (!(o.body instanceof Uint8Array)) this.stats.blobPuts++;
        o.onProgress(Math.floor(body.length / 2));
        const fault = this.fault(partNumber, attempt, o);
        if (fault && 'throw' in fault) throw fault.throw;
        if (fault && 'hang' in fault) return await hang(o.signal);
        if (fault) return refused(fault.status, fault.code, fault.message, fault.retryAfter);
        if (Number(u.searchParams.get('exp')) <= this.now()) return refused(403, 'AccessDenied', this.expiredUrlMessage);
        const headers = lower(o.headers);
        const bound = u.searchParams.get('md5');
        if (bound && headers['content-md5'] !== bound) return refused(403, 'SignatureDoesNotMatch');
        const digest = createHash('md5').update(body).digest();
        if (headers['content-md5'] && headers['content-md5'] !== digest.toString('base64')) return refused(400, 'BadDigest');
        const s = this.session(sid!);
        if (s.status !== 'in_progress') return refused(404, 'NoSuchUpload');
        s.parts.set(partNumber, { md5: digest, size: body.length });
        o.onProgress(body.length);
        this.afterPut(partNumber);
        return { status: 200, etag: `"${digest.toString('hex')}"`, retryAfter: undefined, body: '' };
      } finally {
        this.concurrentPuts--;
      }
    },
  };

  private url(sessionId: string, partNumber: number, md5?: string): PartUrl {
    const q = new URLSearchParams({ exp: String(this.now() + this.urlLifetimeSeconds * 1000), ...(md5 ? { md5 } : {}) });
    return { part_number: partNumber, url: `http://fake.invalid/${sessionId}/${partNumber}?${q}`, headers: md5 ? { 'Content-MD5': md5 } : {} };
  }

  private session(id: string): FakeSession {
    const s = this.sessions.get(id);
    if (!s) throw new ApiRequestError(404, { error: 'not_found', message: `no upload session ${id}` }, 'status');
    return s;
  }
}

/** S3's error answer. */
function refused(status: number, code?: string, message?: string, retryAfter?: string): PutResponse {
  const body = code === undefined ? '' : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message ?? ''}</Message></Error>`;
  return { status, etag: undefined, retryAfter, body };
}

/** A connection that accepts nothing and never answers, until the request is aborted. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
