/**
 * Handlers end to end in-process, with the AWS SDK mocked (aws-sdk-client-mock):
 * checks the HTTP contract, the session rules, and which AWS calls happen (or must not).
 */
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MiB } from '../../lambdas/core/limits.js';
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

const { handler: init } = await import('../../lambdas/handlers/init.js');
const { handler: parts } = await import('../../lambdas/handlers/parts.js');
const { handler: status } = await import('../../lambdas/handlers/status.js');
const { handler: complete } = await import('../../lambdas/handlers/complete.js');
const { handler: abort } = await import('../../lambdas/handlers/abort.js');
const { sweepExpired } = await import('../../lambdas/service/sweeper.js');
const { defaultDeps } = await import('../../lambdas/service/deps.js');

const SID = 'AAAAAAAAAAAAAAAAAAAAAA';

function event(
  method: string,
  path: string,
  body?: unknown,
  opts: { owner?: string | null; sessionId?: string; raw?: string; contentType?: string } = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': opts.contentType ?? 'application/json' },
    pathParameters: opts.sessionId !== undefined ? { session_id: opts.sessionId } : undefined,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      ...(opts.owner === null ? {} : { authorizer: { lambda: { owner: opts.owner ?? 'anonymous' } } }),
    },
    body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

function bodyOf(res: APIGatewayProxyStructuredResultV2): Record<string, any> {
  return JSON.parse(res.body ?? '{}');
}

function session(over: Partial<SessionRecord> = {}): SessionRecord {
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
    ...over,
  };
}

const storedParts = [
  { PartNumber: 1, Size: 5 * MiB, ETag: '"a"' },
  { PartNumber: 2, Size: 5 * MiB, ETag: '"b"' },
  { PartNumber: 3, Size: 2 * MiB, ETag: '"c"' },
];

beforeEach(() => {
  s3.reset();
  ddb.reset();
  ddb.on(QueryCommand).resolves({ Count: 0 });
});

describe('POST /upload/init', () => {
  test('creates the multipart upload and the session, returns the first part URLs', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    ddb.on(PutCommand).resolves({});
    const res = await init(event('POST', '/upload/init', { filename: 'movie.mp4', file_size: 12 * MiB }));
    expect(res.statusCode).toBe(201);
    const body = bodyOf(res);
    expect(body.session_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body).toMatchObject({ total_parts: 3, chunk_size: 5 * MiB });
    expect(body.parts.map((p: any) => p.part_number)).toEqual([1, 2, 3]);
    const url = new URL(body.parts[0].url);
    expect(url.searchParams.get('partNumber')).toBe('1');
    expect(url.searchParams.get('uploadId')).toBe('up-1');
    // No SDK-invented checksum parameters: S3-compatible stores reject them.
    expect(url.search.toLowerCase()).not.toContain('checksum');

    const item = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item as SessionRecord;
    expect(item).toMatchObject({ status: 'in_progress', owner: 'anonymous', upload_id: 'up-1', total_parts: 3 });
    expect(item.object_key).toBe(`uploads/${body.session_id}/movie.mp4`);
    expect(item.open_shard).toMatch(/^open#[0-7]$/);
    expect(item.open_owner).toBe('anonymous');
    expect(item.ttl).toBeGreaterThan(Date.parse(item.expires_at) / 1000);
  });

  test('an owner at the open-session cap gets 429 with Retry-After, and nothing is created', async () => {
    ddb.on(QueryCommand).resolves({ Count: 100 });
    const res = await init(event('POST', '/upload/init', { filename: 'a', file_size: 1 }, { owner: 'alice' }));
    expect(res.statusCode).toBe(429);
    expect(bodyOf(res)).toMatchObject({ error: 'too_many_open_sessions', open_sessions: 100 });
    expect(res.headers?.['Retry-After']).toBe('60');
    const q = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(q).toMatchObject({ IndexName: 'open_sessions_by_owner', Select: 'COUNT', Limit: 100 });
    expect(q.ExpressionAttributeValues![':owner']).toBe('alice');
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('a 0-byte file is one empty part', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-0' });
    ddb.on(PutCommand).resolves({});
    const res = await init(event('POST', '/upload/init', { filename: 'empty', file_size: 0 }));
    expect(res.statusCode).toBe(201);
    expect(bodyOf(res).total_parts).toBe(1);
  });

  test.each([
    ['not JSON', undefined, '{"filename":', 400, 'validation_error'],
    ['missing filename', { file_size: 1 }, undefined, 400, 'validation_error'],
    ['negative size', { filename: 'a', file_size: -1 }, undefined, 400, 'validation_error'],
    ['fractional size', { filename: 'a', file_size: 1.5 }, undefined, 400, 'validation_error'],
    ['size as string', { filename: 'a', file_size: '10' }, undefined, 400, 'validation_error'],
    ['unknown field', { filename: 'a', file_size: 1, owner: 'x' }, undefined, 400, 'validation_error'],
    ['traversal filename', { filename: '../../etc/passwd', file_size: 1 }, undefined, 400, 'validation_error'],
    ['control characters', { filename: 'a\u0000b', file_size: 1 }, undefined, 400, 'validation_error'],
    ['chunk below 5 MiB', { filename: 'a', file_size: 10, chunk_size: MiB }, undefined, 400, 'validation_error'],
    ['over 10,000 parts', { filename: 'a', file_size: 10_001 * 5 * MiB, chunk_size: 5 * MiB }, undefined, 400, 'validation_error'],
    ['larger than S3 allows', { filename: 'a', file_size: 6 * 1024 ** 4 }, undefined, 413, 'file_too_large'],
  ])('%s -> %i', async (_name, body, raw, code, error) => {
    const res = await init(event('POST', '/upload/init', body, { raw }));
    expect(res.statusCode).toBe(code);
    expect(bodyOf(res)).toMatchObject({ error });
    expect(typeof bodyOf(res).message).toBe('string');
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  test('too many parts suggests a chunk size that fits', async () => {
    const res = await init(event('POST', '/upload/init', { filename: 'a', file_size: 100 * 1024 ** 3, chunk_size: 5 * MiB }));
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).message).toContain('at least 11534336 bytes');
  });

  test('an oversized body is 413, a non-JSON content type 415', async () => {
    const big = JSON.stringify({ filename: 'a'.repeat(70 * 1024), file_size: 1 });
    expect((await init(event('POST', '/upload/init', undefined, { raw: big }))).statusCode).toBe(413);
    const res = await init(event('POST', '/upload/init', { filename: 'a', file_size: 1 }, { contentType: 'text/plain' }));
    expect(res.statusCode).toBe(415);
  });

  test('when the table write fails, the multipart upload is aborted and the error is a 500 without details', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    ddb.on(PutCommand).rejects(new Error('boom: secret detail'));
    const res = await init(event('POST', '/upload/init', { filename: 'a', file_size: 1 }));
    expect(res.statusCode).toBe(500);
    expect(bodyOf(res)).toEqual({ error: 'internal_error', message: 'internal error' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input.UploadId).toBe('up-2');
  });
});

test('a request without an authorized caller is refused before any AWS call (fail closed)', async () => {
  const res = await init(event('POST', '/upload/init', { filename: 'a', file_size: 1 }, { owner: null }));
  expect([res.statusCode, bodyOf(res).error]).toEqual([401, 'unauthorized']);
  expect(s3.calls()).toHaveLength(0);
  expect(ddb.calls()).toHaveLength(0);
});

describe('POST /upload/{id}/parts', () => {
  test('binds Content-MD5 into the signature when md5 is given', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    const md5 = '1B2M2Y8AsgTpgAmY7PhCfg==';
    const res = await parts(event('POST', '/x', { parts: [{ part_number: 2, md5 }, { part_number: 3 }] }, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    const [bound, unbound] = bodyOf(res).parts;
    expect(bound.headers).toEqual({ 'Content-MD5': md5 });
    expect(new URL(bound.url).searchParams.get('X-Amz-SignedHeaders')).toContain('content-md5');
    expect(unbound.headers).toEqual({});
    expect(new URL(unbound.url).searchParams.get('X-Amz-SignedHeaders')).not.toContain('content-md5');
    expect(Number(new URL(bound.url).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
    expect(s3.calls()).toHaveLength(0); // signing is local
  });

  test.each([
    ['part 0', { parts: [{ part_number: 0 }] }, 400],
    ['part beyond total', { parts: [{ part_number: 4 }] }, 400],
    ['repeated part', { parts: [{ part_number: 1 }, { part_number: 1 }] }, 400],
    ['bad md5', { parts: [{ part_number: 1, md5: 'abc' }] }, 400],
    ['empty list', { parts: [] }, 400],
  ])('%s -> %i', async (_n, body, code) => {
    ddb.on(GetCommand).resolves({ Item: session() });
    expect((await parts(event('POST', '/x', body, { sessionId: SID }))).statusCode).toBe(code);
  });

  test('a malformed session id is refused before any database call', async () => {
    const res = await parts(event('POST', '/x', { parts: [{ part_number: 1 }] }, { sessionId: '../../x' }));
    expect(res.statusCode).toBe(400);
    expect(ddb.calls()).toHaveLength(0);
  });

  test("another owner's session is indistinguishable from a missing one", async () => {
    ddb.on(GetCommand).resolves({ Item: session({ owner: 'alice' }) });
    const res = await parts(event('POST', '/x', { parts: [{ part_number: 1 }] }, { sessionId: SID, owner: 'mallory' }));
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error).toBe('not_found');
  });

  test('no URLs for aborted, completed or expired sessions', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    for (const [over, code, error] of [
      [{ status: 'aborted' }, 410, 'session_aborted'],
      [{ status: 'completed' }, 409, 'session_completed'],
      [{ expires_at: past }, 410, 'session_expired'],
    ] as const) {
      ddb.on(GetCommand).resolves({ Item: session(over) });
      const res = await parts(event('POST', '/x', { parts: [{ part_number: 1 }] }, { sessionId: SID }));
      expect([res.statusCode, bodyOf(res).error]).toEqual([code, error]);
    }
  });
});

describe('GET /upload/{id}/status', () => {
  test('reads every ListParts page: storage is the truth', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand)
      .resolvesOnce({ Parts: storedParts.slice(0, 2), IsTruncated: true, NextPartNumberMarker: '2' })
      .resolvesOnce({ Parts: storedParts.slice(2), IsTruncated: false });
    const res = await status(event('GET', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      session_id: SID,
      status: 'in_progress',
      total_parts: 3,
      completed_parts: [1, 2, 3],
      bytes_uploaded: 12 * MiB,
    });
    expect(s3.commandCalls(ListPartsCommand)[1]!.args[0].input.PartNumberMarker).toBe('2');
  });

  test('unknown session -> 404', async () => {
    ddb.on(GetCommand).resolves({});
    expect((await status(event('GET', '/x', undefined, { sessionId: SID }))).statusCode).toBe(404);
  });
});

describe('POST /upload/{id}/complete', () => {
  test('missing parts -> 409 with the list, and the session stays in progress', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand).resolves({ Parts: [storedParts[0]!] });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'missing_parts', missing_parts: [2, 3] });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('a part of the wrong size -> 409, never a corrupt object', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand).resolves({ Parts: [storedParts[0]!, { ...storedParts[1]!, Size: 5 * MiB - 1 }, storedParts[2]!] });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'part_mismatch', mismatched_parts: [2] });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('completes under a lease and records the result; a repeat returns the same 200 without S3', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    ddb.on(UpdateCommand).callsFake((input: any) => {
      const completing = input.UpdateExpression.includes(':completing, completing_since = :now');
      return {
        Attributes: completing
          ? session({ status: 'completing', completing_since: input.ExpressionAttributeValues[':now'] })
          : session({ status: 'completed', etag: input.ExpressionAttributeValues[':etag'] }),
      };
    });
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"abc-3"' });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    const first = bodyOf(res);
    expect(first).toEqual({
      session_id: SID,
      status: 'completed',
      file_path: `s3://bucket/uploads/${SID}/movie.mp4`,
      size: 12 * MiB,
      etag: '"abc-3"',
    });
    const sent = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload!.Parts;
    expect(sent).toEqual([
      { PartNumber: 1, ETag: '"a"' },
      { PartNumber: 2, ETag: '"b"' },
      { PartNumber: 3, ETag: '"c"' },
    ]);

    s3.reset();
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: session({ status: 'completed', etag: '"abc-3"' }) });
    const again = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(again.statusCode).toBe(200);
    expect(bodyOf(again)).toEqual(first);
    expect(s3.calls()).toHaveLength(0);
  });

  test('losing the lease race to another complete never calls CompleteMultipartUpload', async () => {
    ddb.on(GetCommand)
      .resolvesOnce({ Item: session() })
      .resolves({ Item: session({ status: 'completing', completing_since: new Date().toISOString() }) });
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error).toBe('session_busy');
    expect(res.headers?.['Retry-After']).toBeDefined();
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('parts refused by storage give the lease back and answer 409', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    const lease = new Date().toISOString();
    ddb.on(UpdateCommand).resolves({ Attributes: session({ status: 'completing', completing_since: lease }) });
    const err = Object.assign(new Error('One or more of the specified parts could not be found.'), { name: 'InvalidPart' });
    const { S3ServiceException } = await import('@aws-sdk/client-s3');
    s3.on(CompleteMultipartUploadCommand).rejects(
      new S3ServiceException({ name: 'InvalidPart', $fault: 'client', $metadata: {}, message: err.message }),
    );
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(409);
    const release = ddb.commandCalls(UpdateCommand)[1]!.args[0].input;
    expect(release.UpdateExpression).toContain(':in_progress');
    expect(release.ExpressionAttributeValues![':lease']).toBe(lease);
  });
});

describe('complete when storage answers are lost', () => {
  const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
  const leaseThenDone = (input: any) => ({
    Attributes: input.UpdateExpression.includes(':completing, completing_since = :now')
      ? session({ status: 'completing', completing_since: input.ExpressionAttributeValues[':now'] })
      : session({ status: 'completed', etag: input.ExpressionAttributeValues[':etag'] }),
  });

  test('no answer from CompleteMultipartUpload, but the object is there: recorded as completed', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).callsFake(leaseThenDone);
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    s3.on(CompleteMultipartUploadCommand).rejects(unreachable());
    s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"assembled-3"' });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ status: 'completed', etag: '"assembled-3"' });
  });

  test('no answer and no object: the lease is given back and the caller may retry (502)', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).callsFake(leaseThenDone);
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    s3.on(CompleteMultipartUploadCommand).rejects(unreachable());
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('not found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([502, 'storage_error']);
    expect(res.headers?.['Retry-After']).toBe('1');
    const release = ddb.commandCalls(UpdateCommand)[1]!.args[0].input;
    expect(release.UpdateExpression).toContain(':in_progress');
  });

  test('the upload is gone because an earlier complete finished it in S3: the object is adopted', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).callsFake(leaseThenDone);
    s3.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));
    s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"earlier-3"' });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).etag).toBe('"earlier-3"');
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('DynamoDB unreachable is a retryable 502, not a 500', async () => {
    ddb.on(GetCommand).rejects(unreachable());
    const res = await status(event('GET', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([502, 'storage_error']);
  });
});

describe('DELETE /upload/{id}', () => {
  test('aborts in storage after the conditional table write', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).resolves({ Attributes: session({ status: 'aborted' }) });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ session_id: SID, status: 'aborted' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  test('a completing or completed upload is never aborted', async () => {
    for (const st of ['completing', 'completed'] as const) {
      s3.reset();
      ddb.reset();
      ddb.on(GetCommand).resolves({ Item: session({ status: st, completing_since: new Date().toISOString() }) });
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
      const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
      expect(res.statusCode).toBe(409);
      expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
    }
  });

  test('a second abort answers 410', async () => {
    ddb.on(GetCommand).resolves({ Item: session({ status: 'aborted' }) });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([410, 'session_aborted']);
  });
});

describe('sweeper', () => {
  test('expires open sessions past their expiry through the index, skipping ones that changed', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const a = session({ session_id: 'A'.repeat(22), expires_at: past, upload_id: 'ua' });
    const b = session({ session_id: 'B'.repeat(22), expires_at: past, upload_id: 'ub' });
    ddb.on(QueryCommand).callsFake((input: any) => ({
      Items: input.ExpressionAttributeValues[':shard'] === 'open#3' ? [a, b] : [],
    }));
    ddb.on(UpdateCommand, { Key: { session_id: a.session_id } }).resolves({ Attributes: { ...a, status: 'expired' } });
    ddb.on(UpdateCommand, { Key: { session_id: b.session_id } }).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: { ...b, status: 'completing' } });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const result = await sweepExpired(defaultDeps());
    expect(result).toEqual({ examined: 2, expired: 1, skipped: 1, failed: 0 });
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input.UploadId)).toEqual(['ua']);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(8);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input.IndexName).toBe('open_sessions_by_expiry');
  });
});

jest.setTimeout(20_000);
