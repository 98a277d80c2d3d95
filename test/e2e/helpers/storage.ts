/**
 * What the system under test holds, read behind the API's back: session rows (DynamoDB Scan),
 * multipart uploads in progress (ListMultipartUploads), stored objects. All loops are bounded.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SessionRecord } from '../../../lambdas/core/session.js';

const MAX_PAGES = 200;

/** Plain JS values over the caller's client (destroying the caller's client is enough). */
const doc = (db: DynamoDBClient) => DynamoDBDocumentClient.from(db);

/** Rows in the sessions table (Scan, COUNT only, every page). */
export async function countSessionRows(db: DynamoDBClient, table: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, any> | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await doc(db).send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    count += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
    if (!startKey) return count;
  }
  throw new Error(`Scan of ${table} did not end within ${MAX_PAGES} pages`);
}

/** Every row of the sessions table. */
export async function scanSessions(db: DynamoDBClient, table: string): Promise<SessionRecord[]> {
  const rows: SessionRecord[] = [];
  let startKey: Record<string, any> | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await doc(db).send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    for (const item of out.Items ?? []) rows.push(item as SessionRecord);
    startKey = out.LastEvaluatedKey;
    if (!startKey) return rows;
  }
  throw new Error(`Scan of ${table} did not end within ${MAX_PAGES} pages`);
}

/** One session row as stored (consistent read), or undefined. */
export async function sessionRow(db: DynamoDBClient, table: string, sessionId: string): Promise<SessionRecord | undefined> {
  const out = await doc(db).send(new GetCommand({ TableName: table, Key: { session_id: sessionId }, ConsistentRead: true }));
  return out.Item as SessionRecord | undefined;
}

export interface UploadRef {
  key: string;
  uploadId: string;
}

/** Every multipart upload in progress in `bucket`, all pages. */
export async function listUploads(s3: S3Client, bucket: string, prefix?: string): Promise<UploadRef[]> {
  const uploads: UploadRef[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        ...(prefix ? { Prefix: prefix } : {}),
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
      }),
    );
    for (const u of out.Uploads ?? []) if (u.Key && u.UploadId) uploads.push({ key: u.Key, uploadId: u.UploadId });
    if (!out.IsTruncated) return uploads;
    keyMarker = out.NextKeyMarker;
    uploadIdMarker = out.NextUploadIdMarker;
  }
  throw new Error(`ListMultipartUploads of ${bucket} did not end within ${MAX_PAGES} pages`);
}

/** `s3://bucket/key` -> bucket and key. */
export function parseFilePath(filePath: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(filePath);
  if (!m) throw new Error(`not an s3:// path: ${filePath}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** Size and ETag of an object, or undefined when there is none. */
export async function headObject(s3: S3Client, bucket: string, key: string): Promise<{ size: number; etag: string } | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: out.ContentLength ?? 0, etag: out.ETag ?? '' };
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw e;
  }
}

/** SHA-256 (hex) of a stored object, streamed. */
export async function sha256Object(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const h = createHash('sha256');
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) h.update(chunk);
  return h.digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const md5Base64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');

/** The multipart ETag S3 computes for these parts: md5(concat(md5(part)))-N, quoted. */
export function multipartEtag(parts: readonly Uint8Array[]): string {
  const digests = parts.map((p) => createHash('md5').update(p).digest());
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}"`;
}
