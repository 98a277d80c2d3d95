/**
 * Reclaims abandoned uploads: every open session past its expiry (the sparse open-sessions index,
 * never a table scan) that nobody alive is completing. If storage holds its object (a complete
 * whose answer was lost), the session is recorded completed and the object kept; otherwise it is
 * marked `expired` and its multipart upload aborted. Sessions stuck in `completing` (the lease
 * holder died) are handled the same way once the lease is stale. Every change is conditional:
 * safe against completes, aborts and other sweepers running at the same time.
 *
 * A run is bounded (maxSessions, and the Lambda's remaining time) and always ends by reporting
 * itself: a run cut off by the function timeout would record no SweepRuns and page as
 * SweeperNotRunning. A row that fails is counted and left for the next run; it never ends the run.
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
   * A call failed: HeadObject or the table write (the session stays open for the next run), or the
   * abort (the row is expired; the bucket's lifecycle rule removes the parts later).
   */
  failed: number;
  /** Set when the run stopped before the backlog was done; the next run picks up the rest. */
  stoppedBy?: 'time' | 'max_sessions';
}

type Outcome = 'expired' | 'completed' | 'skipped' | 'failed';

/**
 * No new row is taken with less than this left before the function timeout. One row is at most
 * HeadObject + a transaction (up to CONFLICT_ATTEMPTS tries) + AbortMultipartUpload, each with the
 * SDK's own retries: a few seconds when AWS is slow; 30 s covers that with room for the report.
 */
export const SWEEP_RESERVE_MS = 30_000;

export interface SweepOptions {
  pageSize?: number;
  maxSessions?: number;
  /** Time left before the function times out (the Lambda context's getRemainingTimeInMillis). */
  remainingMs?: () => number;
  /** Told about each row that failed (to log it); the row stays for the next run. */
  onFailed?: (session: SessionRecord, error: unknown) => void;
}

export async function sweepExpired(deps: Deps, opts: SweepOptions = {}): Promise<SweepResult> {
  const pageSize = opts.pageSize ?? 100;
  const maxSessions = opts.maxSessions ?? 5000;
  const outOfTime = () => opts.remainingMs !== undefined && opts.remainingMs() < SWEEP_RESERVE_MS;
  const now = deps.now();
  const result: SweepResult = { examined: 0, expired: 0, completed: 0, skipped: 0, failed: 0 };

  for (let shard = 0; shard < TABLE.openSessionsIndex.shards; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      if (outOfTime()) return report(deps, { ...result, stoppedBy: 'time' });
      const page = await deps.store.listExpired(`open#${shard}`, iso(now), pageSize, startKey);
      startKey = page.nextKey;
      for (const candidate of page.sessions) {
        if (result.examined >= maxSessions) return report(deps, { ...result, stoppedBy: 'max_sessions' });
        if (outOfTime()) return report(deps, { ...result, stoppedBy: 'time' });
        result.examined++;
        try {
          result[await reclaim(deps, candidate, now)]++;
        } catch (e) {
          result.failed++;
          opts.onFailed?.(candidate, e);
        }
      }
    } while (startKey);
  }
  return report(deps, result);
}

/**
 * Throws when a call fails: HeadObject (the session stays open for the next run), the table write
 * (likewise), or the abort (the row is expired; the bucket's lifecycle rule removes the parts).
 */
async function reclaim(deps: Deps, session: SessionRecord, now: Date): Promise<Outcome> {
  if (session.status === 'completing' && !leaseIsStale(session, now)) return 'skipped';
  const found = await storedObject(deps, session);
  if (found) return (await recordFoundObject(deps, session, found, now)).ok ? 'completed' : 'skipped';
  const marked = await deps.store.markExpired(session, iso(now), iso(staleBefore(now)));
  if (!marked.ok) return 'skipped';
  await deps.storage.abort(refOf(session));
  return 'expired';
}

function report(deps: Deps, result: SweepResult): SweepResult {
  if (result.expired > 0) deps.events({ type: 'expired', count: result.expired });
  deps.events({ type: 'swept', failed: result.failed });
  return result;
}
