/**
 * DynamoDB building blocks the stores share: the create-if-absent Put, the item a failed
 * condition saw, and transactions (with the conflicts DynamoDB asks callers to retry).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ApiError } from '../core/errors.js';

type Item = Record<string, unknown>;

/** A Put that only creates: it fails its condition when an item with this key exists. */
export function putIfAbsent(tableName: string, partitionKey: string, item: Item) {
  return {
    TableName: tableName,
    Item: item,
    ConditionExpression: 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': partitionKey },
  };
}

/**
 * The item as it was when a condition failed, sent with the failure itself when the request
 * asked for it (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`): no second read, so no race
 * and no GetItem grant. lib-dynamodb leaves error payloads in the wire format.
 */
export function itemAtFailure(e: Pick<ConditionalCheckFailedException, 'Item'>): Item | undefined {
  return e.Item ? unmarshall(e.Item) : undefined;
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Per item of a cancelled transaction: did its condition fail, and the item as it was then. */
export interface ItemOutcome {
  failed: boolean;
  item?: Item;
}

export type TransactOutcome = { ok: true } | { ok: false; items: ItemOutcome[] };

interface CancellationReason {
  Code?: string;
  Item?: Parameters<typeof unmarshall>[0];
}

function cancellationReasons(e: unknown): CancellationReason[] | undefined {
  if (!(e instanceof Error) || e.name !== 'TransactionCanceledException') return undefined;
  return (e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

/**
 * Two writes to one item at the same moment, at least one in a transaction: DynamoDB refuses one
 * (TransactionConflict, not retried by the SDK) and asks the caller to retry. A cancellation
 * that names a failed condition is an answer, not a conflict.
 */
function isConflict(e: unknown): boolean {
  if (e instanceof Error && e.name === 'TransactionConflictException') return true;
  const reasons = cancellationReasons(e);
  return reasons !== undefined && reasons.some((r) => r.Code === 'TransactionConflict') && !reasons.some((r) => r.Code === 'ConditionalCheckFailed');
}

export const CONFLICT_ATTEMPTS = 5;

/** Runs `op`, again after a short random pause on each conflict (at most CONFLICT_ATTEMPTS in all). */
export async function retryingConflicts<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!isConflict(e)) throw e;
      if (attempt >= CONFLICT_ATTEMPTS) {
        throw new ApiError('too_many_requests', 'too many concurrent changes to the same session or owner; retry shortly', {}, { 'Retry-After': '1' });
      }
      await sleep(10 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

/**
 * All of `items` or none. A cancellation by failed conditions answers, per item, whether its
 * condition failed and (where the item asked for ALL_OLD) the item as it was. Any other
 * cancellation (e.g. throttling: ThrottlingError reasons) is thrown as is; http/response.ts maps it.
 */
export async function transactWrite(db: DynamoDBDocumentClient, items: TransactItem[]): Promise<TransactOutcome> {
  try {
    await retryingConflicts(() => db.send(new TransactWriteCommand({ TransactItems: items })));
    return { ok: true };
  } catch (e) {
    const reasons = cancellationReasons(e);
    if (!reasons?.some((r) => r.Code === 'ConditionalCheckFailed')) throw e;
    return {
      ok: false,
      items: items.map((_, i) => {
        const r = reasons[i];
        return { failed: r?.Code === 'ConditionalCheckFailed', ...(r?.Item ? { item: unmarshall(r.Item) } : {}) };
      }),
    };
  }
}
