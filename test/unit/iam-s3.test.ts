/** local/iam/bucket-policy.ts and s3-calls.ts: the bucket policy from roles, and S3 calls from RGW's log. */
import { bucketPolicy, UnsupportedGrantError } from '../../local/iam/bucket-policy.js';
import { parseBeastLine, s3CallsFromLog, s3Permissions } from '../../local/iam/s3-calls.js';
import type { PolicyStatement } from '../../local/template.js';

const B = 'arn:aws:s3:::uploads-bucket';
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/t';
const id = (functionId: string, policy: PolicyStatement[]) => ({ functionId, rgwUid: `fn-${functionId}`, policy });

describe('bucketPolicy', () => {
  test('each S3 statement becomes one for the function’s RGW user; other services are left out', () => {
    const doc = bucketPolicy(
      [
        id('status', [
          { effect: 'Allow', actions: ['logs:PutLogEvents'], resources: ['arn:aws:logs:us-east-1:000000000000:log-group:x:*'] },
          { effect: 'Allow', actions: ['dynamodb:GetItem'], resources: [TABLE] },
          { effect: 'Allow', actions: ['s3:ListMultipartUploadParts', 's3:GetObject'], resources: [`${B}/uploads/*`] },
          { effect: 'Allow', actions: ['s3:ListBucket'], resources: [B] },
        ]),
        id('sweep', [{ effect: 'Deny', actions: ['s3:*', 'dynamodb:Query'], resources: [`${B}/private/*`, TABLE] }]),
      ],
      'uploads-bucket',
      'admin',
    );
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'BucketOwner', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam:::user/admin'] }, Action: ['s3:*'], Resource: [B, `${B}/*`] },
        { Sid: 'status2', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam:::user/fn-status'] }, Action: ['s3:ListMultipartUploadParts', 's3:GetObject'], Resource: [`${B}/uploads/*`] },
        { Sid: 'status3', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam:::user/fn-status'] }, Action: ['s3:ListBucket'], Resource: [B] },
        { Sid: 'sweep0', Effect: 'Deny', Principal: { AWS: ['arn:aws:iam:::user/fn-sweep'] }, Action: ['s3:*'], Resource: [`${B}/private/*`] },
      ],
    });
  });

  test('`*` grants S3 too; no S3 grant at all is no policy', () => {
    expect(bucketPolicy([id('a', [{ effect: 'Allow', actions: ['*'], resources: ['*'] }])], 'uploads-bucket', 'admin')?.Statement[1]).toMatchObject({ Action: ['s3:*'], Resource: ['*'] });
    expect(bucketPolicy([id('a', [{ effect: 'Allow', actions: ['dynamodb:*'], resources: ['*'] }])], 'uploads-bucket', 'admin')).toBeUndefined();
  });

  test('what RGW cannot express is an error, never a silent allow or drop', () => {
    const fails = (policy: PolicyStatement[]) => () => bucketPolicy([id('a', policy)], 'uploads-bucket', 'admin');
    expect(fails([{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::other-bucket/*'] }])).toThrow(UnsupportedGrantError);
    expect(fails([{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::uploads-*'] }])).toThrow(UnsupportedGrantError);
    expect(fails([{ effect: 'Allow', actions: ['*:GetObject'], resources: [`${B}/*`] }])).toThrow(/wildcard in the service prefix/);
    expect(fails([{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:us-east-1:000000000000:accesspoint/ap'] }])).toThrow(UnsupportedGrantError);
  });
});

const line = (user: string, request: string, status: number) =>
  `2026-12-01T02:41:05.405+0000 7ff61ef756c0  1 beast: 0x7ff6b827c6e0: 127.0.0.1 - ${user} [01/Dec/2026:02:41:05.397 +0000] "${request} HTTP/1.1" ${status} 457 - "aws-sdk-js/3" - latency=0.008000000s`;

describe('S3 calls from RGW’s log', () => {
  test('a beast line: user, method, bucket, decoded key, query, status', () => {
    const r = parseBeastLine(line('fn-status', 'GET /b/uploads/a%20b/c.bin?uploadId=2~x&x-id=ListParts', 200))!;
    expect(r).toMatchObject({ user: 'fn-status', method: 'GET', bucket: 'b', key: 'uploads/a b/c.bin', status: 200 });
    expect(r.query.get('uploadId')).toBe('2~x');
    expect(parseBeastLine('2026-12-01T02:40:27.281+0000 7ff6bcf63e40  0 starting handler: beast')).toBeUndefined();
  });

  test.each([
    ['POST /b/k?uploads=', 200, 'CreateMultipartUpload', ['s3:PutObject']],
    ['PUT /b/k?partNumber=1&uploadId=u&x-id=UploadPart', 200, 'UploadPart', ['s3:PutObject']],
    ['PUT /b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc&partNumber=2&uploadId=u', 200, 'UploadPart (presigned)', ['s3:PutObject']],
    ['POST /b/k?uploadId=u', 200, 'CompleteMultipartUpload', ['s3:PutObject']],
    ['DELETE /b/k?uploadId=u&x-id=AbortMultipartUpload', 204, 'AbortMultipartUpload', ['s3:AbortMultipartUpload']],
    ['GET /b/k?uploadId=u', 200, 'ListParts', ['s3:ListMultipartUploadParts']],
    ['HEAD /b/k', 200, 'HeadObject', ['s3:GetObject']],
    ['HEAD /b/k', 404, 'HeadObject', ['s3:GetObject', 's3:ListBucket']],
    ['GET /b/?list-type=2', 200, 'ListObjects', ['s3:ListBucket']],
    ['OPTIONS /b/k?X-Amz-Credential=x&partNumber=1&uploadId=u', 200, 'CORS preflight', []],
  ])('%s (%i) is %s', (request, status, operation, actions) => {
    const p = s3Permissions(parseBeastLine(line('u', request, status))!);
    expect(p.operation).toBe(operation);
    expect(p.needs.map((n) => n.action)).toEqual(actions);
  });

  test('only the functions’ users are recorded; a 403 is a refusal', () => {
    const text = [line('mpu-local', 'HEAD /b/k', 200), line('fn-abort', 'DELETE /b/uploads/x?uploadId=u', 403), line('fn-abort', 'HEAD /b/uploads/x', 404)].join('\n');
    const calls = s3CallsFromLog(text, new Map([['fn-abort', 'abort']]));
    expect(calls.map((c) => [c.functionId, c.action, c.resource, c.decision])).toEqual([
      ['abort', 's3:AbortMultipartUpload', 'arn:aws:s3:::b/uploads/x', 'denied'],
      ['abort', 's3:GetObject', 'arn:aws:s3:::b/uploads/x', 'allow'],
      ['abort', 's3:ListBucket', 'arn:aws:s3:::b', 'allow'],
    ]);
  });
});
