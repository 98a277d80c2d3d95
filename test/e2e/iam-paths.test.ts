/**
 * The recovery paths of status and complete through the API, on the shared target: storage
 * changed behind the session's back (a lifecycle rule aborted the upload, or a complete whose
 * answer was lost assembled the object). Each path is the only one that needs some grant (status:
 * HeadObject by s3:GetObject and s3:ListBucket, recording by dynamodb:UpdateItem; complete:
 * s3:ListBucket to tell a missing object from a refused one), so the least-privilege report of a
 * cloud that enforces IAM counts them as exercised by the functions' own credentials.
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import { call, initSession, putPart } from './helpers/api.js';
import { dynamoClient, e2eTarget, s3Client } from './helpers/cloud.js';
import { sessionRow } from './helpers/storage.js';

jest.setTimeout(60_000);

const t = e2eTarget();
const s3 = s3Client(t);
const db = dynamoClient(t);
const BYTES = randomBytes(1024);

afterAll(() => {
  s3.destroy();
  db.destroy();
});

async function storageRef(sessionId: string): Promise<{ Bucket: string; Key: string; UploadId: string }> {
  const row = await sessionRow(db, t.table!, sessionId);
  if (!row) throw new Error(`no row for ${sessionId}`);
  return { Bucket: t.bucket, Key: row.object_key, UploadId: row.upload_id };
}

test('status when the upload vanished and no object is there: 410 session_aborted', async () => {
  const s = await initSession(t, BYTES.length);
  await s3.send(new AbortMultipartUploadCommand(await storageRef(s.session_id)));
  const r = await call(t, 'GET', `/upload/${s.session_id}/status`);
  expect({ status: r.status, error: r.body?.error }).toEqual({ status: 410, error: 'session_aborted' });
});

test('status when a lost complete assembled the object: the session is recorded completed', async () => {
  const s = await initSession(t, BYTES.length);
  const part = await putPart(t, s.session_id, 1, BYTES);
  expect(part.status).toBe(200);
  await s3.send(new CompleteMultipartUploadCommand({ ...(await storageRef(s.session_id)), MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.etag! }] } }));
  const r = await call(t, 'GET', `/upload/${s.session_id}/status`);
  expect({ status: r.status, state: r.body?.status }).toEqual({ status: 200, state: 'completed' });
  expect((await sessionRow(db, t.table!, s.session_id))?.status).toBe('completed');
});

test('complete when the upload vanished and no object is there: 410 session_aborted', async () => {
  const s = await initSession(t, BYTES.length);
  expect((await putPart(t, s.session_id, 1, BYTES)).status).toBe(200);
  await s3.send(new AbortMultipartUploadCommand(await storageRef(s.session_id)));
  const r = await call(t, 'POST', `/upload/${s.session_id}/complete`, { json: {} });
  expect({ status: r.status, error: r.body?.error }).toEqual({ status: 410, error: 'session_aborted' });
});
