/**
 * Handlers end to end in-process, with the AWS SDK mocked (aws-sdk-client-mock):
 * checks the HTTP contract, the session rules, and which AWS calls happen (or must not).
 */
import './helpers/handler-env.js';
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
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MiB } from '../../contract/limits.js';
import { serverDurationMs } from '../../contract/server-timing.js';
import type { SessionRecord } from '../../lambdas/core/session.js';


const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);

const { handler: init } = await import('../../lambdas/handlers/init.js');
const { handler: parts } = await import('../../lambdas/handlers/parts.js');
const { handler: status } = await import('../../lambdas/handlers/status.js');
const { handler: complete } = await import('../../lambdas/handlers/complete.js');
const { handler: abort } = await import('../../lambdas/handlers/abort.js');

const SID = 'AAAAAAAAAAAAAAAAAAAAAA';

function event(
  method: string,
  path: string,
  body?: unknown,
  opts: { owner?: string | null; sessionId?: string; raw?: string; contentType?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': opts.contentType ?? 'application/json', ...opts.headers },
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

/** A failed condition, with the row as it was (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
const conditionFailed = (row?: object) =>
  new ConditionalCheckFailedException({ message: 'no', $metadata: {}, ...(row ? { Item: marshall(row, { removeUndefinedValues: true }) } : {}) });

/** A transaction cancelled by conditions: per item, the row it saw (ALL_OLD), or null if it passed. */
const cancelled = (...items: (object | null)[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: items.map((item) => (item ? { Code: 'ConditionalCheckFailed', Item: marshall(item, { removeUndefinedValues: true }) } : { Code: 'None' })),
  });

/** The parts of the n-th transaction sent. */
const transaction = (n = 0) => ddb.commandCalls(TransactWriteCommand)[n]!.args[0].input.TransactItems!;

const storedParts = [
  { PartNumber: 1, Size: 5 * MiB, ETag: '"a"' },
  { PartNumber: 2, Size: 5 * MiB, ETag: '"b"' },
  { PartNumber: 3, Size: 2 * MiB, ETag: '"c"' },
];

beforeEach(() => {
  s3.reset();
  ddb.reset();
});

describe('POST /upload/init', () => {
  test('creates the multipart upload and the session, returns the first part URLs', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    ddb.on(TransactWriteCommand).resolves({});
    const res = await init(event('POST', '/upload/init', { filename: 'movie.mp4', file_size: 12 * MiB }));
    expect(res.statusCode).toBe(201);
    // Its own time, for the client to take off its wait (the network's round trip).
    expect(serverDurationMs(res.headers?.['server-timing'] as string | undefined)).toBeGreaterThanOrEqual(0);
    const body = bodyOf(res);
    expect(body.session_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body).toMatchObject({ total_parts: 3, chunk_size: 5 * MiB });
    expect(body.parts.map((p: any) => p.part_number)).toEqual([1, 2, 3]);
    const url = new URL(body.parts[0].url);
    expect(url.searchParams.get('partNumber')).toBe('1');
    expect(url.searchParams.get('uploadId')).toBe('up-1');
    // No SDK-invented checksum parameters: S3-compatible stores reject them.
    expect(url.search.toLowerCase()).not.toContain('checksum');

    // One transaction: the owner's open-session count (below the cap), then the row.
    const [count, put, ...rest] = transaction();
    expect(rest).toEqual([]);
    expect(count!.Update).toMatchObject({
      UpdateExpression: 'SET #owner = :owner ADD open_count :delta',
      ConditionExpression: 'attribute_not_exists(open_count) OR open_count < :cap',
      ExpressionAttributeValues: { ':owner': 'anonymous', ':delta': 1, ':cap': 100 },
    });
    expect(String(count!.Update!.Key!.session_id)).toMatch(/^owner#[0-9a-f]{64}$/);
    const item = put!.Put!.Item as SessionRecord;
    expect(put!.Put!.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(item).toMatchObject({ status: 'in_progress', owner: 'anonymous', upload_id: 'up-1', total_parts: 3 });
    expect(item.object_key).toBe(`uploads/${body.session_id}/movie.mp4`);
    expect(item.open_shard).toMatch(/^open#[0-7]$/);
    expect(item.ttl).toBeGreaterThan(Date.parse(item.expires_at) / 1000);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  test('an owner at the open-session cap gets 429 with Retry-After, and nothing is left behind', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-9' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled({ open_count: 100 }, null));
    const res = await init(event('POST', '/upload/init', { filename: 'a', file_size: 1 }, { owner: 'alice' }));
    expect(res.statusCode).toBe(429);
    expect(bodyOf(res)).toMatchObject({ error: 'too_many_open_sessions', open_sessions: 100 });
    expect(res.headers?.['Retry-After']).toBe('60');
    expect(serverDurationMs(res.headers?.['server-timing'] as string | undefined)).toBeGreaterThanOrEqual(0);
    expect(transaction()[0]!.Update!.ExpressionAttributeValues).toMatchObject({ ':owner': 'alice', ':cap': 100 });
    // The transaction wrote nothing; the upload made for it is aborted at once.
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input.UploadId)).toEqual(['up-9']);
  });

  describe('Idempotency-Key', () => {
    const body = { filename: 'movie.mp4', file_size: 12 * MiB };
    const keyed = (key: string, b: unknown = body, owner = 'anonymous') => event('POST', '/upload/init', b, { owner, headers: { 'Idempotency-Key': key } });

    /** The first init with `key`: answers 201 and returns the row and the key item it wrote. */
    async function firstInit(key: string) {
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
      ddb.on(TransactWriteCommand).resolvesOnce({});
      const res = await init(keyed(key));
      expect(res.statusCode).toBe(201);
      const [, put, claim] = transaction();
      return { res, row: put!.Put!.Item as SessionRecord, claim: claim!.Put!.Item as Record<string, unknown> };
    }

    test('the key is written with the session, in the same transaction, only if new', async () => {
      const { res, row, claim } = await firstInit('key-1');
      const item = transaction()[2]!.Put!;
      expect(item.ConditionExpression).toBe('attribute_not_exists(#pk)');
      expect(item.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
      expect(String(claim.session_id)).toMatch(/^idem#[0-9a-f]{64}$/);
      expect(claim).toMatchObject({ owner: 'anonymous', created_session: bodyOf(res).session_id, ttl: row.ttl });
    });

    test('a retry with the same key and body answers the same session with fresh URLs, even at the cap; its own upload is aborted', async () => {
      const { res, row, claim } = await firstInit('key-2');
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
      s3.on(AbortMultipartUploadCommand).resolves({});
      // The first session counts against the cap too: both conditions fail, the key answers.
      ddb.on(TransactWriteCommand).rejects(cancelled({ open_count: 100 }, null, claim));
      ddb.on(GetCommand).resolves({ Item: row });
      const again = await init(keyed('key-2'));
      expect(again.statusCode).toBe(201);
      expect(bodyOf(again)).toMatchObject({ session_id: bodyOf(res).session_id, total_parts: 3, expires_at: row.expires_at });
      expect(new URL(bodyOf(again).parts[0].url).searchParams.get('uploadId')).toBe('up-1');
      expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input.UploadId)).toEqual(['up-2']);
    });

    test('the same key with another request is 422 idempotency_key_reused', async () => {
      const { claim } = await firstInit('key-3');
      s3.on(AbortMultipartUploadCommand).resolves({});
      ddb.on(TransactWriteCommand).rejects(cancelled(null, null, claim));
      const res = await init(keyed('key-3', { ...body, file_size: 12 * MiB + 1 }));
      expect([res.statusCode, bodyOf(res).error]).toEqual([422, 'idempotency_key_reused']);
      expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    });

    test('the session of a replayed key has ended: its state is the answer, never a new session', async () => {
      const { row, claim } = await firstInit('key-4');
      s3.on(AbortMultipartUploadCommand).resolves({});
      ddb.on(TransactWriteCommand).rejects(cancelled(null, null, claim));
      ddb.on(GetCommand).resolves({ Item: { ...row, status: 'completed' } });
      const res = await init(keyed('key-4'));
      expect([res.statusCode, bodyOf(res).error]).toEqual([409, 'session_completed']);
    });

    test('keys belong to their owner: the same key from two owners names two items', async () => {
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
      ddb.on(TransactWriteCommand).resolves({});
      await init(keyed('shared', body, 'alice'));
      await init(keyed('shared', body, 'bob'));
      const [a, b] = [transaction(0)[2]!.Put!.Item!.session_id, transaction(1)[2]!.Put!.Item!.session_id];
      expect(a).not.toBe(b);
    });

    test.each([['empty', ''], ['too long', 'k'.repeat(256)], ['not ASCII', 'caf\u00e9'], ['a space', 'a b']])(
      'a malformed key (%s) is 400 before any AWS call',
      async (_name, key) => {
        const res = await init(keyed(key));
        expect([res.statusCode, bodyOf(res).error]).toEqual([400, 'validation_error']);
        expect(s3.calls()).toHaveLength(0);
        expect(ddb.calls()).toHaveLength(0);
      },
    );
  });

  test('a 0-byte file is one empty part', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-0' });
    ddb.on(TransactWriteCommand).resolves({});
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
    ddb.on(TransactWriteCommand).rejects(new Error('boom: secret detail'));
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

  describe('the multipart upload is gone while the session is open (a complete whose answer was lost)', () => {
    const gone = () => new NoSuchUpload({ message: 'gone', $metadata: {} });
    const noObject = () => new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
    const staleLease = () => session({ status: 'completing', completing_since: new Date(Date.now() - 3600_000).toISOString() });

    test('storage holds the object of the planned size: recorded completed, answered completed', async () => {
      for (const row of [session(), staleLease()]) {
        s3.reset();
        ddb.reset();
        ddb.on(GetCommand).resolves({ Item: row });
        s3.on(ListPartsCommand).rejects(gone());
        s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"lost-3"' });
        ddb.on(TransactWriteCommand).resolves({});
        const res = await status(event('GET', '/x', undefined, { sessionId: SID }));
        expect(res.statusCode).toBe(200);
        expect(bodyOf(res)).toMatchObject({
          status: 'completed',
          etag: '"lost-3"',
          file_path: `s3://bucket/uploads/${SID}/movie.mp4`,
          completed_parts: [1, 2, 3],
          bytes_uploaded: 12 * MiB,
        });
        const [update, count] = transaction();
        expect(update!.Update!.ExpressionAttributeValues).toMatchObject({ ':to': 'completed', ':set_etag': '"lost-3"' });
        expect(count!.Update!.ExpressionAttributeValues).toMatchObject({ ':delta': -1 });
      }
    });

    test('another caller recorded it first: answered from the row the refusal carried', async () => {
      ddb.on(GetCommand).resolves({ Item: session() });
      s3.on(ListPartsCommand).rejects(gone());
      s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"lost-3"' });
      ddb.on(TransactWriteCommand).rejects(cancelled(session({ status: 'completed', etag: '"lost-3"', completed_at: new Date().toISOString() }), null));
      const res = await status(event('GET', '/x', undefined, { sessionId: SID }));
      expect([res.statusCode, bodyOf(res).status, bodyOf(res).etag]).toEqual([200, 'completed', '"lost-3"']);
    });

    test('no object, or one of another size, or a lease still held: 410 session_aborted as before, nothing written', async () => {
      const cases: [SessionRecord, () => void][] = [
        [session(), () => s3.on(HeadObjectCommand).rejects(noObject())],
        [session(), () => s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB - 1, ETag: '"other"' })],
        [session({ status: 'completing', completing_since: new Date().toISOString() }), () => s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"x"' })],
      ];
      for (const [row, head] of cases) {
        s3.reset();
        ddb.reset();
        ddb.on(GetCommand).resolves({ Item: row });
        s3.on(ListPartsCommand).rejects(gone());
        head();
        const res = await status(event('GET', '/x', undefined, { sessionId: SID }));
        expect([res.statusCode, bodyOf(res).error]).toEqual([410, 'session_aborted']);
        expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
        expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      }
    });
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
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"abc-3"' });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    const first = bodyOf(res);
    // The lease is a plain conditional update; the completed row leaves the owner's count with it.
    const lease = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(lease.ExpressionAttributeValues).toMatchObject({ ':to': 'completing', ':from_in_progress': 'in_progress' });
    const [done, count] = transaction();
    expect(done!.Update!.ExpressionAttributeValues).toMatchObject({ ':to': 'completed', ':set_etag': '"abc-3"', ':lease': lease.ExpressionAttributeValues![':set_completing_since'] });
    expect(done!.Update!.UpdateExpression).toContain('REMOVE completing_since, open_shard');
    expect(count!.Update!.ExpressionAttributeValues).toMatchObject({ ':owner': 'anonymous', ':delta': -1 });
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
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    ddb.on(UpdateCommand).rejects(conditionFailed(session({ status: 'completing', completing_since: new Date().toISOString() })));
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error).toBe('session_busy');
    expect(res.headers?.['Retry-After']).toBeDefined();
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    // The winner's row came with the refusal: read once, never again.
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  test('parts refused by storage give the lease back and answer 409', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    ddb.on(UpdateCommand).resolves({});
    const err = Object.assign(new Error('One or more of the specified parts could not be found.'), { name: 'InvalidPart' });
    s3.on(CompleteMultipartUploadCommand).rejects(
      new S3ServiceException({ name: 'InvalidPart', $fault: 'client', $metadata: {}, message: err.message }),
    );
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(409);
    const [take, release] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    const lease = take!.ExpressionAttributeValues![':set_completing_since'];
    expect(release!.ExpressionAttributeValues).toMatchObject({ ':to': 'in_progress', ':lease': lease });
  });
});

describe('complete when storage answers are lost', () => {
  const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });

  test('no answer from CompleteMultipartUpload, but the object is there: recorded as completed', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    s3.on(CompleteMultipartUploadCommand).rejects(unreachable());
    s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"assembled-3"' });
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ status: 'completed', etag: '"assembled-3"' });
  });

  test('no answer and no object: the lease is given back and the caller may retry (502)', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(ListPartsCommand).resolves({ Parts: storedParts });
    s3.on(CompleteMultipartUploadCommand).rejects(unreachable());
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('not found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    const res = await complete(event('POST', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([502, 'storage_error']);
    expect(res.headers?.['Retry-After']).toBe('1');
    const release = ddb.commandCalls(UpdateCommand)[1]!.args[0].input;
    expect(release.ExpressionAttributeValues![':to']).toBe('in_progress');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  test('the upload is gone because an earlier complete finished it in S3: the object is adopted', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
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
  const noObject = () => new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' });

  // DynamoDB cancels a throttled transaction (per-item reason) rather than throwing
  // ThrottlingException: the caller must get the same retryable 429 as a throttled plain write.
  test.each(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded'])(
    'a transaction cancelled with reason %s: 429 too_many_requests with Retry-After, storage untouched',
    async (code) => {
      ddb.on(GetCommand).resolves({ Item: session() });
      s3.on(HeadObjectCommand).rejects(noObject());
      ddb.on(TransactWriteCommand).rejects(
        new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: code }, { Code: 'None' }] }),
      );
      const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
      expect(res.statusCode).toBe(429);
      expect(res.headers).toMatchObject({ 'Retry-After': '1' });
      expect(bodyOf(res)).toEqual({ error: 'too_many_requests', message: 'the service is busy; retry shortly' });
      expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
    },
  );

  test('aborts in storage after the conditional table write (with the owner\'s count)', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(HeadObjectCommand).rejects(noObject());
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ session_id: SID, status: 'aborted' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    const [row, count] = transaction();
    expect(row!.Update!.ExpressionAttributeValues).toMatchObject({ ':to': 'aborted', ':from_in_progress': 'in_progress' });
    expect(count!.Update!.ExpressionAttributeValues).toMatchObject({ ':delta': -1 });
  });

  test('a completing or completed upload is never aborted, and storage is not asked', async () => {
    for (const st of ['completing', 'completed'] as const) {
      s3.reset();
      ddb.reset();
      ddb.on(GetCommand).resolves({ Item: session({ status: st, completing_since: new Date().toISOString() }) });
      const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
      expect(res.statusCode).toBe(409);
      expect(s3.calls()).toHaveLength(0);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    }
  });

  test('a complete whose answer was lost left the object: abort records the session completed (409) and keeps it', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB, ETag: '"lost-3"' });
    ddb.on(TransactWriteCommand).resolves({});
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([409, 'session_completed']);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
    const [row, count] = transaction();
    expect(row!.Update!.ExpressionAttributeValues).toMatchObject({ ':to': 'completed', ':set_etag': '"lost-3"' });
    expect(count!.Update!.ExpressionAttributeValues).toMatchObject({ ':delta': -1 });
  });

  test('an object of another size is not this upload: abort goes ahead', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(HeadObjectCommand).resolves({ ContentLength: 12 * MiB - 1, ETag: '"other"' });
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect(res.statusCode).toBe(200);
    expect(transaction()[0]!.Update!.ExpressionAttributeValues![':to']).toBe('aborted');
  });

  test('abort racing a complete that took the lease meanwhile: 409 busy from the row the refusal carried', async () => {
    ddb.on(GetCommand).resolves({ Item: session() });
    s3.on(HeadObjectCommand).rejects(noObject());
    ddb.on(TransactWriteCommand).rejects(cancelled(session({ status: 'completing', completing_since: new Date().toISOString() }), null));
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([409, 'session_busy']);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  test('a second abort answers 410', async () => {
    ddb.on(GetCommand).resolves({ Item: session({ status: 'aborted' }) });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const res = await abort(event('DELETE', '/x', undefined, { sessionId: SID }));
    expect([res.statusCode, bodyOf(res).error]).toEqual([410, 'session_aborted']);
  });
});

jest.setTimeout(20_000);
