/**
 * The sweeper's decisions, over fakes of the store and storage: which sessions it reclaims, how
 * (expired and aborted, or recorded completed when storage holds the object), which it leaves
 * alone, and what it reports (the metrics its alarms watch).
 */
import { loadConfig } from '../../lambdas/config.js';
import type { SessionStore, Transition } from '../../lambdas/aws/session-store.js';
import type { UploadStorage } from '../../lambdas/aws/storage.js';
import { DEFAULTS, MiB } from '../../contract/limits.js';
import type { SessionRecord } from '../../lambdas/core/session.js';
import type { Deps } from '../../lambdas/service/deps.js';
import { recordUploadEvent } from '../../lambdas/service/event-metrics.js';
import type { UploadEvent } from '../../lambdas/service/events.js';
import { SWEEP_RESERVE_MS, sweepExpired } from '../../lambdas/service/sweeper.js';
import { metrics } from '../../lambdas/observability.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();

function session(id: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    session_id: id.padEnd(22, 'x'),
    owner: 'alice',
    filename: 'a.bin',
    content_type: 'application/octet-stream',
    object_key: `uploads/${id}/a.bin`,
    upload_id: `up-${id}`,
    file_size: 6 * MiB,
    chunk_size: 5 * MiB,
    total_parts: 2,
    status: 'in_progress',
    created_at: at(-86_400_000),
    updated_at: at(-86_400_000),
    expires_at: at(-1000),
    ttl: 0,
    open_shard: 'open#0',
    ...over,
  };
}

interface World {
  /** What the open-sessions index lists (shard 0). */
  listed: SessionRecord[];
  /** Objects in storage by key (size, etag); a key mapped to an Error makes HeadObject fail. */
  objects?: Record<string, { size: number; etag: string } | Error>;
  /** Sessions whose conditional write fails (someone else changed them first). */
  changedMeanwhile?: string[];
  /** Uploads whose abort fails. */
  abortFails?: string[];
  /** Uploads whose table write throws (e.g. throttled, or conflicts past the retries). */
  writeThrows?: string[];
}

function fakes(world: World) {
  const calls: string[] = [];
  const events: UploadEvent[] = [];
  const transition = (name: string) => async (s: SessionRecord, ...args: string[]): Promise<Transition> => {
    calls.push(`${name} ${s.upload_id}${name === 'recordFound' ? ` ${args[0]}` : ''}`);
    if (world.writeThrows?.includes(s.upload_id)) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
    if (world.changedMeanwhile?.includes(s.upload_id)) return { ok: false, current: { ...s, status: 'completed' } };
    const to = name === 'recordFound' ? 'completed' : 'expired';
    return { ok: true, session: { ...s, status: to, ...(to === 'completed' ? { completed_at: args[1], etag: args[0] } : {}) } };
  };
  const store = {
    listExpired: async (shard: string) => ({ sessions: shard === 'open#0' ? world.listed : [] }),
    markExpired: transition('markExpired'),
    recordFound: transition('recordFound'),
  } as unknown as SessionStore;
  const storage = {
    bucket: 'bucket',
    head: async (key: string) => {
      calls.push(`head ${key}`);
      const o = world.objects?.[key];
      if (o instanceof Error) throw o;
      return o;
    },
    abort: async (ref: { uploadId: string }) => {
      calls.push(`abort ${ref.uploadId}`);
      if (world.abortFails?.includes(ref.uploadId)) throw new Error('storage refused');
    },
  } as unknown as UploadStorage;
  const deps: Deps = {
    config: loadConfig({ TABLE_NAME: 't', BUCKET_NAME: 'bucket' }),
    store,
    storage,
    now: () => NOW,
    newId: () => 'x',
    events: (e) => events.push(e),
  };
  return { deps, calls, events };
}

const LEASE_MS = DEFAULTS.completeLeaseSeconds * 1000;

test('an expired open session with nothing in storage: expired, then its upload aborted', async () => {
  const { deps, calls, events } = fakes({ listed: [session('a')] });
  expect(await sweepExpired(deps)).toEqual({ examined: 1, expired: 1, completed: 0, skipped: 0, failed: 0 });
  expect(calls).toEqual(['head uploads/a/a.bin', 'markExpired up-a', 'abort up-a']);
  expect(events).toEqual([
    { type: 'expired', count: 1 },
    { type: 'swept', failed: 0 },
  ]);
});

test('storage holds the object (a complete whose answer was lost): recorded completed, never aborted', async () => {
  const { deps, calls, events } = fakes({ listed: [session('a')], objects: { 'uploads/a/a.bin': { size: 6 * MiB, etag: '"ab-2"' } } });
  expect(await sweepExpired(deps)).toEqual({ examined: 1, expired: 0, completed: 1, skipped: 0, failed: 0 });
  expect(calls).toEqual(['head uploads/a/a.bin', 'recordFound up-a "ab-2"']);
  expect(events[0]).toEqual({ type: 'completed', bytes: 6 * MiB, durationMs: 86_400_000 });
});

test('an object of another size is not this upload: the session expires', async () => {
  const { deps, calls } = fakes({ listed: [session('a')], objects: { 'uploads/a/a.bin': { size: 6 * MiB - 1, etag: '"x"' } } });
  expect(await sweepExpired(deps)).toMatchObject({ expired: 1, completed: 0 });
  expect(calls).toContain('abort up-a');
});

test('stuck in completing: a live lease is left alone; a stale one is finished (object) or expired (none)', async () => {
  const live = session('live', { status: 'completing', completing_since: at(-LEASE_MS + 1000) });
  const staleDone = session('done', { status: 'completing', completing_since: at(-LEASE_MS - 1000) });
  const staleEmpty = session('empty', { status: 'completing', completing_since: at(-3600_000) });
  const { deps, calls } = fakes({ listed: [live, staleDone, staleEmpty], objects: { 'uploads/done/a.bin': { size: 6 * MiB, etag: '"d"' } } });
  expect(await sweepExpired(deps)).toEqual({ examined: 3, expired: 1, completed: 1, skipped: 1, failed: 0 });
  expect(calls).toEqual(['head uploads/done/a.bin', 'recordFound up-done "d"', 'head uploads/empty/a.bin', 'markExpired up-empty', 'abort up-empty']);
});

test('rows someone changed first are skipped, and their uploads left alone', async () => {
  const { deps, calls } = fakes({
    listed: [session('a'), session('b')],
    changedMeanwhile: ['up-a', 'up-b'],
    objects: { 'uploads/b/a.bin': { size: 6 * MiB, etag: '"b"' } },
  });
  expect(await sweepExpired(deps)).toEqual({ examined: 2, expired: 0, completed: 0, skipped: 2, failed: 0 });
  expect(calls).toEqual(['head uploads/a/a.bin', 'markExpired up-a', 'head uploads/b/a.bin', 'recordFound up-b "b"']);
});

test('storage failures are counted, the run goes on, and the run reports them for the alarm', async () => {
  const { deps, calls, events } = fakes({
    listed: [session('a'), session('b'), session('c')],
    objects: { 'uploads/a/a.bin': Object.assign(new Error('AccessDenied'), { name: 'AccessDenied' }) },
    abortFails: ['up-b'],
  });
  expect(await sweepExpired(deps)).toEqual({ examined: 3, expired: 1, completed: 0, skipped: 0, failed: 2 });
  // HeadObject failed: the row is left open for the next run, not expired blind.
  expect(calls.filter((c) => c.endsWith('up-a'))).toEqual([]);
  expect(events).toEqual([
    { type: 'expired', count: 1 },
    { type: 'swept', failed: 2 },
  ]);
});

test('a table write that throws on one row counts as failed (and is logged); the other rows are still reclaimed', async () => {
  const { deps, calls, events } = fakes({
    listed: [session('a'), session('b'), session('c')],
    objects: { 'uploads/b/a.bin': { size: 6 * MiB, etag: '"b"' } },
    writeThrows: ['up-a', 'up-b'],
  });
  const logged: string[] = [];
  const result = await sweepExpired(deps, { onFailed: (s, e) => logged.push(`${s.upload_id} ${(e as Error).name}`) });
  expect(result).toEqual({ examined: 3, expired: 1, completed: 0, skipped: 0, failed: 2 });
  expect(calls).toEqual(['head uploads/a/a.bin', 'markExpired up-a', 'head uploads/b/a.bin', 'recordFound up-b "b"', 'head uploads/c/a.bin', 'markExpired up-c', 'abort up-c']);
  // Never aborted: the row still says open, so a later run (or the client) decides again.
  expect(calls).not.toContain('abort up-a');
  expect(logged).toEqual(['up-a ProvisionedThroughputExceededException', 'up-b ProvisionedThroughputExceededException']);
  expect(events).toEqual([
    { type: 'expired', count: 1 },
    { type: 'swept', failed: 2 },
  ]);
});

test('near the function timeout the run takes no new rows, and still reports what it did', async () => {
  const { deps, calls, events } = fakes({ listed: [session('a'), session('b'), session('c')] });
  // Time for the first row; each HeadObject costs 31 s, so after it less than the reserve is left.
  let remaining = SWEEP_RESERVE_MS + 30_000;
  const origHead = deps.storage.head.bind(deps.storage);
  deps.storage.head = async (key: string) => {
    remaining -= 31_000;
    return origHead(key);
  };
  const result = await sweepExpired(deps, { remainingMs: () => remaining });
  expect(result).toEqual({ examined: 1, expired: 1, completed: 0, skipped: 0, failed: 0, stoppedBy: 'time' });
  expect(calls).toEqual(['head uploads/a/a.bin', 'markExpired up-a', 'abort up-a']);
  expect(events).toEqual([
    { type: 'expired', count: 1 },
    { type: 'swept', failed: 0 },
  ]);
});

test('started with too little time left: nothing is taken, the run is still recorded', async () => {
  const { deps, calls, events } = fakes({ listed: [session('a')] });
  expect(await sweepExpired(deps, { remainingMs: () => SWEEP_RESERVE_MS - 1 })).toEqual({
    examined: 0,
    expired: 0,
    completed: 0,
    skipped: 0,
    failed: 0,
    stoppedBy: 'time',
  });
  expect(calls).toEqual([]);
  expect(events).toEqual([{ type: 'swept', failed: 0 }]);
});

test('every run reports itself, also when it found nothing', async () => {
  const { deps, events } = fakes({ listed: [] });
  expect(await sweepExpired(deps)).toEqual({ examined: 0, expired: 0, completed: 0, skipped: 0, failed: 0 });
  expect(events).toEqual([{ type: 'swept', failed: 0 }]);
});

test('a run becomes SweepRuns 1 and SweepAbortFailures (0 included), the alarms\' data points', () => {
  const values = (): Record<string, unknown> => {
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    metrics.clearMetrics();
    return emf;
  };
  recordUploadEvent({ type: 'swept', failed: 3 });
  expect(values()).toMatchObject({ SweepRuns: 1, SweepAbortFailures: 3 });
  recordUploadEvent({ type: 'swept', failed: 0 });
  expect(values()).toMatchObject({ SweepRuns: 1, SweepAbortFailures: 0 });
});
