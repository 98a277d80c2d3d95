/**
 * Upload sessions in DynamoDB. Every status change is a conditional write, so two callers
 * racing (complete vs complete, complete vs abort, complete vs sweeper) cannot both win.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SessionRecord } from '../core/session.js';
import { TABLE } from './table-definition.js';

/** Outcome of a conditional update: the new item, or the item as it was when the condition failed. */
export type Transition = { ok: true; session: SessionRecord } | { ok: false; current: SessionRecord | undefined };

export class SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(session: SessionRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: session,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
      }),
    );
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { [TABLE.partitionKey]: sessionId }, ConsistentRead: true }),
    );
    return out.Item as SessionRecord | undefined;
  }

  /**
   * Takes the completion lease: from `in_progress` (not yet expired), or from a `completing`
   * whose lease is older than `staleBefore` (its holder crashed).
   */
  beginCompleting(sessionId: string, now: string, staleBefore: string): Promise<Transition> {
    return this.transition(sessionId, {
      update: 'SET #status = :completing, completing_since = :now, updated_at = :now',
      condition:
        '(#status = :in_progress AND expires_at > :now) OR (#status = :completing AND completing_since < :stale)',
      values: { ':completing': 'completing', ':in_progress': 'in_progress', ':now': now, ':stale': staleBefore },
    });
  }

  /** Records the finished object; only the holder of the lease `leaseSince` may do so. */
  markCompleted(sessionId: string, leaseSince: string, etag: string, now: string): Promise<Transition> {
    return this.transition(sessionId, {
      update:
        'SET #status = :completed, etag = :etag, completed_at = :now, updated_at = :now REMOVE completing_since, open_shard, open_owner',
      condition: '#status = :completing AND completing_since = :lease',
      values: { ':completed': 'completed', ':completing': 'completing', ':lease': leaseSince, ':etag': etag, ':now': now },
    });
  }

  /** Gives the lease back after a failed completion, so the client can fix parts and retry. */
  releaseCompleting(sessionId: string, leaseSince: string, now: string): Promise<Transition> {
    return this.transition(sessionId, {
      update: 'SET #status = :in_progress, updated_at = :now REMOVE completing_since',
      condition: '#status = :completing AND completing_since = :lease',
      values: { ':in_progress': 'in_progress', ':completing': 'completing', ':lease': leaseSince, ':now': now },
    });
  }

  /** Only an `in_progress` session can be aborted: a completing or completed one never is. */
  markAborted(sessionId: string, now: string): Promise<Transition> {
    return this.transition(sessionId, {
      update: 'SET #status = :aborted, aborted_at = :now, updated_at = :now REMOVE open_shard, open_owner',
      condition: '#status = :in_progress',
      values: { ':aborted': 'aborted', ':in_progress': 'in_progress', ':now': now },
    });
  }

  /** Marks an open session past its expiry as expired (the sweeper's step). */
  markExpired(sessionId: string, now: string): Promise<Transition> {
    return this.transition(sessionId, {
      update: 'SET #status = :expired, updated_at = :now REMOVE open_shard, open_owner',
      condition: '#status = :in_progress AND expires_at <= :now',
      values: { ':expired': 'expired', ':in_progress': 'in_progress', ':now': now },
    });
  }

  /**
   * How many unexpired open sessions `owner` has, counting at most `limit` (enough to enforce a
   * cap). Reads the sparse owner index: eventually consistent, so the cap is a soft one.
   */
  async countOpen(owner: string, now: string, limit: number): Promise<number> {
    const index = TABLE.openByOwnerIndex;
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#owner = :owner AND #exp > :now',
          ExpressionAttributeNames: { '#owner': index.partitionKey, '#exp': index.sortKey },
          ExpressionAttributeValues: { ':owner': owner, ':now': now },
          Select: 'COUNT',
          Limit: limit - count,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      count += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey && count < limit);
    return count;
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

  private async transition(
    sessionId: string,
    op: { update: string; condition: string; values: Record<string, unknown> },
  ): Promise<Transition> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: sessionId },
          UpdateExpression: op.update,
          ConditionExpression: `attribute_exists(#pk) AND (${op.condition})`,
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#status': 'status' },
          ExpressionAttributeValues: op.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { ok: true, session: out.Attributes as SessionRecord };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return { ok: false, current: await this.get(sessionId) };
      throw e;
    }
  }
}
