/**
 * Completion and verification: complete the session (sending again, once, any part storage
 * reports missing), and check the object's ETag against the multipart ETag of the source's own
 * part MD5s.
 */
import type { CompleteResponse } from '../../contract/api.js';
import { API_LIMITS } from '../../contract/limits.js';
import type { PartPlan } from '../../contract/parts.js';
import { ApiRequestError, FileMismatchError, IntegrityError, InterruptedError, SessionStateError } from '../errors.js';
import { normalizeEtag } from '../etag.js';
import type { PartDigests } from './digests.js';
import type { Pipeline } from './pipeline.js';
import type { PartSource } from './ports.js';
import type { Session } from './session.js';
import type { Emit, UploadApi } from './types.js';

export interface CompleteContext {
  api: UploadApi;
  session: Session;
  source: PartSource;
  /** The source's version when the upload began (undefined: it cannot change). */
  version: string | undefined;
  etags: Map<number, string>;
  pipeline: Pipeline;
  signal: AbortSignal | undefined;
  emit: Emit;
}

/** Completes the session; resolves once the object is this source's bytes, with its path and ETag. */
export async function completeUpload(c: CompleteContext, digests: PartDigests): Promise<{ file_path: string; etag: string }> {
  const { session, source } = c;
  const sid = session.id;
  // Parts of two versions of the file must not be assembled into one object.
  if (c.version !== undefined && (await source.version?.()) !== c.version) {
    throw new FileMismatchError('file_changed', `${source.name} was modified during the upload; not completing session ${sid}`);
  }
  let done: CompleteResponse | undefined;
  for (let round = 1; !done; round++) {
    c.emit({ type: 'completing', parts: session.plan.totalParts });
    try {
      if (c.signal?.aborted) throw new InterruptedError(sid, c.pipeline.partsSent);
      done = await c.api.complete(sid, completeParts(session.plan, c.etags));
    } catch (err) {
      // Storage lost parts we sent (or never had them): send them again, once.
      const lost = missingFrom(err);
      if (!lost || round > 1) throw err;
      for (const n of lost) c.etags.delete(n);
      await c.pipeline.run(lost);
    }
  }

  const expected = await digests.etag();
  if (!done.etag) {
    throw new IntegrityError(`the API reported no ETag for ${done.file_path}, so it cannot be checked against the file (expected ${expected})`);
  }
  if (normalizeEtag(done.etag) !== expected) {
    throw new IntegrityError(`storage assembled ${done.file_path} with ETag ${normalizeEtag(done.etag)}, but the file's parts give ${expected}`);
  }
  if (done.size !== source.size) throw new IntegrityError(`storage assembled ${done.size} bytes, the file has ${source.size}`);
  return { file_path: done.file_path, etag: expected };
}

/** A session resumed after it was completed: nothing to send, but the object must be this source. */
export async function checkCompleted(session: Session, digests: PartDigests): Promise<string> {
  const expected = await digests.etag();
  const etag = session.completed?.etag;
  if (!etag || normalizeEtag(etag) !== expected) {
    throw new SessionStateError('session_completed', `session ${session.id} was completed with other content (ETag ${etag ?? 'unknown'}, file gives ${expected})`);
  }
  return expected;
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
