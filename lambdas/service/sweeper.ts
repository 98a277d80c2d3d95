/**
 * Reclaims abandoned uploads: every open session past its expiry (the sparse open-sessions index,
 * never a table scan) that nobody alive is completing. If storage holds its object (a complete
 * whose answer was lost), the session is recorded completed and the object kept; otherwise it is
 * marked `expired` and its multipart upload aborted. Sessions stuck in `completing` (the lease
 * holder died) are handled the same way once the lease is stale. Every change is conditional:
 * safe against completes, aborts and other sweepers running at the same time.
 */
import { TABLE } from '../aws/table-definition.js';
import type { SessionRecord } from '../core/session.js';
import { iso, leaseIsStale, recordFoundObject, refOf, staleBefore, storedObject } from './completion.js';
import type { Deps } from './deps.js';

export interface SweepResult {
  examined: number;
  /** Marked expired, upload aborted. */
  expired: number;
  /** Storage held the object: recorded completed. */
  completed: number;
  /** Changed by someone else first, or a live complete holds the lease. */
  skipped: number;
  /**
   * A storage call failed: HeadObject (the session stays open for the next run) or the abort (the
   * row is expired; the bucket's lifecycle rule removes the parts later).
   */
  failed: number;
}

type Outcome = Exclude<keyof SweepResult, 'examined'>;

export async function sweepExpired(deps: Deps, opts: { pageSize?: number; maxSessions?: number } = {}): Promise<SweepResult> {
  const pageSize = opts.pageSize ?? 100;
  const maxSessions = opts.maxSessions ?? 5000;
  const now = deps.now();
  const result: SweepResult = { examined: 0, expired: 0, completed: 0, skipped: 0, failed: 0 };

  for (let shard = 0; shard < TABLE.openSessionsIndex.shards; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await deps.store.listExpired(`open#${shard}`, iso(now), pageSize, startKey);
      startKey = page.nextKey;
      for (const candidate of page.sessions) {
        if (result.examined >= maxSessions) return report(deps, result);
        result.examined++;
        result[await reclaim(deps, candidate, now)]++;
      }
    } while (startKey);
  }
  return report(deps, result);
}

async function reclaim(deps: Deps, session: SessionRecord, now: Date): Promise<Outcome> {
  if (session.status === 'completing' && !leaseIsStale(session, now)) return 'skipped';
  let found: { etag: string } | undefined;
  try {
    found = await storedObject(deps, session);
  } catch {
    return 'failed';
  }
  if (found) return (await recordFoundObject(deps, session, found.etag, now)).ok ? 'completed' : 'skipped';
  const marked = await deps.store.markExpired(session, iso(now), iso(staleBefore(now)));
  if (!marked.ok) return 'skipped';
  try {
    await deps.storage.abort(refOf(session));
    return 'expired';
  } catch {
    return 'failed';
  }
}

function report(deps: Deps, result: SweepResult): SweepResult {
  if (result.expired > 0) deps.events({ type: 'expired', count: result.expired });
  deps.events({ type: 'swept', failed: result.failed });
  return result;
}
