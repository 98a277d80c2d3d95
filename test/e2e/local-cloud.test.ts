/**
 * Proof that the e2e target is real storage, not a mock: S3 checks signatures, expiry and
 * Content-MD5 and implements multipart; the sessions table has the stack's layout; the API
 * answers unknown routes as API Gateway does. Runs unchanged against a deployed stack.
 */
import { createHash, randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DescribeTableCommand, DescribeTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TABLE } from '../../lambdas/aws/table-definition.js';
import { MiB } from '../../contract/limits.js';
import { apiFetch, dynamoClient, e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';

jest.setTimeout(60_000);

let t: E2ETarget;
let s3: S3Client;
let db: DynamoDBClient;
const prefix = `e2e-local-cloud/${Date.now()}-${randomBytes(4).toString('hex')}`;
const keys: string[] = [];
const key = (name: string) => {
  const k = `${prefix}/${name}`;
  keys.push(k);
  return k;
};
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');

beforeAll(() => {
  t = e2eTarget();
  s3 = s3Client(t);
  db = dynamoClient(t);
});

afterAll(async () => {
  await Promise.all(keys.map((Key) => s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key })).catch(() => undefined)));
  s3.destroy();
  db.destroy();
});

describe('S3', () => {
  test('PutObject then GetObject returns the same bytes', async () => {
    const body = randomBytes(256 * 1024);
    const Key = key('roundtrip.bin');
    const put = await s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: body }));
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  test('a presigned PUT URL works, and the same URL with a tampered signature gets 403', async () => {
    const Key = key('presigned.txt');
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: t.bucket, Key }), { expiresIn: 300 });
    const ok = await fetch(url, { method: 'PUT', body: 'signed upload' });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const got = await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('signed upload');

    const tampered = new URL(url);
    const sig = tampered.searchParams.get('X-Amz-Signature')!;
    tampered.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
    const bad = await fetch(tampered, { method: 'PUT', body: 'forged' });
    expect(bad.status).toBe(403);
    expect(await bad.text()).toMatch(/SignatureDoesNotMatch|AccessDenied/);

    // Pointing a valid signature at another key is refused too.
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace(/presigned\.txt$/, 'elsewhere.txt');
    const moved = await fetch(otherKey, { method: 'PUT', body: 'forged' });
    expect(moved.status).toBe(403);
    await moved.arrayBuffer();
  });

  test('an expired presigned URL gets 403', async () => {
    const Key = key('expired.txt');
    // Signed two minutes ago for one second: expired without waiting.
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: t.bucket, Key }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 120_000),
    });
    const res = await fetch(url, { method: 'PUT', body: 'too late' });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/AccessDenied|expired/i);
  });

  test('a wrong Content-MD5 is rejected with BadDigest', async () => {
    const Key = key('bad-digest.txt');
    await expect(
      s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'the real body', ContentMD5: md5('another body') })),
    ).rejects.toMatchObject({ name: 'BadDigest' });
    // The same check holds for a presigned URL with Content-MD5 signed in.
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: t.bucket, Key, ContentMD5: md5('another body') }), {
      expiresIn: 300,
    });
    const res = await fetch(url, { method: 'PUT', headers: { 'content-md5': md5('another body') }, body: 'the real body' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('BadDigest');
  });

  test('multipart: parts are listed, completed into one object, and an upload can be aborted', async () => {
    const Key = key('multipart.bin');
    const parts = [randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket: t.bucket, Key, UploadId, PartNumber: i + 1, Body }));
      etags.push(out.ETag!);
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: t.bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, parts[0]!.length, etags[0]],
      [2, parts[1]!.length, etags[1]],
    ]);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts))).toBe(true);

    const aborted = await s3.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key('aborted.bin') }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: key('aborted.bin'), UploadId: aborted.UploadId }));
    // S3 says NoSuchUpload; Ceph RGW 16 says NoSuchKey (both 404) for ListParts of an aborted upload.
    const err = await s3
      .send(new ListPartsCommand({ Bucket: t.bucket, Key: key('aborted.bin'), UploadId: aborted.UploadId }))
      .then(() => undefined, (e: unknown) => e as { name?: string; $metadata?: { httpStatusCode?: number } });
    expect(err?.$metadata?.httpStatusCode).toBe(404);
    expect(['NoSuchUpload', 'NoSuchKey']).toContain(err?.name);
    // Uploading into the aborted upload fails the same way on both.
    await expect(
      s3.send(new UploadPartCommand({ Bucket: t.bucket, Key: key('aborted.bin'), UploadId: aborted.UploadId, PartNumber: 1, Body: 'x' })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});

describe('DynamoDB', () => {
  test('the sessions table exists with its key, the sparse expiry GSI, on-demand billing and TTL', async () => {
    expect(t.table).toBeTruthy();
    const { Table } = await db.send(new DescribeTableCommand({ TableName: t.table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const gsi = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === TABLE.openSessionsIndex.name);
    expect(gsi?.KeySchema).toEqual([
      { AttributeName: TABLE.openSessionsIndex.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.openSessionsIndex.sortKey, KeyType: 'RANGE' },
    ]);
    expect(gsi?.Projection?.ProjectionType).toBe('ALL');
    const ttl = await db.send(new DescribeTimeToLiveCommand({ TableName: t.table }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: TABLE.ttlAttribute });
  });
});

describe('API gateway', () => {
  test('an unknown route gets API Gateway’s 404 JSON', async () => {
    const res = await apiFetch('/definitely/not/a/route');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ message: 'Not Found' });
    // API Gateway's request id header (a Function URL deployment answers through the router Lambda instead).
    if (t.kind === 'local') expect(res.headers.get('apigw-requestid')).toBeTruthy();
  });

  test('a known path with a method it has no route for is also a 404', async () => {
    const res = await apiFetch('/upload/init', { method: 'GET' });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ message: 'Not Found' });
  });
});
