/**
 * Reclaims abandoned uploads: open sessions past their expiry are marked `expired` (conditional,
 * so a session that a complete has leased is skipped) and then aborted in S3.
 * Reads the sparse open-sessions index, never scans the table; safe to run twice at once.
 */
import { TABLE } from '../aws/table-definition.js';
import type { Deps } from './deps.js';

export interface SweepResult {
  examined: number;
  expired: number;
  skipped: number;
  failed: number;
}

export async function sweepExpired(deps: Deps, opts: { pageSize?: number; maxSessions?: number } = {}): Promise<SweepResult> {
  const pageSize = opts.pageSize ?? 100;
  const maxSessions = opts.maxSessions ?? 5000;
  const now = deps.now().toISOString();
  const result: SweepResult = { examined: 0, expired: 0, skipped: 0, failed: 0 };

  for (let shard = 0; shard < TABLE.openSessionsIndex.shards; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await deps.store.listExpired(`open#${shard}`, now, pageSize, startKey);
      startKey = page.nextKey;
      for (const candidate of page.sessions) {
        if (result.examined >= maxSessions) return report(deps, result);
        result.examined++;
        const marked = await deps.store.markExpired(candidate.session_id, now);
        if (!marked.ok) {
          result.skipped++; // completing, completed, aborted, or another sweeper got it first
          continue;
        }
        try {
          await deps.storage.abort({ key: marked.session.object_key, uploadId: marked.session.upload_id });
          result.expired++;
        } catch {
          // The row is already `expired`; the bucket's lifecycle rule removes the parts later.
          result.failed++;
        }
      }
    } while (startKey);
  }
  return report(deps, result);
}

function report(deps: Deps, result: SweepResult): SweepResult {
  if (result.expired > 0) deps.events({ type: 'expired', count: result.expired });
  return result;
}
