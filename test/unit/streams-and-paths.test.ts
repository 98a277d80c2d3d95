/**
 * Relative paths in `filename` and stream sessions (init without file_size) through the handlers,
 * with the AWS SDK mocked: what is refused before any AWS call, how a stream is sized at complete.
 */
import './helpers/handler-env.js';
import { mockClient } from 'aws-sdk-client-mock';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MiB, S3_LIMITS } from '../../contract/limits.js';
import type { SessionRecord } from '../../lambdas/core/session.js';
import { checkStreamParts } from '../../lambdas/core/validation.js';
import { ApiError } from '../../lambdas/core/errors.js';


const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
const { handler: init } = await import('../../lambdas/handlers/init.js');
const { handler: parts } = await import('../../lambdas/handlers/parts.js');
const { handler: status } = await import('../../lambdas/handlers/status.js');
const { handler: complete } = await import('../../lambdas/handlers/complete.js');

const SID = 'AAAAAAAAAAAAAAAAAAAAAA';

function event(method: string, body: unknown, sessionId?: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} /x`,
    rawPath: '/x',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters: sessionId ? { session_id: sessionId } : undefined,
    requestContext: { http: { method, path: '/x', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' }, authorizer: { lambda: { owner: 'anonymous' } } },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

const bodyOf = (res: APIGatewayProxyStructuredResultV2): Record<string, any> => JSON.parse(res.body ?? '{}');

/** An open stream session: no file_size, no total_parts. */
function streamSession(over: Partial<SessionRecord> = {}): SessionRecord {
  const now = new Date();
  return {
    session_id: SID,
    owner: 'anonymous',
    filename: 'dump.sql',
    content_type: 'application/octet-stream',
    object_key: `uploads/${SID}/dump.sql`,
    upload_id: 'upload-1',
    chunk_size: 5 * MiB,
    status: 'in_progress',
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    expires_at: new Date(now.getTime() + 3600_000).toISOString(),
    ttl: 0,
    open_shard: 'open#0',
    ...over,
  };
}

beforeEach(() => {
  s3.reset();
  ddb.reset();
});

describe('relative paths in filename', () => {
  test('a nested relative path becomes the key below the session id, NFC', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    ddb.on(TransactWriteCommand).resolves({});
    const res = await init(event('POST', { filename: 'photos/2024/Cafe\u0301 ünïcødé.jpg', file_size: 10 }));
    expect(res.statusCode).toBe(201);
    const item = transactionItem();
    expect(item.object_key).toBe(`uploads/${bodyOf(res).session_id}/photos/2024/Caf\u00e9 ünïcødé.jpg`);
    expect(item.filename).toBe('photos/2024/Caf\u00e9 ünïcødé.jpg');
  });

  test.each([
    ['a parent segment', 'a/../b.txt'],
    ['a leading parent', '../b.txt'],
    ['a trailing parent', 'a/..'],
    ['a dot segment', 'a/./b.txt'],
    ['an absolute path', '/etc/passwd'],
    ['an empty segment', 'a//b.txt'],
    ['a trailing slash', 'a/b/'],
    ['a backslash', 'a\\b.txt'],
    ['a control character in a directory', 'a\u0001/b.txt'],
    ['a bidi override in a directory', 'a\u202e/b.txt'],
    ['a blank segment', 'a/ /b.txt'],
    ['a segment over 255 bytes', `a/${'x'.repeat(256)}/b`],
    ['a path over the key budget', Array.from({ length: 10 }, () => 'y'.repeat(100)).join('/')],
  ])('%s is a 400 before any AWS call', async (_, filename) => {
    const res = await init(event('POST', { filename, file_size: 1 }));
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error).toBe('validation_error');
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('stream sessions (init without file_size)', () => {
  test('init answers total_parts null with the first 100 URLs and stores no size', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    ddb.on(TransactWriteCommand).resolves({});
    const res = await init(event('POST', { filename: 'dump.sql', chunk_size: 8 * MiB }));
    expect(res.statusCode).toBe(201);
    expect(bodyOf(res)).toMatchObject({ total_parts: null, chunk_size: 8 * MiB });
    expect(bodyOf(res).parts).toHaveLength(100);
    const item = transactionItem();
    expect(item.file_size).toBeUndefined();
    expect(item.total_parts).toBeUndefined();
  });

  test('a chunk_size below the minimum is refused', async () => {
    const res = await init(event('POST', { filename: 'dump.sql', chunk_size: 1 * MiB }));
    expect(res.statusCode).toBe(400);
    expect(s3.calls()).toHaveLength(0);
  });

  test('parts up to 10,000 may be signed, 10,001 not', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    expect((await parts(event('POST', { parts: [{ part_number: 10_000 }] }, SID))).statusCode).toBe(200);
    const res = await parts(event('POST', { parts: [{ part_number: 10_001 }] }, SID));
    expect(res.statusCode).toBe(400);
  });

  test('status reports file_size and total_parts null and the parts stored', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 1, Size: 5 * MiB, ETag: '"a"' }] });
    const res = await status(event('GET', undefined, SID));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ file_size: null, total_parts: null, completed_parts: [1], bytes_uploaded: 5 * MiB });
  });

  test('complete without total_parts or parts takes the parts storage holds, and refuses a gap', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 1, Size: 5 * MiB, ETag: '"a"' }, { PartNumber: 3, Size: 3, ETag: '"c"' }] });
    const gap = await complete(event('POST', {}, SID));
    expect(bodyOf(gap)).toMatchObject({ error: 'missing_parts', missing_parts: [2] });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);

    s3.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 1, Size: 5 * MiB, ETag: '"a"' }, { PartNumber: 2, Size: 3, ETag: '"b"' }] });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"e-2"' });
    const res = await complete(event('POST', {}, SID));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ size: 5 * MiB + 3 });
  });

  test('complete with the parts list checks each ETag against storage before assembling', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 1, Size: 5 * MiB, ETag: '"a"' }, { PartNumber: 2, Size: 3, ETag: '"b"' }] });
    const res = await complete(event('POST', { parts: [{ part_number: 1, etag: '"a"' }, { part_number: 2, etag: '"x"' }] }, SID));
    expect(bodyOf(res)).toMatchObject({ error: 'part_mismatch', mismatched_parts: [2] });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('a stream with nothing stored: part 1 is missing', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({ Parts: [] });
    expect(bodyOf(await complete(event('POST', {}, SID)))).toMatchObject({ error: 'missing_parts', missing_parts: [1] });
  });

  test('complete with total_parts sizes the object from storage and records the size', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({
      Parts: [
        { PartNumber: 1, Size: 5 * MiB, ETag: '"a"' },
        { PartNumber: 2, Size: 123, ETag: '"b"' },
      ],
    });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"e-2"' });
    const res = await complete(event('POST', { total_parts: 2 }, SID));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ status: 'completed', size: 5 * MiB + 123, etag: '"e-2"' });
    const done = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Update!;
    expect(done.ExpressionAttributeValues).toMatchObject({ ':set_file_size': 5 * MiB + 123, ':set_total_parts': 2 });
  });

  test('a short part before the last is a 409 part_mismatch; storage is not asked to assemble', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({
      Parts: [
        { PartNumber: 1, Size: 5 * MiB - 1, ETag: '"a"' },
        { PartNumber: 2, Size: 10, ETag: '"b"' },
      ],
    });
    const res = await complete(event('POST', { total_parts: 2 }, SID));
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'part_mismatch', mismatched_parts: [1] });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('a missing part is a 409 missing_parts with the list', async () => {
    ddb.on(GetCommand).resolves({ Item: streamSession() });
    s3.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 2, Size: 10, ETag: '"b"' }] });
    const res = await complete(event('POST', { total_parts: 2 }, SID));
    expect(bodyOf(res)).toMatchObject({ error: 'missing_parts', missing_parts: [1] });
  });
});

describe('checkStreamParts', () => {
  const limits = { maxFileSize: S3_LIMITS.maxObjectSize };
  const sizes = (...s: number[]) => new Map(s.map((size, i) => [i + 1, size]));
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof ApiError ? e.code : 'not an ApiError';
    }
    return 'accepted';
  };

  test('a 0-byte stream is one empty part; an empty last part after others is not', () => {
    expect(checkStreamParts(1, 5 * MiB, sizes(0), limits)).toEqual({ fileSize: 0, chunkSize: 5 * MiB, totalParts: 1 });
    expect(refusal(() => checkStreamParts(2, 5 * MiB, sizes(5 * MiB, 0), limits))).toBe('part_mismatch');
  });

  test('an exact multiple of the part size ends with a full part', () => {
    expect(checkStreamParts(2, 5 * MiB, sizes(5 * MiB, 5 * MiB), limits).fileSize).toBe(10 * MiB);
  });

  test('a last part larger than the part size, too many parts, or over the maximum size are refused', () => {
    expect(refusal(() => checkStreamParts(2, 5 * MiB, sizes(5 * MiB, 5 * MiB + 1), limits))).toBe('part_mismatch');
    expect(refusal(() => checkStreamParts(10_001, 5 * MiB, sizes(), limits))).toBe('validation_error');
    expect(refusal(() => checkStreamParts(2, 5 * MiB, sizes(5 * MiB, 1), { maxFileSize: 5 * MiB }))).toBe('file_too_large');
  });
});

function transactionItem(): SessionRecord {
  const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
  return items[1]!.Put!.Item as SessionRecord;
}
