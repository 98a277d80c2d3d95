/**
 * Upload sessions in DynamoDB. Every status change is a conditional write, so two callers
 * racing (complete vs complete, complete vs abort, complete vs sweeper) cannot both win; the
 * loser gets the row as the winner left it, in the same answer (ALL_OLD on a failed condition).
 * The changes are the arrows of core/session.ts TRANSITIONS, checked when this module loads.
 *
 * Besides session rows (keyed by a 22-character session id), the table holds two kinds of items
 * under keys no session id can take:
 * - `owner#<sha256(owner)>`: `open_count`, the owner's open (in_progress or completing) sessions.
 *   A session row is only ever created in one transaction with adding 1 there, below the cap, and
 *   every change into a final status takes 1 off in one transaction with it: the count is exact,
 *   so the per-owner cap holds however many inits run at once.
 * - `idem#<sha256(owner, key)>`: an init's Idempotency-Key, with the fingerprint of its request and
 *   the session it opened; written in the transaction that creates that session, so it exists
 *   exactly when the session does. TTL'd with the session row.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SessionStatus } from '../../contract/api.js';
import { canTransition, isFinal, type SessionRecord } from '../core/session.js';
import { itemAtFailure, putIfAbsent, retryingConflicts, transactWrite, type TransactItem } from './dynamo.js';
import { TABLE } from './table-definition.js';

/** Outcome of a status change: the row as written, or the row as it was when the condition failed. */
export type Transition = { ok: true; session: SessionRecord } | { ok: false; current: SessionRecord | undefined };

/** What an earlier init with the same owner and Idempotency-Key left. */
export interface IdempotencyClaim {
  /** Fingerprint of that init's request (the caller decides what makes two requests the same). */
  fingerprint: string;
  /** The session it opened. */
  sessionId: string;
}

export type CreateOutcome =
  | { ok: true }
  /** The owner already holds `open` open sessions, the most allowed; nothing was written. */
  | { ok: false; reason: 'at_cap'; open: number }
  /** The owner's Idempotency-Key was used before; nothing was written. */
  | { ok: false; reason: 'key_used'; claim: IdempotencyClaim };

/**
 * One status change: the status it enters, and each status it may leave with the further
 * condition leaving it needs ('' for none). Conditions name `:now`, `:stale` (leases taken before
 * it are stale) and `:lease` (the caller's lease).
 */
interface Change {
  readonly to: SessionStatus;
  readonly from: Readonly<Partial<Record<SessionStatus, string>>>;
}

/** Every status change the store makes. */
export const CHANGES = {
  /** The completion lease: from an unexpired open session, or over a lease whose holder died. */
  beginCompleting: { to: 'completing', from: { in_progress: 'expires_at > :now', completing: 'completing_since < :stale' } },
  /** Storage assembled the object; only the lease holder records it. */
  markCompleted: { to: 'completed', from: { completing: 'completing_since = :lease' } },
  /** Completion failed: the lease is given back, the client may fix its parts and retry. */
  releaseCompleting: { to: 'in_progress', from: { completing: 'completing_since = :lease' } },
  /** Only an open session nobody is completing can be aborted. */
  markAborted: { to: 'aborted', from: { in_progress: '' } },
  /** The sweeper: past expiry, and nobody alive is completing it. */
  markExpired: { to: 'expired', from: { in_progress: 'expires_at <= :now', completing: 'expires_at <= :now AND completing_since < :stale' } },
  /** Storage holds the object although no completer recorded it (its answer was lost). */
  recordFound: { to: 'completed', from: { in_progress: '', completing: 'completing_since < :stale' } },
} as const satisfies Record<string, Change>;

for (const [name, change] of Object.entries(CHANGES) as [string, Change][]) {
  for (const from of Object.keys(change.from) as SessionStatus[]) {
    if (!canTransition(from, change.to)) throw new Error(`session-store ${name}: ${from} -> ${change.to} is not in TRANSITIONS`);
  }
}

/** Attributes only an open session carries: the sparse index key. */
const OPEN_ONLY = ['open_shard'] as const;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The key of the item counting `owner`'s open sessions. */
export function ownerCountKey(owner: string): string {
  return `owner#${sha256(owner)}`;
}

/** The key of the item remembering `owner`'s Idempotency-Key `key`. */
export function idempotencyItemKey(owner: string, key: string): string {
  return `idem#${sha256(JSON.stringify([owner, key]))}`;
}

/** The size of a stream session (opened without one), written when it completes. */
export type Sized = Required<Pick<SessionRecord, 'file_size' | 'total_parts'>>;

export class SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Creates the session row, counting it against its owner's cap of `maxOpen` open sessions, and
   * with `idempotency`, remembers the key: all of it in one transaction, or nothing.
   */
  async create(session: SessionRecord, opts: { maxOpen: number; idempotency?: { key: string; fingerprint: string } }): Promise<CreateOutcome> {
    const items: TransactItem[] = [
      { Update: this.countChange(session.owner, 1, opts.maxOpen) },
      { Put: putIfAbsent(this.tableName, TABLE.partitionKey, { ...session }) },
    ];
    if (opts.idempotency) {
      const claim = {
        [TABLE.partitionKey]: idempotencyItemKey(session.owner, opts.idempotency.key),
        owner: session.owner,
        fingerprint: opts.idempotency.fingerprint,
        created_session: session.session_id,
        created_at: session.created_at,
        [TABLE.ttlAttribute]: session.ttl,
      };
      items.push({ Put: { ...putIfAbsent(this.tableName, TABLE.partitionKey, claim), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } });
    }
    const out = await transactWrite(this.db, items);
    if (out.ok) return { ok: true };
    const [count, row, claim] = out.items;
    // A retried init at the cap is still the init that succeeded: the key answers first.
    if (claim?.failed && claim.item) {
      return { ok: false, reason: 'key_used', claim: { fingerprint: String(claim.item.fingerprint), sessionId: String(claim.item.created_session) } };
    }
    if (count?.failed) return { ok: false, reason: 'at_cap', open: Number(count.item?.open_count ?? opts.maxOpen) };
    // 128 random bits: a colliding session id is never expected.
    throw new Error(`session ${session.session_id} could not be created: ${row?.failed ? 'the id exists' : 'transaction cancelled'}`);
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { [TABLE.partitionKey]: sessionId }, ConsistentRead: true }),
    );
    return out.Item as SessionRecord | undefined;
  }

  beginCompleting(session: SessionRecord, now: string, staleBefore: string): Promise<Transition> {
    return this.change(session, CHANGES.beginCompleting, { now, values: { ':stale': staleBefore }, set: { completing_since: now } });
  }

  /** Only the holder of the lease `leaseSince` may record the object. */
  markCompleted(session: SessionRecord, leaseSince: string, etag: string, now: string, sized?: Sized): Promise<Transition> {
    return this.change(session, CHANGES.markCompleted, { now, values: { ':lease': leaseSince }, set: { etag, completed_at: now, ...sized } });
  }

  releaseCompleting(session: SessionRecord, leaseSince: string, now: string): Promise<Transition> {
    return this.change(session, CHANGES.releaseCompleting, { now, values: { ':lease': leaseSince } });
  }

  markAborted(session: SessionRecord, now: string): Promise<Transition> {
    return this.change(session, CHANGES.markAborted, { now, set: { aborted_at: now } });
  }

  markExpired(session: SessionRecord, now: string, staleBefore: string): Promise<Transition> {
    return this.change(session, CHANGES.markExpired, { now, values: { ':stale': staleBefore } });
  }

  /** Records the object storage holds (ETag `etag`) as this session's upload. */
  recordFound(session: SessionRecord, etag: string, now: string, staleBefore: string, sized?: Sized): Promise<Transition> {
    return this.change(session, CHANGES.recordFound, { now, values: { ':stale': staleBefore }, set: { etag, completed_at: now, ...sized } });
  }

  /** One page of open sessions in `shard` whose expiry is at or before `now`, oldest first. */
  async listExpired(
    shard: string,
    now: string,
    limit: number,
    startKey?: Record<string, unknown>,
  ): Promise<{ sessions: SessionRecord[]; nextKey?: Record<string, unknown> }> {
    const index = TABLE.openSessionsIndex;
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#shard = :shard AND #exp <= :now',
        ExpressionAttributeNames: { '#shard': index.partitionKey, '#exp': index.sortKey },
        ExpressionAttributeValues: { ':shard': shard, ':now': now },
        Limit: limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    return {
      sessions: (out.Items ?? []) as SessionRecord[],
      ...(out.LastEvaluatedKey ? { nextKey: out.LastEvaluatedKey } : {}),
    };
  }

  /** Adds `delta` to the owner's open-session count; with `cap`, only while the count is below it. */
  private countChange(owner: string, delta: number, cap?: number) {
    return {
      TableName: this.tableName,
      Key: { [TABLE.partitionKey]: ownerCountKey(owner) },
      UpdateExpression: 'SET #owner = :owner ADD open_count :delta',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': owner, ':delta': delta, ...(cap !== undefined ? { ':cap': cap } : {}) },
      ...(cap !== undefined
        ? { ConditionExpression: 'attribute_not_exists(open_count) OR open_count < :cap', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }
        : {}),
    };
  }

  /**
   * Applies `change` to the row of `session` (the caller's copy: its fixed attributes are what
   * the row holds). Into a final status, the session leaves the open-sessions index and its
   * owner's count, in one transaction.
   */
  private async change(
    session: SessionRecord,
    change: Change,
    opts: { now: string; values?: Record<string, unknown>; set?: Partial<SessionRecord> },
  ): Promise<Transition> {
    const closes = isFinal(change.to);
    const values: Record<string, unknown> = { ':to': change.to, ':now': opts.now, ...opts.values };
    const sets = ['#status = :to', 'updated_at = :now'];
    for (const [attr, value] of Object.entries(opts.set ?? {})) {
      values[`:set_${attr}`] = value;
      sets.push(`${attr} = :set_${attr}`);
    }
    const removes: string[] = [...(change.to === 'completing' ? [] : ['completing_since']), ...(closes ? OPEN_ONLY : [])];
    const from = Object.entries(change.from) as [SessionStatus, string][];
    const leaving = from.map(([status, extra]) => {
      values[`:from_${status}`] = status;
      const test = extra ? `#status = :from_${status} AND ${extra}` : `#status = :from_${status}`;
      // DynamoDB refuses redundant parentheses: only alternatives get their own.
      return from.length > 1 && extra ? `(${test})` : test;
    });
    const update = {
      TableName: this.tableName,
      Key: { [TABLE.partitionKey]: session.session_id },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: `attribute_exists(#pk) AND (${leaving.join(' OR ')})`,
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#status': 'status' },
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    const written = { ...session, status: change.to, updated_at: opts.now, ...opts.set } as SessionRecord;
    for (const attr of removes) delete (written as unknown as Record<string, unknown>)[attr];

    if (closes) {
      const out = await transactWrite(this.db, [{ Update: update }, { Update: this.countChange(session.owner, -1) }]);
      return out.ok ? { ok: true, session: written } : { ok: false, current: out.items[0]?.item as SessionRecord | undefined };
    }
    try {
      await retryingConflicts(() => this.db.send(new UpdateCommand(update)));
      return { ok: true, session: written };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return { ok: false, current: itemAtFailure(e) as SessionRecord | undefined };
      throw e;
    }
  }
}
