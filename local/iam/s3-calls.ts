/**
 * What each function called on S3, read from RGW's own request log: with `debug rgw = 1` RGW
 * writes one `beast:` line per request naming the authenticated user, the method, the path and
 * query, and the status. No proxy sits in the data path (presigned part PUTs of the CLI go
 * straight to RGW and still show up, under the user that signed the URL: on AWS a presigned URL
 * is its signer's call).
 *
 * Pure: lines in, records out (provision.ts reads the file).
 */
import type { Decision } from './policy.js';

export interface S3CallRecord {
  service: 's3';
  /** The RGW user; provision.ts maps it to the function. */
  user: string;
  functionId?: string;
  operation: string;
  action: string;
  resource: string;
  status: number;
  /** `allow` when RGW served it, `denied` when it answered 403; other statuses say nothing about IAM. */
  decision: Decision | 'denied';
  at: string;
}

/** `... beast: 0x55d0: 127.0.0.1 - fn-status [01/Dec/2026:02:41:05.397 +0000] "GET /b/k?uploadId=1 HTTP/1.1" 200 457 - "ua" - latency=...` */
const BEAST = /beast: 0x[0-9a-f]+: \S+ - (\S+) \[([^\]]+)\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;

export interface S3Request {
  user: string;
  at: string;
  method: string;
  bucket: string;
  /** Decoded object key; '' for a bucket-level request. */
  key: string;
  query: URLSearchParams;
  status: number;
}

export function parseBeastLine(line: string): S3Request | undefined {
  const m = BEAST.exec(line);
  if (!m) return undefined;
  const [, user, at, method, target, status] = m as unknown as [string, string, string, string, string, string];
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const [, bucket = '', ...rest] = path.split('/');
  let key: string;
  try {
    key = decodeURIComponent(rest.join('/'));
  } catch {
    key = rest.join('/');
  }
  return { user, at, method, bucket, key, query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)), status: Number(status) };
}

/**
 * The S3 operation and the IAM actions it is authorized by (S3 User Guide, "Multipart upload and
 * permissions"; HeadObject of a missing key consults s3:ListBucket to answer 404 instead of 403).
 */
export function s3Permissions(r: S3Request): { operation: string; needs: { action: string; resource: string }[] } {
  const bucketArn = `arn:aws:s3:::${r.bucket}`;
  const object = `${bucketArn}/${r.key}`;
  const one = (operation: string, action: string, resource = object) => ({ operation, needs: [{ action, resource }] });
  const has = (p: string) => r.query.has(p);
  // A CORS preflight is answered from the bucket's CORS rules, unauthenticated: no IAM action
  // (RGW still logs the user of a presigned URL's credential on it).
  if (r.method === 'OPTIONS') return { operation: 'CORS preflight', needs: [] };
  if (r.key === '') {
    if (r.method === 'GET' && has('uploads')) return one('ListMultipartUploads', 's3:ListBucketMultipartUploads', bucketArn);
    if (r.method === 'GET' && has('policy')) return one('GetBucketPolicy', 's3:GetBucketPolicy', bucketArn);
    if (r.method === 'GET') return one('ListObjects', 's3:ListBucket', bucketArn);
    if (r.method === 'HEAD') return one('HeadBucket', 's3:ListBucket', bucketArn);
    return one(`${r.method} bucket`, `s3:Unmapped${r.method}Bucket`, bucketArn);
  }
  switch (r.method) {
    case 'POST':
      if (has('uploads')) return one('CreateMultipartUpload', 's3:PutObject');
      if (has('uploadId')) return one('CompleteMultipartUpload', 's3:PutObject');
      break;
    case 'PUT':
      if (has('uploadId') && has('partNumber')) return one(r.query.has('X-Amz-Signature') ? 'UploadPart (presigned)' : 'UploadPart', 's3:PutObject');
      if (!has('uploadId')) return one('PutObject', 's3:PutObject');
      break;
    case 'DELETE':
      return has('uploadId') ? one('AbortMultipartUpload', 's3:AbortMultipartUpload') : one('DeleteObject', 's3:DeleteObject');
    case 'GET':
      return has('uploadId') ? one('ListParts', 's3:ListMultipartUploadParts') : one('GetObject', 's3:GetObject');
    case 'HEAD':
      return r.status === 404
        ? { operation: 'HeadObject', needs: [{ action: 's3:GetObject', resource: object }, { action: 's3:ListBucket', resource: bucketArn }] }
        : one('HeadObject', 's3:GetObject');
  }
  return one(`${r.method} object`, `s3:Unmapped${r.method}Object`);
}

/** Records for the requests of `users` (the functions' RGW users) in RGW log text. */
export function s3CallsFromLog(text: string, users: ReadonlyMap<string, string>): S3CallRecord[] {
  const out: S3CallRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(' beast: ')) continue;
    const r = parseBeastLine(line);
    if (!r) continue;
    const functionId = users.get(r.user);
    if (functionId === undefined) continue;
    const { operation, needs } = s3Permissions(r);
    const decision = r.status === 403 ? 'denied' : 'allow';
    for (const n of needs) out.push({ service: 's3', user: r.user, functionId, operation, action: n.action, resource: n.resource, status: r.status, decision, at: r.at });
  }
  return out;
}
