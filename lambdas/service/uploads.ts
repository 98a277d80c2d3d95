/**
 * The use cases behind the HTTP routes. Each takes the caller (owner) and checked input,
 * applies the session rules, and talks to storage and the table through Deps.
 */
import { createHash } from 'node:crypto';
import type {
  AbortResponse,
  CompleteRequest,
  CompleteResponse,
  InitResponse,
  PartUrlRequest,
  PartUrlResponse,
  SessionStatus,
  StatusResponse,
  UploadedPart,
} from '../../contract/api.js';
import { ApiError, isApiError } from '../core/errors.js';
import { objectKeyFor } from '../core/filename.js';
import { API_LIMITS, DEFAULTS, S3_LIMITS } from '../../contract/limits.js';
import { missingParts, partSize, planParts, type PartPlan } from '../../contract/parts.js';
import { effectiveStatus, filePath, isFinal, isUnsized, type SessionRecord } from '../core/session.js';
import { checkInit, checkPartNumbers, checkStreamParts } from '../core/validation.js';
import { TABLE } from '../aws/table-definition.js';
import type { IdempotencyClaim, Sized } from '../aws/session-store.js';
import type { CompleteOutcome } from '../aws/storage.js';
import { iso, leaseIsStale, recordFoundObject, refOf, reportCompleted, staleBefore, storedObject } from './completion.js';
import type { Deps } from './deps.js';

/** Spreads open sessions over the index's shards by a hash of the id. */
export function openShardOf(sessionId: string): string {
  const n = createHash('sha256').update(sessionId).digest().readUInt32BE(0) % TABLE.openSessionsIndex.shards;
  return `open#${n}`;
}

export interface InitOptions {
  /** The client's Idempotency-Key: the same key and request from the same owner open one session. */
  idempotencyKey?: string;
}

export async function initUpload(deps: Deps, owner: string, body: unknown, opts: InitOptions = {}): Promise<InitResponse> {
  const { config } = deps;
  const checked = checkInit(body, {
    minPartSize: config.minPartSize,
    maxFileSize: config.maxFileSize,
    defaultChunkSize: DEFAULTS.chunkSize,
  });
  const now = deps.now();
  const idempotency =
    opts.idempotencyKey === undefined ? undefined : { key: opts.idempotencyKey, fingerprint: initFingerprint(checked) };
  const sessionId = deps.newId();
  const key = objectKeyFor(config.objectKeyPrefix, sessionId, checked.filename);
  const expiresAt = new Date(now.getTime() + config.sessionTtlSeconds * 1000);

  const uploadId = await deps.storage.create(key, checked.contentType, { 'session-id': sessionId });
  const session: SessionRecord = {
    session_id: sessionId,
    owner,
    filename: checked.filename,
    content_type: checked.contentType,
    object_key: key,
    upload_id: uploadId,
    // A stream (no file_size) gets both when it completes.
    ...(checked.plan ? { file_size: checked.plan.fileSize, total_parts: checked.plan.totalParts } : {}),
    chunk_size: checked.chunkSize,
    status: 'in_progress',
    created_at: iso(now),
    updated_at: iso(now),
    expires_at: iso(expiresAt),
    ttl: Math.floor(expiresAt.getTime() / 1000) + DEFAULTS.rowRetentionSeconds,
    open_shard: openShardOf(sessionId),
  };
  // The cap and the key are checked in the transaction that creates the row: exact under any
  // concurrency, at the price of a multipart upload created and aborted when one refuses.
  const created = await deps.store
    .create(session, { maxOpen: config.maxOpenSessionsPerOwner, ...(idempotency ? { idempotency } : {}) })
    .catch(async (e: unknown) => {
      // No row, no upload: never leave an orphaned multipart upload behind.
      await deps.storage.abort({ key, uploadId }).catch(() => undefined);
      throw e;
    });
  if (!created.ok) {
    await deps.storage.abort({ key, uploadId }).catch(() => undefined);
    if (created.reason === 'key_used') return replayInit(deps, owner, created.claim, idempotency!.fingerprint);
    throw new ApiError(
      'too_many_open_sessions',
      `you have ${created.open} open upload sessions, the most allowed; complete or abort one first`,
      { open_sessions: created.open },
      { 'Retry-After': String(DEFAULTS.capRetryAfterSeconds) },
    );
  }

  deps.events({ type: 'started', fileSize: session.file_size ?? 0, totalParts: session.total_parts ?? 0 });
  return initResponse(deps, session);
}

/** What makes two inits the same request: the session they would open. */
function initFingerprint(checked: ReturnType<typeof checkInit>): string {
  const { filename, contentType, plan, chunkSize } = checked;
  return createHash('sha256').update(JSON.stringify([filename, contentType, plan?.fileSize ?? null, chunkSize])).digest('base64url');
}

/** An init whose Idempotency-Key opened a session before: that session, with fresh URLs. */
async function replayInit(deps: Deps, owner: string, claim: IdempotencyClaim, fingerprint: string): Promise<InitResponse> {
  if (claim.fingerprint !== fingerprint) {
    throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was sent before with another request; use a new key for a new upload');
  }
  const session = await loadOwned(deps, owner, claim.sessionId);
  requireOpen(session, deps.now());
  return initResponse(deps, session);
}

/** init's answer: the session and unbound URLs for its first parts. */
async function initResponse(deps: Deps, session: SessionRecord): Promise<InitResponse> {
  const expiresIn = urlLifetime(deps, session);
  const first = Math.min(partLimit(session), API_LIMITS.initialUrlCount);
  const parts = await Promise.all(
    Array.from({ length: first }, (_, i) => deps.storage.presignPart(refOf(session), i + 1, expiresIn)),
  );
  deps.events({ type: 'urls_issued', count: parts.length });
  return {
    session_id: session.session_id,
    total_parts: session.total_parts ?? null,
    chunk_size: session.chunk_size,
    expires_at: session.expires_at,
    url_expires_in: expiresIn,
    parts,
  };
}

export async function presignParts(deps: Deps, owner: string, sessionId: string, req: PartUrlRequest): Promise<PartUrlResponse> {
  const session = await loadOwned(deps, owner, sessionId);
  requireOpen(session, deps.now());
  checkPartNumbers(
    req.parts.map((p) => p.part_number),
    partLimit(session),
  );
  const expiresIn = urlLifetime(deps, session);
  const parts = await Promise.all(
    req.parts.map((p) => deps.storage.presignPart(refOf(session), p.part_number, expiresIn, p.md5)),
  );
  deps.events({ type: 'urls_issued', count: parts.length });
  return { session_id: sessionId, url_expires_in: expiresIn, parts };
}

export async function getStatus(deps: Deps, owner: string, sessionId: string): Promise<StatusResponse> {
  const session = await loadOwned(deps, owner, sessionId);
  const now = deps.now();
  const status = effectiveStatus(session, now);
  if (status !== 'in_progress' && status !== 'completing') return statusResponse(deps, session, status, []);
  try {
    return statusResponse(deps, session, status, await storedParts(deps, session));
  } catch (e) {
    if (!(isApiError(e) && e.code === 'session_aborted')) throw e;
    // A status that answered 410 here would make a resuming client start the whole file again.
    const settled = await settleFoundObject(deps, session, now);
    if (!settled) throw e;
    return statusResponse(deps, settled, effectiveStatus(settled, now), []);
  }
}

/**
 * The multipart upload is gone while the session is open: a complete whose answer was lost may
 * have had S3 assemble the object and given its lease back. An object of the planned size at the
 * session's key is that upload: it is recorded completed (from `in_progress` or over a stale
 * lease, as complete, abort and the sweeper do). Answers the row as it now is, or undefined when
 * there is no such object or a live lease holder is still at work.
 */
async function settleFoundObject(deps: Deps, session: SessionRecord, now: Date): Promise<SessionRecord | undefined> {
  if (session.status === 'completing' && !leaseIsStale(session, now)) return undefined;
  const found = await storedObject(deps, session);
  if (!found) return undefined;
  const done = await recordFoundObject(deps, session, found, now);
  if (done.ok) return done.session;
  // Another caller changed the row first: its final state is the answer.
  return done.current && isFinal(done.current.status) ? done.current : undefined;
}

function statusResponse(deps: Deps, session: SessionRecord, status: SessionStatus, stored: UploadedPart[]): StatusResponse {
  let uploaded = stored;
  if (status === 'completed') {
    const plan = planOf(session);
    uploaded = Array.from({ length: plan.totalParts }, (_, i) => ({
      part_number: i + 1,
      size: partSize(plan, i + 1),
      etag: '',
    }));
  }
  return {
    session_id: session.session_id,
    filename: session.filename,
    file_size: session.file_size ?? null,
    chunk_size: session.chunk_size,
    total_parts: session.total_parts ?? null,
    completed_parts: uploaded.map((p) => p.part_number),
    uploaded_parts: status === 'completed' ? [] : uploaded,
    bytes_uploaded: uploaded.reduce((sum, p) => sum + p.size, 0),
    status,
    created_at: session.created_at,
    expires_at: session.expires_at,
    ...(status === 'completed' ? { file_path: filePath(deps.storage.bucket, session.object_key), etag: session.etag ?? '' } : {}),
  };
}

export async function completeUpload(
  deps: Deps,
  owner: string,
  sessionId: string,
  req: CompleteRequest,
): Promise<CompleteResponse> {
  const session = await loadOwned(deps, owner, sessionId);
  const now = deps.now();
  const status = effectiveStatus(session, now);
  if (status === 'completed') return completedResponse(deps, session);
  if (status !== 'in_progress' && !(status === 'completing' && leaseIsStale(session, now))) {
    throw stateError(session, now);
  }

  let parts: UploadedPart[];
  try {
    parts = await storedParts(deps, session);
  } catch (e) {
    if (isApiError(e) && e.code === 'session_aborted') return adoptStoredObject(deps, session, now, e);
    throw e;
  }
  // A stream is sized here: by the parts the client names, as storage holds them.
  const sized = isUnsized(session) ? sizeStream(deps, session, parts, req) : undefined;
  const plan = sized ? planParts(sized.file_size, session.chunk_size) : planOf(session);
  parts = parts.filter((p) => p.part_number <= plan.totalParts);
  checkPartsComplete(plan, parts, req);

  const lease = await deps.store.beginCompleting(session, iso(now), iso(staleBefore(now)));
  if (!lease.ok) return answerLostRace(deps, lease.current, now);
  const leased = lease.session;
  const leaseSince = leased.completing_since!;
  const giveBack = () => deps.store.releaseCompleting(leased, leaseSince, iso(deps.now()));

  const outcome = await deps.storage.complete(refOf(session), parts).catch(async (e: unknown): Promise<CompleteOutcome> => {
    // No answer is not a refusal: S3 may have assembled the object and the answer got lost.
    const found = await storedObject(deps, session).catch(() => undefined);
    if (found) return { ok: true, etag: found.etag };
    await giveBack();
    throw e;
  });
  let etag: string;
  if (outcome.ok) {
    etag = outcome.etag;
  } else if (outcome.reason === 'no_such_upload') {
    // An earlier completer may have finished in S3 and died before writing the table.
    const found = await storedObject(deps, session);
    if (!found) {
      await giveBack();
      throw new ApiError('session_aborted', 'the multipart upload no longer exists in storage');
    }
    etag = found.etag;
  } else {
    await giveBack();
    throw new ApiError('part_mismatch', `storage refused the parts: ${outcome.message}`);
  }

  const done = await deps.store.markCompleted(leased, leaseSince, etag, iso(deps.now()), sized);
  if (!done.ok) return answerLostRace(deps, done.current, deps.now());
  reportCompleted(deps, done.session);
  return completedResponse(deps, done.session);
}

/**
 * The multipart upload is gone from storage while the session is still open. An earlier complete
 * may have had S3 assemble the object and never heard back (it then gave its lease back): the
 * object key belongs to this session alone, so an object of the planned size there is this
 * upload, and is recorded as completed. Otherwise the session ended meanwhile (its final state is
 * the answer), or the upload was removed behind our back (`gone`).
 */
async function adoptStoredObject(deps: Deps, session: SessionRecord, now: Date, gone: ApiError): Promise<CompleteResponse> {
  const found = await storedObject(deps, session);
  if (!found) {
    // An abort or the sweeper ends the row first, then the upload: answer with what it wrote.
    const current = await deps.store.get(session.session_id);
    if (current && current.status !== 'in_progress') return answerLostRace(deps, current, deps.now());
    throw gone;
  }
  const done = await recordFoundObject(deps, session, found, now);
  if (!done.ok) return answerLostRace(deps, done.current, now);
  return completedResponse(deps, done.session);
}

export async function abortUpload(deps: Deps, owner: string, sessionId: string): Promise<AbortResponse> {
  const session = await loadOwned(deps, owner, sessionId);
  const now = deps.now();
  if (session.status === 'aborted') {
    // A repeat: make sure storage is clean (the first call may have died after the table write).
    await deps.storage.abort(refOf(session));
    throw stateError(session, now);
  }
  if (session.status !== 'in_progress') throw stateError(session, now);
  // A complete whose answer was lost may have had storage assemble the object: that upload is
  // finished, and an abort must neither delete it nor leave it behind an `aborted` row.
  const found = await storedObject(deps, session);
  if (found) {
    const done = await recordFoundObject(deps, session, found, now);
    throw stateError(done.ok ? done.session : (done.current ?? session), now);
  }
  const result = await deps.store.markAborted(session, iso(now));
  if (!result.ok) throw stateError(result.current ?? session, now);
  await deps.storage.abort(refOf(session));
  deps.events({ type: 'aborted' });
  return { session_id: sessionId, status: 'aborted' };
}

// --- rules shared by the use cases -------------------------------------------------------

async function loadOwned(deps: Deps, owner: string, sessionId: string): Promise<SessionRecord> {
  const session = await deps.store.get(sessionId);
  // Another owner's session answers exactly like a missing one: no existence leak.
  if (!session || session.owner !== owner) throw new ApiError('not_found', `no upload session ${sessionId}`);
  return session;
}

function requireOpen(session: SessionRecord, now: Date): void {
  if (effectiveStatus(session, now) !== 'in_progress') throw stateError(session, now);
}

function stateError(session: SessionRecord, now: Date): ApiError {
  const status = effectiveStatus(session, now);
  switch (status) {
    case 'completed':
      return new ApiError('session_completed', 'the upload is already completed');
    case 'aborted':
      return new ApiError('session_aborted', 'the upload was aborted');
    case 'expired':
      return new ApiError('session_expired', `the upload session expired at ${session.expires_at}`);
    case 'completing':
      return new ApiError('session_busy', 'the upload is being completed; retry shortly', {}, { 'Retry-After': '2' });
    case 'in_progress':
      return new ApiError('session_busy', 'the upload changed state concurrently; retry', {}, { 'Retry-After': '1' });
  }
}

/** The parts storage holds for this session (ListParts, all pages), within its planned count. */
async function storedParts(deps: Deps, session: SessionRecord): Promise<UploadedPart[]> {
  return (await deps.storage.listParts(refOf(session))).filter((p) => p.part_number <= partLimit(session));
}

/** Highest part number the session may use: its planned count, or S3's limit for a stream. */
function partLimit(session: SessionRecord): number {
  return session.total_parts ?? S3_LIMITS.maxParts;
}

/** The plan of a sized session (every session but an open stream). */
function planOf(session: SessionRecord): PartPlan {
  if (session.file_size === undefined) throw new Error(`session ${session.session_id} has no size yet`);
  return planParts(session.file_size, session.chunk_size);
}

/**
 * A stream's size at complete: parts 1..N, full but the last, as storage holds them, within the
 * stack's maximum object size. N is `total_parts`, else the highest part number of `parts`, else
 * the highest part storage holds (a client sends only the parts it read, so storage's are the
 * stream; the client checks the object's ETag against its own digests).
 */
function sizeStream(deps: Deps, session: SessionRecord, stored: readonly UploadedPart[], req: CompleteRequest): Sized {
  const highest = (numbers: number[]) => numbers.reduce((a, b) => Math.max(a, b), 0);
  const total = req.total_parts ?? (req.parts && req.parts.length > 0 ? highest(req.parts.map((p) => p.part_number)) : Math.max(1, highest(stored.map((p) => p.part_number))));
  const sizes = new Map(stored.map((p) => [p.part_number, p.size]));
  const plan = checkStreamParts(total, session.chunk_size, sizes, { maxFileSize: deps.config.maxFileSize });
  return { file_size: plan.fileSize, total_parts: plan.totalParts };
}

/** Every part present, each of exactly its planned size, and matching the client's ETags if given. */
function checkPartsComplete(plan: PartPlan, parts: readonly UploadedPart[], req: CompleteRequest): void {
  const missing = missingParts(
    plan.totalParts,
    parts.map((p) => p.part_number),
  );
  if (missing.length > 0) {
    throw new ApiError('missing_parts', `${missing.length} of ${plan.totalParts} parts are missing`, {
      missing_parts: missing,
    });
  }
  const wrong = parts.filter((p) => p.size !== partSize(plan, p.part_number));
  if (wrong.length > 0) {
    throw new ApiError('part_mismatch', `${wrong.length} parts have the wrong size; upload them again`, {
      mismatched_parts: wrong.map((p) => p.part_number),
    });
  }
  if (req.parts) {
    const stored = new Map(parts.map((p) => [p.part_number, p.etag]));
    const differing = req.parts.filter((p) => stored.get(p.part_number) !== normalizeEtag(p.etag));
    if (differing.length > 0) {
      throw new ApiError('part_mismatch', `${differing.length} parts differ from the client's ETags; upload them again`, {
        mismatched_parts: differing.map((p) => p.part_number),
      });
    }
  }
}

/** ETags are quoted hex; accept the client's either way. */
function normalizeEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** Another caller changed the session first: answer from what it left. */
function answerLostRace(deps: Deps, current: SessionRecord | undefined, now: Date): CompleteResponse {
  if (!current) throw new ApiError('not_found', 'the upload session disappeared');
  if (current.status === 'completed') return completedResponse(deps, current);
  throw stateError(current, now);
}

function completedResponse(deps: Deps, session: SessionRecord): CompleteResponse {
  return {
    session_id: session.session_id,
    status: 'completed',
    file_path: filePath(deps.storage.bucket, session.object_key),
    size: session.file_size ?? 0,
    etag: session.etag ?? '',
  };
}

/** A URL never outlives its session. */
function urlLifetime(deps: Deps, session: SessionRecord): number {
  const left = Math.floor((Date.parse(session.expires_at) - deps.now().getTime()) / 1000);
  return Math.max(1, Math.min(deps.config.urlExpirySeconds, left));
}
