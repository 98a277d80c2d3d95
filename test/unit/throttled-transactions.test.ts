/**
 * DynamoDB cancels a transaction for throttling (per-item reason ThrottlingError and the like)
 * rather than throwing ThrottlingException: the caller must get the same retryable 429 as a
 * throttled plain write, not a 500.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { AbortMultipartUploadCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MiB } from '../../contract/limits.js';
import type { SessionRecord } from '../../lambdas/core/session.js';

Object.assign(process.env, {
  TABLE_NAME: 'sessions',
  BUCKET_NAME: 'bucket',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});

const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
const { handler: abort } = await import('../../lambdas/handlers/abort.js');

const SID = 'AAAAAAAAAAAAAAAAAAAAAA';

function session(): SessionRecord {
  const now = new Date();
  return {
    session_id: SID,
    owner: 'anonymous',
    filename: 'movie.mp4',
    content_type: 'video/mp4',
    object_key: `uploads/${SID}/movie.mp4`,
    upload_id: 'upload-1',
    file_size: 12 * MiB,
    chunk_size: 5 * MiB,
    total_parts: 3,
    status: 'in_progress',
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    expires_at: new Date(now.getTime() + 3600_000).toISOString(),
    ttl: 0,
    open_shard: 'open#0',
  };
}

const deleteEvent = {
  version: '2.0',
  routeKey: 'DELETE /upload/{session_id}',
  rawPath: `/upload/${SID}`,
  rawQueryString: '',
  headers: {},
  pathParameters: { session_id: SID },
  requestContext: {
    http: { method: 'DELETE', path: `/upload/${SID}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
    authorizer: { lambda: { owner: 'anonymous' } },
  },
  isBase64Encoded: false,
} as unknown as APIGatewayProxyEventV2;

beforeEach(() => {
  s3.reset();
  ddb.reset();
});

test.each(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded'])(
  'a transaction cancelled with reason %s: 429 too_many_requests with Retry-After, storage untouched',
  async (code) => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' }));
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: code }, { Code: 'None' }] }),
    );
    const res = await abort(deleteEvent);
    expect(res.statusCode).toBe(429);
    expect(res.headers).toMatchObject({ 'Retry-After': '1' });
    expect(JSON.parse(res.body ?? '{}')).toEqual({ error: 'too_many_requests', message: 'the service is busy; retry shortly' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  },
);
