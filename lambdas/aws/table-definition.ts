/**
 * The DynamoDB table layout, used by the CDK stack and by the local cloud's CreateTable,
 * so the two can never drift apart.
 */
export const TABLE = {
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
