/**
 * The DynamoDB table layout, used by the CDK stack and by the local cloud's CreateTable,
 * so the two can never drift apart.
 */
export const TABLE = {
  /** Session ids, and the prefixed keys of the per-owner counters and idempotency keys (aws/session-store.ts). */
  partitionKey: 'session_id',
  ttlAttribute: 'ttl',
  /** Sparse GSI over open sessions, ordered by expiry: the sweeper queries it instead of scanning. */
  openSessionsIndex: {
    name: 'open_sessions_by_expiry',
    partitionKey: 'open_shard',
    sortKey: 'expires_at',
    /** The sweeper needs the key and upload id of each session: project everything. */
    projection: 'ALL',
    /** Open sessions spread over this many partition values to avoid one hot key. */
    shards: 8,
  },
} as const;

/** Every GSI of the sessions table, for the code that creates it (CDK stack, local cloud). */
export const SESSION_INDEXES = [TABLE.openSessionsIndex] as const;

/**
 * The API tokens table (lambdas/core/tokens.ts TokenRecord): one row per token, keyed by its
 * public id; it holds the SHA-256 of each secret, never a token. The authorizer only reads it
 * (GetItem); `mpu-admin token` writes it with operator credentials.
 */
export const TOKENS_TABLE = {
  partitionKey: 'token_id',
  /** Set on revoked and expiring tokens only: DynamoDB deletes their rows after a retention. */
  ttlAttribute: 'ttl',
} as const;
