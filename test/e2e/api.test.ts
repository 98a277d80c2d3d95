/**
 * The HTTP API against real storage and a real table (the local cloud, or a deployed stack):
 * presigned PUTs checked by S3 itself, completion rules, idempotency, races, abort.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { MiB } from '../../contract/limits.js';
import { call, initSession, putPart as putPartTo } from './helpers/api.js';
import { e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { listUploads, md5Base64 as md5, multipartEtag, parseFilePath, sha256, sha256Object } from './helpers/storage.js';

let target: E2ETarget;
beforeAll(() => {
  target = e2eTarget();
});

const api = (method: string, path: string, body?: unknown) => call(target, method, path, body === undefined ? {} : { json: body });
const init = (size: number, filename = 'data.bin') => initSession(target, size, filename);
/** Asks for a URL bound to `claimed` (by default the bytes' MD5) and PUTs the part; returns S3's answer. */
const putPart = (sessionId: string, partNumber: number, bytes: Buffer, claimed = md5(bytes)) =>
  putPartTo(target, sessionId, partNumber, bytes, claimed);

function split(data: Buffer, chunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunk) out.push(data.subarray(off, off + chunk));
  return out.length ? out : [Buffer.alloc(0)];
}

/** SHA-256 of a stored object, by its `s3://bucket/key` path. */
function storedSha256(filePath: string): Promise<string> {
  const { bucket, key } = parseFilePath(filePath);
  return sha256Object(s3Client(target), bucket, key);
}

describe('upload through presigned part URLs', () => {
  const data = randomBytes(11 * MiB + 12345);
  const chunks = split(data, 5 * MiB);
  let sid: string;

  test('init splits the file by the S3 rules and hands out the first URLs', async () => {
    const s = await init(data.length, 'report.bin');
    sid = s.session_id;
    expect(s.total_parts).toBe(3);
    expect(s.chunk_size).toBe(5 * MiB);
    expect(s.parts).toHaveLength(3);
  });

  test('storage rejects a body that does not match the MD5 bound into the URL', async () => {
    const corrupted = Buffer.from(chunks[0]!);
    corrupted[100] = corrupted[100]! ^ 0xff;
    const r = await putPart(sid, 1, corrupted, md5(chunks[0]!));
    expect(r.status).toBe(400);
    expect(r.text).toContain('BadDigest');
  });

  test('a URL whose signature was tampered with is refused', async () => {
    const r = await api('POST', `/upload/${sid}/parts`, { parts: [{ part_number: 1 }] });
    const url = new URL(r.body.parts[0].url);
    url.searchParams.set('partNumber', '2');
    const res = await fetch(url, { method: 'PUT', body: chunks[1]! });
    expect(res.status).toBe(403);
  });

  test('status lists what storage holds; complete with missing parts is 409 and names them', async () => {
    expect((await putPart(sid, 1, chunks[0]!)).status).toBe(200);
    const st = await api('GET', `/upload/${sid}/status`);
    expect(st.status).toBe(200);
    expect(st.body).toMatchObject({ status: 'in_progress', completed_parts: [1], bytes_uploaded: 5 * MiB, total_parts: 3 });
    const r = await api('POST', `/upload/${sid}/complete`);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: 'missing_parts', missing_parts: [2, 3] });
  });

  test('complete assembles the exact bytes; a repeat returns the same result', async () => {
    expect((await putPart(sid, 2, chunks[1]!)).status).toBe(200);
    expect((await putPart(sid, 3, chunks[2]!)).status).toBe(200);
    const first = await api('POST', `/upload/${sid}/complete`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'completed', size: data.length, session_id: sid });
    expect(first.body.file_path).toMatch(new RegExp(`^s3://${target.bucket}/.+/${sid}/report\\.bin$`));
    expect(first.body.etag).toBe(multipartEtag(chunks));
    expect(await storedSha256(first.body.file_path)).toBe(sha256(data));

    const again = await api('POST', `/upload/${sid}/complete`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const st = await api('GET', `/upload/${sid}/status`);
    expect(st.body).toMatchObject({ status: 'completed', bytes_uploaded: data.length, completed_parts: [1, 2, 3] });
  });

  test('a completed upload hands out no URLs and cannot be aborted', async () => {
    expect((await api('POST', `/upload/${sid}/parts`, { parts: [{ part_number: 1 }] })).status).toBe(409);
    expect((await api('DELETE', `/upload/${sid}`)).status).toBe(409);
  });
});

test('a part of the wrong size is refused at complete, not stored as a corrupt object', async () => {
  const s = await init(10 * MiB);
  expect((await putPart(s.session_id, 1, randomBytes(5 * MiB - 1))).status).toBe(200);
  expect((await putPart(s.session_id, 2, randomBytes(5 * MiB))).status).toBe(200);
  const r = await api('POST', `/upload/${s.session_id}/complete`);
  expect(r.status).toBe(409);
  expect(r.body).toMatchObject({ error: 'part_mismatch', mismatched_parts: [1] });
  // Re-sending the part fixes it: the session stayed open.
  expect((await putPart(s.session_id, 1, randomBytes(5 * MiB))).status).toBe(200);
  expect((await api('POST', `/upload/${s.session_id}/complete`)).status).toBe(200);
});

test('concurrent completes end in one object and agree on it', async () => {
  const data = randomBytes(6 * MiB);
  const s = await init(data.length);
  const chunks = split(data, 5 * MiB);
  await Promise.all(chunks.map((c, i) => putPart(s.session_id, i + 1, c)));
  const results = await Promise.all(Array.from({ length: 6 }, () => api('POST', `/upload/${s.session_id}/complete`)));
  const ok = results.filter((r) => r.status === 200);
  expect(ok.length).toBeGreaterThan(0);
  for (const r of results) {
    if (r.status !== 200) expect(r.body.error).toBe('session_busy');
  }
  expect(new Set(ok.map((r) => r.body.etag)).size).toBe(1);
  const final = await api('POST', `/upload/${s.session_id}/complete`);
  expect(final.status).toBe(200);
  expect(final.body.etag).toBe(ok[0]!.body.etag);
  expect(await storedSha256(final.body.file_path)).toBe(sha256(data));
});

test('a 0-byte file uploads as one empty part', async () => {
  const s = await init(0, 'empty.txt');
  expect(s.total_parts).toBe(1);
  expect((await putPart(s.session_id, 1, Buffer.alloc(0))).status).toBe(200);
  const r = await api('POST', `/upload/${s.session_id}/complete`);
  expect(r.status).toBe(200);
  expect(r.body.size).toBe(0);
  const { bucket, key } = parseFilePath(r.body.file_path as string);
  const head = await s3Client(target).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  expect(head.ContentLength).toBe(0);
});

test('abort removes the multipart upload; the session then refuses everything', async () => {
  const s = await init(12 * MiB);
  expect((await putPart(s.session_id, 1, randomBytes(5 * MiB))).status).toBe(200);
  const r = await api('DELETE', `/upload/${s.session_id}`);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ session_id: s.session_id, status: 'aborted' });

  const uploads = await s3Client(target).send(new ListMultipartUploadsCommand({ Bucket: target.bucket }));
  expect((uploads.Uploads ?? []).map((u) => u.Key)).not.toContainEqual(expect.stringContaining(s.session_id));
  expect((await api('GET', `/upload/${s.session_id}/status`)).body.status).toBe('aborted');
  expect((await api('POST', `/upload/${s.session_id}/parts`, { parts: [{ part_number: 2 }] })).status).toBe(410);
  expect((await api('POST', `/upload/${s.session_id}/complete`)).status).toBe(410);
  expect((await api('DELETE', `/upload/${s.session_id}`)).status).toBe(410);
});

test('unknown sessions, malformed ids, bad bodies and unknown routes get clear 4xx', async () => {
  const unknown = await api('GET', '/upload/AAAAAAAAAAAAAAAAAAAAAA/status');
  expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
  const malformed = await api('GET', '/upload/not-an-id/status');
  expect([malformed.status, malformed.body.error]).toEqual([400, 'validation_error']);
  const bad = await api('POST', '/upload/init', { filename: 'a', file_size: -5 });
  expect(bad.status).toBe(400);
  expect(typeof bad.body.message).toBe('string');
  expect((await api('GET', '/nope')).status).toBe(404);
});

describe('Idempotency-Key on init', () => {
  /** A filename no other test uses, so this run's multipart uploads can be counted exactly. */
  const marked = () => `idem-${randomBytes(6).toString('hex')}.bin`;
  const initWithKey = (key: string, body: unknown) => call(target, 'POST', '/upload/init', { json: body, headers: { 'idempotency-key': key } });
  const uploadsNamed = async (filename: string) => {
    const s3 = s3Client(target);
    const uploads = await listUploads(s3, target.bucket).finally(() => s3.destroy());
    return uploads.filter((u) => u.key.endsWith(`/${filename}`));
  };

  test('the same key and body answer the same session with fresh URLs, and leave one multipart upload', async () => {
    const key = randomUUID();
    const body = { filename: marked(), file_size: 12 * MiB };
    const first = await initWithKey(key, body);
    expect(first.status).toBe(201);
    const again = await initWithKey(key, body);
    expect(again.status).toBe(201);
    expect(again.body.session_id).toBe(first.body.session_id);
    expect(again.body).toMatchObject({ total_parts: 3, chunk_size: 5 * MiB, expires_at: first.body.expires_at });
    expect(again.body.parts.map((p: { part_number: number }) => p.part_number)).toEqual([1, 2, 3]);
    // The replay's URLs work: a part PUT to one is stored in the first session's upload.
    const part = randomBytes(5 * MiB);
    const put = await fetch(again.body.parts[0].url, { method: 'PUT', body: part });
    expect(put.status).toBe(200);
    expect((await api('GET', `/upload/${first.body.session_id}/status`)).body.completed_parts).toEqual([1]);
    expect(await uploadsNamed(body.filename)).toHaveLength(1);
    await api('DELETE', `/upload/${first.body.session_id}`);
  });

  test('concurrent inits with one key open one session', async () => {
    const key = randomUUID();
    const body = { filename: marked(), file_size: MiB };
    const answers = await Promise.all(Array.from({ length: 6 }, () => initWithKey(key, body)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    expect(new Set(answers.map((a) => a.body.session_id)).size).toBe(1);
    expect(await uploadsNamed(body.filename)).toHaveLength(1);
    await api('DELETE', `/upload/${answers[0]!.body.session_id}`);
  });

  test('the same key with another body is 422 idempotency_key_reused; another key is another session', async () => {
    const key = randomUUID();
    const filename = marked();
    const first = await initWithKey(key, { filename, file_size: MiB });
    expect(first.status).toBe(201);
    const other = await initWithKey(key, { filename, file_size: 2 * MiB });
    expect(other).toMatchObject({ status: 422, body: { error: 'idempotency_key_reused' } });
    const fresh = await initWithKey(randomUUID(), { filename, file_size: MiB });
    expect(fresh.status).toBe(201);
    expect(fresh.body.session_id).not.toBe(first.body.session_id);
    // Once the session ended, its key answers with the session's state, never a new session.
    expect((await api('DELETE', `/upload/${first.body.session_id}`)).status).toBe(200);
    expect(await initWithKey(key, { filename, file_size: MiB })).toMatchObject({ status: 410, body: { error: 'session_aborted' } });
    await api('DELETE', `/upload/${fresh.body.session_id}`);
  });

  test('a malformed key is refused before anything is created', async () => {
    const filename = marked();
    for (const key of ['', 'x'.repeat(256), 'caf\u00e9']) {
      const r = await call(target, 'POST', '/upload/init', { json: { filename, file_size: 1 }, headers: { 'idempotency-key': key } });
      expect([r.status, r.body?.error, key.length]).toEqual([400, 'validation_error', key.length]);
    }
    expect(await uploadsNamed(filename)).toHaveLength(0);
  });
});
