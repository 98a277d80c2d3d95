/**
 * The session: start a new one (init) or take over an existing one (status), plan its parts,
 * and verify that the parts storage already holds are this source's bytes.
 */
import type { PartUrl, StatusResponse } from '../../contract/api.js';
import { S3_LIMITS } from '../../contract/limits.js';
import { countParts, minimumChunkSize, partSize, planParts, type PartPlan } from '../../contract/parts.js';
import { FileMismatchError, MpuError, SessionStateError, UsageError } from '../errors.js';
import { etagMatches, md5Hex, normalizeEtag } from '../etag.js';
import { formatBytes, formatSizeArg } from '../sizes.js';
import { PartDigests } from './digests.js';
import type { Md5Port, PartSource } from './ports.js';
import type { UploadApi } from './types.js';

export interface Session {
  id: string;
  plan: PartPlan;
  resumed: boolean;
  /** When the server reclaims the session. */
  expiresAt: string;
  /** Parts storage holds (resume), not yet checked against the source. */
  stored: StatusResponse['uploaded_parts'];
  /** Set when a resumed session was already completed. */
  completed?: { etag: string | undefined; filePath: string };
  /** Unbound URLs from init, valid until `initialExpiresAt` (ms since epoch). */
  initialUrls: readonly PartUrl[];
  initialExpiresAt: number;
}

export interface OpenOptions {
  resumeSessionId?: string;
  chunkSize?: number;
  filename: string;
  contentType?: string;
}

/**
 * Starts or resumes the session, with the digests of its plan. Any error once the session
 * exists carries its id (the caller may resume it).
 */
export async function openSession(api: UploadApi, source: PartSource, md5: Md5Port, o: OpenOptions): Promise<{ session: Session; digests: PartDigests }> {
  if (o.resumeSessionId) {
    const status = await api.status(o.resumeSessionId);
    return tagged(status.session_id, async () => {
      const session = resumedSession(status, source);
      return { session, digests: new PartDigests(source, session.plan, md5) };
    });
  }
  if (o.chunkSize !== undefined) checkChunkFits(source.size, o.chunkSize);
  const init = await api.init({
    filename: o.filename,
    file_size: source.size,
    ...(o.chunkSize !== undefined ? { chunk_size: o.chunkSize } : {}),
    ...(o.contentType ? { content_type: o.contentType } : {}),
  });
  const plan = planParts(source.size, init.chunk_size);
  if (plan.totalParts !== init.total_parts) {
    throw Object.assign(new MpuError('bad_response', `server planned ${init.total_parts} parts, expected ${plan.totalParts}`), { sessionId: init.session_id });
  }
  const session: Session = {
    id: init.session_id,
    plan,
    resumed: false,
    expiresAt: init.expires_at,
    stored: [],
    initialUrls: init.parts,
    initialExpiresAt: Date.now() + init.url_expires_in * 1000,
  };
  // Nothing to hash ahead: the uploaders hash each part from the bytes they read to send it.
  return { session, digests: new PartDigests(source, plan, md5) };
}

function resumedSession(status: StatusResponse, source: PartSource): Session {
  const id = status.session_id;
  if (status.status === 'aborted' || status.status === 'expired') {
    throw new SessionStateError(`session_${status.status}`, `session ${id} is ${status.status} and cannot be resumed; start a new upload (--restart)`);
  }
  if (status.file_size !== source.size) {
    throw new FileMismatchError('size_mismatch', `${source.name} has ${source.size} bytes but session ${id} is for ${status.file_size} bytes; use --restart to start over`);
  }
  const plan = planParts(source.size, status.chunk_size);
  if (plan.totalParts !== status.total_parts) throw new MpuError('bad_response', `session has ${status.total_parts} parts, expected ${plan.totalParts}`);
  const completed = status.status === 'completed';
  return {
    id,
    plan,
    resumed: true,
    expiresAt: status.expires_at,
    stored: completed ? [] : status.uploaded_parts,
    ...(completed ? { completed: { etag: status.etag, filePath: status.file_path ?? '' } } : {}),
    initialUrls: [],
    initialExpiresAt: 0,
  };
}

/**
 * Parts already in storage must be this source's bytes, or the object would mix two files.
 * Returns their ETags and total size.
 */
export async function verifyStored(session: Session, digests: PartDigests, name: string): Promise<{ etags: Map<number, string>; bytes: number }> {
  const { plan, id } = session;
  const etags = new Map<number, string>();
  let bytes = 0;
  for (const p of [...session.stored].sort((a, b) => a.part_number - b.part_number)) {
    if (p.part_number < 1 || p.part_number > plan.totalParts) throw new MpuError('bad_response', `stored part ${p.part_number} is outside 1..${plan.totalParts}`);
    const want = partSize(plan, p.part_number);
    if (p.size !== want) {
      throw new FileMismatchError('part_mismatch', `${name} does not match session ${id}: stored part ${p.part_number} has ${p.size} bytes, the file's has ${want}; use --restart to start over`);
    }
    const d = await digests.of(p.part_number);
    if (!etagMatches(p.etag, d)) {
      throw new FileMismatchError(
        'part_mismatch',
        `${name} does not match session ${id}: stored part ${p.part_number} differs from the file (ETag ${normalizeEtag(p.etag)}, file MD5 ${md5Hex(d)}); the file changed since the upload started; use --restart to start over`,
      );
    }
    etags.set(p.part_number, p.etag);
    bytes += want;
  }
  return { etags, bytes };
}

/** A chunk size that would split the file into more parts than S3 allows: refused before any request. */
function checkChunkFits(size: number, chunkSize: number): void {
  const parts = countParts(size, chunkSize);
  if (parts <= S3_LIMITS.maxParts) return;
  throw new UsageError(
    `chunk size ${formatSizeArg(chunkSize)} splits the file (${formatBytes(size)}) into ${parts} parts; S3 allows ` +
      `${S3_LIMITS.maxParts.toLocaleString('en-US')}. Use a chunk size of at least ${formatSizeArg(minimumChunkSize(size))}, or none to have it chosen`,
  );
}

/** Runs `fn`; an MpuError it throws names session `id` unless it names one already. */
export async function tagged<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MpuError && err.sessionId === undefined) err.sessionId = id;
    throw err;
  }
}
