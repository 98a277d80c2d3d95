/**
 * The bucket and the sessions table, created the way the CDK stack defines them
 * (table layout from lambdas/aws/table-definition.ts, so the two cannot drift).
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { SESSION_INDEXES, TABLE, TOKENS_TABLE } from '../lambdas/aws/table-definition.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** S3 client for RGW: path-style, and no flexible checksums (RGW 16 predates them). */
export function localS3Client(endpoint: string, region: string, credentials: Credentials): S3Client {
  return new S3Client({
    endpoint,
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function localDynamoClient(endpoint: string, region: string, credentials: Credentials): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials });
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch {
    // Not there (or not ours): create it; a real problem surfaces from CreateBucket.
  }
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** CreateTable (if missing) with the sparse GSIs, on-demand billing, and TTL on `ttl`. */
export async function ensureSessionTable(db: DynamoDBClient, table: string): Promise<void> {
  const keyAttributes = new Set<string>([TABLE.partitionKey, ...SESSION_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])]);
  try {
    await db.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: SESSION_INDEXES.map((idx) => ({
          IndexName: idx.name,
          KeySchema: [
            { AttributeName: idx.partitionKey, KeyType: 'HASH' },
            { AttributeName: idx.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: idx.projection },
        })),
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  await waitUntilTableExists({ client: db, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: table });
  const desc = await db.send(new DescribeTableCommand({ TableName: table }));
  if (!desc.Table) throw new Error(`table ${table} missing after create`);
  try {
    await db.send(
      new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true } }),
    );
  } catch (e) {
    // Re-enabling TTL on a table that has it (restart with a data dir) is a ValidationException.
    if (!(e instanceof Error && /already enabled/i.test(e.message))) throw e;
  }
}

/** The API tokens table (TOKENS_TABLE): keyed by token id, on-demand, TTL on `ttl`. */
export async function ensureTokensTable(db: DynamoDBClient, table: string): Promise<void> {
  try {
    await db.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: TOKENS_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: TOKENS_TABLE.partitionKey, KeyType: 'HASH' }],
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  await waitUntilTableExists({ client: db, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: table });
  try {
    await db.send(
      new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: TOKENS_TABLE.ttlAttribute, Enabled: true } }),
    );
  } catch (e) {
    if (!(e instanceof Error && /already enabled/i.test(e.message))) throw e;
  }
}
