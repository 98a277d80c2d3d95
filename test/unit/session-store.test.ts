/**
 * The session store over a recording fake of DynamoDB: the state machine it enforces, the row a
 * failed condition answers with (no second read), the owner's open-session count kept in the same
 * transaction as every change into a final status, and the conflicts it retries.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { CHANGES, SessionStore, idempotencyItemKey, ownerCountKey } from '../../lambdas/aws/session-store.js';
import { CONFLICT_ATTEMPTS } from '../../lambdas/aws/dynamo.js';
import type { SessionStatus } from '../../contract/api.js';
import { isFinal, TRANSITIONS, type SessionRecord } from '../../lambdas/core/session.js';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new SessionStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })),
  'sessions',
);
const NOW = '2026-06-01T12:00:00.000Z';
const STALE = '2026-06-01T11:59:00.000Z';

const row = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  session_id: 'AAAAAAAAAAAAAAAAAAAAAA',
  owner: 'alice',
  filename: 'a.bin',
  content_type: 'application/octet-stream',
  object_key: 'uploads/AAAAAAAAAAAAAAAAAAAAAA/a.bin',
  upload_id: 'up-1',
  file_size: 1,
  chunk_size: 5 * 1024 * 1024,
  total_parts: 1,
  status: 'in_progress',
  created_at: NOW,
  updated_at: NOW,
  expires_at: '2026-06-02T12:00:00.000Z',
  ttl: 0,
  open_shard: 'open#3',
  ...over,
});

/** Every change the store offers, called on a row in a status it may leave. */
const CALLS: Record<keyof typeof CHANGES, () => Promise<unknown>> = {
  beginCompleting: () => store.beginCompleting(row(), NOW, STALE),
  markCompleted: () => store.markCompleted(row({ status: 'completing', completing_since: STALE }), STALE, '"e"', NOW),
  releaseCompleting: () => store.releaseCompleting(row({ status: 'completing', completing_since: STALE }), STALE, NOW),
  markAborted: () => store.markAborted(row(), NOW),
  markExpired: () => store.markExpired(row(), NOW, STALE),
  recordFound: () => store.recordFound(row(), '"e"', NOW, STALE),
};

beforeEach(() => {
  ddb.reset();
  ddb.on(UpdateCommand).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
});

describe('the state machine (core/session.ts TRANSITIONS) is what the store does', () => {
  const arrows = (pairs: [SessionStatus, SessionStatus][]) => [...new Set(pairs.map(([a, b]) => `${a} -> ${b}`))].sort();

  test('every change of the store is an arrow of TRANSITIONS, and every arrow is a change of the store', () => {
    const made = Object.values(CHANGES).flatMap((c) => Object.keys(c.from).map((from) => [from, c.to] as [SessionStatus, SessionStatus]));
    const allowed = (Object.entries(TRANSITIONS) as [SessionStatus, readonly SessionStatus[]][]).flatMap(([from, tos]) => tos.map((to) => [from, to] as [SessionStatus, SessionStatus]));
    expect(arrows(made)).toEqual(arrows(allowed));
  });

  test.each(Object.keys(CALLS) as (keyof typeof CHANGES)[])('%s writes only its declared arrows', async (name) => {
    await CALLS[name]();
    const sent = ddb.commandCalls(UpdateCommand)[0]?.args[0].input ?? ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Update!;
    const values = sent.ExpressionAttributeValues!;
    const from = Object.keys(values).filter((k) => k.startsWith(':from_')).map((k) => values[k]);
    expect(from.sort()).toEqual(Object.keys(CHANGES[name].from).sort());
    expect(values[':to']).toBe(CHANGES[name].to);
    expect(sent.ConditionExpression).toMatch(/^attribute_exists\(#pk\) AND \(/);
  });
});

describe('changes into a final status leave the owner count in the same transaction', () => {
  test.each(Object.keys(CALLS) as (keyof typeof CHANGES)[])('%s', async (name) => {
    const result = (await CALLS[name]()) as { ok: boolean; session: SessionRecord };
    expect(result.ok).toBe(true);
    expect(result.session.status).toBe(CHANGES[name].to);
    if (isFinal(CHANGES[name].to)) {
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      const [update, count] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(update!.Update!.UpdateExpression).toMatch(/REMOVE .*open_shard/);
      expect(count!.Update).toMatchObject({
        Key: { session_id: ownerCountKey('alice') },
        UpdateExpression: 'SET #owner = :owner ADD open_count :delta',
        ExpressionAttributeValues: { ':owner': 'alice', ':delta': -1 },
      });
      expect(count!.Update!.ConditionExpression).toBeUndefined();
      // The row as written: no longer in the open index.
      expect(result.session.open_shard).toBeUndefined();
    } else {
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.UpdateExpression).not.toContain('open_shard');
      expect(result.session.open_shard).toBe('open#3');
    }
  });
});

describe('a failed condition answers the row as it was, without reading it again', () => {
  test('plain change: from the ConditionalCheckFailedException (ALL_OLD)', async () => {
    const winner = row({ status: 'completing', completing_since: NOW });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {}, Item: marshall(winner) }));
    expect(await store.beginCompleting(row(), NOW, STALE)).toEqual({ ok: false, current: winner });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  test('final change: from the transaction cancellation reason of the row', async () => {
    const winner = row({ status: 'completed', etag: '"w"' });
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: marshall(winner) }, { Code: 'None' }],
      }),
    );
    expect(await store.markExpired(row(), NOW, STALE)).toEqual({ ok: false, current: winner });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  test('a row that does not exist: no current row', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect(await store.releaseCompleting(row(), STALE, NOW)).toEqual({ ok: false, current: undefined });
  });
});

describe('conflicting writes to one item (DynamoDB asks to retry; the SDK does not)', () => {
  const conflict = () =>
    new TransactionCanceledException({ message: 'conflict', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });

  test('a transaction cancelled by a conflict is sent again', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({});
    expect((await store.markAborted(row(), NOW)).ok).toBe(true);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  test('a plain update meeting a transaction is sent again', async () => {
    ddb.on(UpdateCommand).rejectsOnce(new TransactionConflictException({ message: 'conflict', $metadata: {} })).resolves({});
    expect((await store.beginCompleting(row(), NOW, STALE)).ok).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  test(`after ${CONFLICT_ATTEMPTS} attempts: a retryable 429, not a 500`, async () => {
    ddb.on(TransactWriteCommand).rejects(conflict());
    await expect(store.markAborted(row(), NOW)).rejects.toMatchObject({ code: 'too_many_requests', status: 429, headers: { 'Retry-After': '1' } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(CONFLICT_ATTEMPTS);
  });
});

describe('create: the row, the owner count under its cap, and the Idempotency-Key, all or nothing', () => {
  const cancelled = (...reasons: (Record<string, unknown> | null)[]) =>
    new TransactionCanceledException({
      message: 'cancelled',
      $metadata: {},
      CancellationReasons: reasons.map((item) => (item ? { Code: 'ConditionalCheckFailed', Item: marshall(item) } : { Code: 'None' })),
    });

  test('written together', async () => {
    expect(await store.create(row(), { maxOpen: 5, idempotency: { key: 'k', fingerprint: 'f' } })).toEqual({ ok: true });
    const [count, put, claim] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(count!.Update).toMatchObject({ Key: { session_id: ownerCountKey('alice') }, ExpressionAttributeValues: { ':delta': 1, ':cap': 5 } });
    expect(put!.Put!.Item).toMatchObject({ session_id: row().session_id, status: 'in_progress' });
    expect(claim!.Put!.Item).toEqual({
      session_id: idempotencyItemKey('alice', 'k'),
      owner: 'alice',
      fingerprint: 'f',
      created_session: row().session_id,
      created_at: NOW,
      ttl: 0,
    });
  });

  test('at the cap: the count the owner holds', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled({ open_count: 5 }, null));
    expect(await store.create(row(), { maxOpen: 5 })).toEqual({ ok: false, reason: 'at_cap', open: 5 });
  });

  test('a used key: what it opened (before the cap)', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled({ open_count: 5 }, null, { fingerprint: 'f', created_session: 'S' }));
    expect(await store.create(row(), { maxOpen: 5, idempotency: { key: 'k', fingerprint: 'g' } })).toEqual({
      ok: false,
      reason: 'key_used',
      claim: { fingerprint: 'f', sessionId: 'S' },
    });
  });

  test('item keys: never a session id (22 base64url characters), never the same for two owners', () => {
    for (const k of [ownerCountKey('alice'), idempotencyItemKey('alice', 'k')]) expect(k).not.toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(idempotencyItemKey('alice', 'k')).not.toBe(idempotencyItemKey('bob', 'k'));
    // No ambiguity between owner and key boundaries.
    expect(idempotencyItemKey('a', 'bc')).not.toBe(idempotencyItemKey('ab', 'c'));
  });
});
