/**
 * Rules of finishing an upload that complete, abort and the sweeper share: the completion lease,
 * and an object storage holds although no completer recorded it.
 */
import { DEFAULTS } from '../../contract/limits.js';
import { countParts } from '../../contract/parts.js';
import { isUnsized, type SessionRecord } from '../core/session.js';
import type { MultipartRef } from '../aws/storage.js';
import type { Sized, Transition } from '../aws/session-store.js';
import type { Deps } from './deps.js';

export const iso = (d: Date) => d.toISOString();

export const refOf = (s: SessionRecord): MultipartRef => ({ key: s.object_key, uploadId: s.upload_id });

/**
 * Leases taken before this instant are stale: their holder has outlived any complete call
 * (DEFAULTS.completeLeaseSeconds is twice the complete function's timeout).
 */
export function staleBefore(now: Date): Date {
  return new Date(now.getTime() - DEFAULTS.completeLeaseSeconds * 1000);
}

export function leaseIsStale(session: SessionRecord, now: Date): boolean {
  const since = session.completing_since ? Date.parse(session.completing_since) : 0;
  return since < staleBefore(now).getTime();
}

export interface FoundObject {
  etag: string;
  /** Set for a stream session: the size storage assembled, which the row then records. */
  sized?: Sized;
}

/**
 * The object at the session's key, if it has the planned size (a stream session has none: any
 * object there). The key belongs to this session alone and only CompleteMultipartUpload of its
 * upload writes it: such an object is this upload, assembled by a complete whose answer was lost.
 */
export async function storedObject(deps: Deps, session: SessionRecord): Promise<FoundObject | undefined> {
  const head = await deps.storage.head(session.object_key);
  if (!head) return undefined;
  if (!isUnsized(session)) return head.size === session.file_size ? { etag: head.etag } : undefined;
  // A multipart ETag ends in `-<parts>`; the part size is the session's, so it also follows from the size.
  const suffix = /-(\d+)"?$/.exec(head.etag)?.[1];
  const total_parts = suffix ? Number(suffix) : countParts(head.size, session.chunk_size);
  return { etag: head.etag, sized: { file_size: head.size, total_parts } };
}

/** Records a found object as the session's upload: from an open session, or over a stale lease. */
export async function recordFoundObject(deps: Deps, session: SessionRecord, found: FoundObject, now: Date): Promise<Transition> {
  const done = await deps.store.recordFound(session, found.etag, iso(now), iso(staleBefore(now)), found.sized);
  if (done.ok) reportCompleted(deps, done.session);
  return done;
}

export function reportCompleted(deps: Deps, session: SessionRecord): void {
  deps.events({
    type: 'completed',
    bytes: session.file_size ?? 0,
    durationMs: Date.parse(session.completed_at ?? '') - Date.parse(session.created_at),
  });
}
