/**
 * API tokens in DynamoDB (layout: table-definition.ts TOKENS_TABLE, rows: core/tokens.ts).
 * The authorizer only calls get(); create, revoke and list are the operator's (`mpu-admin token`).
 * No method ever returns or accepts a token or a secret: rows hold the secret's hash.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TOKEN_ROW_RETENTION_SECONDS, type TokenRecord } from '../core/tokens.js';
import { putIfAbsent } from './dynamo.js';
import { TOKENS_TABLE } from './table-definition.js';

/** What `list` shows: everything but the hash. */
export type TokenInfo = Omit<TokenRecord, 'secret_hash' | 'ttl'>;

export type RevokeOutcome =
  | { outcome: 'revoked'; token: TokenInfo }
  | { outcome: 'already_revoked'; token: TokenInfo }
  | { outcome: 'not_found' };

const INFO_ATTRIBUTES = ['token_id', 'owner', 'created_at', 'revoked_at', 'expires_at', 'description'] as const;
/** Placeholder of `owner` in the Scan's ExpressionAttributeNames (`#a<index>`). */
const OWNER_NAME = `#a${INFO_ATTRIBUTES.indexOf('owner')}`;

function info(r: Partial<TokenRecord>): TokenInfo {
  const out: Record<string, unknown> = {};
  for (const k of INFO_ATTRIBUTES) if (r[k] !== undefined) out[k] = r[k];
  return out as unknown as TokenInfo;
}

export class TokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * The row of a token id. Strongly consistent: a revocation counts from the moment it is
   * written (callers in front of us may still cache an earlier answer, see the authorizer TTL).
   */
  async get(tokenId: string): Promise<TokenRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { [TOKENS_TABLE.partitionKey]: tokenId }, ConsistentRead: true }),
    );
    return out.Item as TokenRecord | undefined;
  }

  /** Stores a new token row; never overwrites one (a colliding id is an error, and astronomically rare). */
  async create(record: TokenRecord): Promise<void> {
    await this.db.send(new PutCommand(putIfAbsent(this.tableName, TOKENS_TABLE.partitionKey, { ...record })));
  }

  /** Revokes a token for good. Idempotent: revoking twice keeps the first time. */
  async revoke(tokenId: string, now: Date): Promise<RevokeOutcome> {
    const ttl = Math.floor(now.getTime() / 1000) + TOKEN_ROW_RETENTION_SECONDS;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [TOKENS_TABLE.partitionKey]: tokenId },
          UpdateExpression: 'SET revoked_at = :now, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(revoked_at)',
          ExpressionAttributeNames: { '#pk': TOKENS_TABLE.partitionKey, '#ttl': TOKENS_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':now': now.toISOString(), ':ttl': ttl },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { outcome: 'revoked', token: info(out.Attributes as TokenRecord) };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const current = await this.get(tokenId);
      return current ? { outcome: 'already_revoked', token: info(current) } : { outcome: 'not_found' };
    }
  }

  /** Every token (optionally of one owner), oldest first, without hashes. A small table: one Scan. */
  async list(filter: { owner?: string } = {}): Promise<TokenInfo[]> {
    const names: Record<string, string> = {};
    INFO_ATTRIBUTES.forEach((a, i) => (names[`#a${i}`] = a));
    const items: TokenInfo[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          ProjectionExpression: Object.keys(names).join(', '),
          ExpressionAttributeNames: names,
          ...(filter.owner !== undefined
            ? { FilterExpression: `${OWNER_NAME} = :owner`, ExpressionAttributeValues: { ':owner': filter.owner } }
            : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of out.Items ?? []) items.push(info(item as TokenRecord));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.token_id.localeCompare(b.token_id));
  }
}
