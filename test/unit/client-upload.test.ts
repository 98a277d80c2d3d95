import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, FileMismatchError, InterruptedError, PutPartError, SessionStateError } from '../../client/errors.js';
import { md5, multipartEtag } from '../../client/hashing.js';
import type { UploadProgress } from '../../client/progress.js';
import { runUpload, type UploadEvent, type UploadOptions } from '../../client/upload.js';
import { FakeCloud } from '../../client/testing/fake-cloud.js';

const CHUNK = 64 * 1024;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-upload-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, size: number): { path: string; data: Buffer } {
  const data = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, data };
}

const expectedEtag = (data: Buffer, chunk: number) => {
  const d: Buffer[] = [];
  for (let o = 0; o < Math.max(1, data.length); o += chunk) d.push(md5(data.subarray(o, o + chunk)));
  return multipartEtag(d);
};

function run(cloud: FakeCloud, opts: Partial<UploadOptions> & { file: string }) {
  return runUpload(
    { apiUrl: 'http://fake.invalid', chunkSize: CHUNK, concurrency: 3, retry: { baseDelayMs: 1, maxDelayMs: 2 }, ...opts },
    { api: cloud.api, transport: cloud.transport },
  );
}

test('uploads every part once, completes, and verifies the ETag', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('a.bin', 10 * CHUNK + 123);
  const events: UploadEvent[] = [];
  const r = await run(cloud, { file: path, onEvent: (e) => events.push(e) });
  expect(r).toMatchObject({ size: data.length, parts_total: 11, parts_already_stored: 0, parts_sent: 11, bytes_sent: data.length, resumed: false, etag: expectedEtag(data, CHUNK) });
  expect(events[0]).toMatchObject({ type: 'session', session_id: r.session_id, total_parts: 11 });
  expect(cloud.stats.puts).toBe(11);
  expect(cloud.stats.partUrlCalls).toBe(0); // init's URLs cover the first 100 parts
  expect(cloud.stats.maxConcurrentPuts).toBeLessThanOrEqual(3);
});

test('beyond the init URLs, MD5-bound URLs are fetched in batches', async () => {
  const cloud = new FakeCloud();
  cloud.partUrlsLatencyMs = 20; // while one batch is in flight, the hashing pass queues the next
  const { path, data } = file('many.bin', 130 * 1024);
  const r = await run(cloud, { file: path, chunkSize: 1024, concurrency: 4 });
  expect(r.parts_total).toBe(130);
  expect(r.etag).toBe(expectedEtag(data, 1024));
  expect(cloud.stats.partUrlCounts.reduce((a, b) => a + b, 0)).toBe(30);
  expect(cloud.stats.partUrlCalls).toBeLessThan(10);
});

test('a 0-byte file is one empty part', async () => {
  const cloud = new FakeCloud();
  const { path } = file('empty.bin', 0);
  const r = await run(cloud, { file: path });
  expect(r).toMatchObject({ size: 0, parts_total: 1, parts_sent: 1, etag: '59adb24ef3cdbe0297f05b395827453f-1' });
});

test('resume sends only the missing parts and verifies the stored ones', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('r.bin', 8 * CHUNK);
  const stop = new AbortController();
  cloud.afterPut = () => {
    if (cloud.stats.puts >= 3) stop.abort();
  };
  const err = await run(cloud, { file: path, signal: stop.signal, concurrency: 1 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  const sid = (err as InterruptedError).sessionId!;
  const before = await cloud.api.status(sid);
  expect(before.completed_parts).toEqual([1, 2, 3]);

  cloud.afterPut = () => undefined;
  const events: UploadEvent[] = [];
  const r = await run(cloud, { file: path, resumeSessionId: sid, onEvent: (e) => events.push(e) });
  // The result reports what storage held when the resume began (the demo's check relies on it).
  expect(r).toMatchObject({ session_id: sid, resumed: true, parts_already_stored: 3, parts_sent: 5, bytes_sent: 5 * CHUNK, etag: expectedEtag(data, CHUNK) });
  expect(events.find((e) => e.type === 'verified')).toMatchObject({ parts: 3, bytes: 3 * CHUNK });
  expect([...cloud.stats.putsByPart.values()].every((n) => n === 1)).toBe(true);
});

test('resume refuses a file whose stored parts differ', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('m.bin', 4 * CHUNK);
  const stop = new AbortController();
  cloud.afterPut = () => stop.abort();
  const err = (await run(cloud, { file: path, signal: stop.signal, concurrency: 1 }).catch((e: unknown) => e)) as InterruptedError;
  data[10]! ^= 0xff; // part 1 is stored; change it locally
  writeFileSync(path, data);
  await expect(run(cloud, { file: path, resumeSessionId: err.sessionId })).rejects.toThrow(/stored part 1 differs from the file/);
  await expect(run(cloud, { file: path, resumeSessionId: err.sessionId })).rejects.toBeInstanceOf(FileMismatchError);
  expect(cloud.stats.puts).toBe(1);
});

test('resume refuses a file of another size, and dead sessions', async () => {
  const cloud = new FakeCloud();
  const { path } = file('s.bin', 2 * CHUNK);
  const r = await run(cloud, { file: path });
  const other = file('s2.bin', 3 * CHUNK);
  await expect(run(cloud, { file: other.path, resumeSessionId: r.session_id })).rejects.toThrow(/has 196608 bytes but session/);
  cloud.sessions.get(r.session_id)!.status = 'expired';
  await expect(run(cloud, { file: path, resumeSessionId: r.session_id })).rejects.toBeInstanceOf(SessionStateError);
});

test('resuming a completed session with the same file sends nothing; with other content it refuses', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('c.bin', 3 * CHUNK + 5);
  const first = await run(cloud, { file: path });
  const again = await run(cloud, { file: path, resumeSessionId: first.session_id });
  expect(again).toMatchObject({ parts_already_stored: 4, parts_sent: 0, etag: first.etag, file_path: first.file_path });
  data[0]! ^= 1;
  writeFileSync(path, data);
  await expect(run(cloud, { file: path, resumeSessionId: first.session_id })).rejects.toThrow(/completed with other content/);
});

test('an expired URL (403, as AWS says it) is replaced by a fresh bound URL', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('e.bin', 3 * CHUNK);
  cloud.fault = (n, attempt) => (n === 2 && attempt === 1 ? { status: 403, code: 'AccessDenied', message: 'Request has expired' } : undefined);
  const events: UploadEvent[] = [];
  const r = await run(cloud, { file: path, onEvent: (e) => events.push(e) });
  expect(r.etag).toBe(expectedEtag(data, CHUNK));
  expect(events.filter((e) => e.type === 'refresh').map((e) => (e as { part_number: number }).part_number)).toEqual([2]);
  expect(cloud.stats.partUrlCounts).toEqual([1]);
});

test('an expired URL refused as Ceph RGW does (AccessDenied, no message) is replaced too', async () => {
  const cloud = new FakeCloud();
  cloud.urlLifetimeSeconds = 1;
  cloud.expiredUrlMessage = '';
  const { path, data } = file('rgw.bin', 3 * CHUNK);
  // Storage's clock is past the URLs' expiry by the time part 2 arrives.
  cloud.fault = (n, attempt) => (n === 2 && attempt === 1 ? { status: 403, code: 'AccessDenied', message: '' } : undefined);
  const events: UploadEvent[] = [];
  const r = await run(cloud, { file: path, onEvent: (e) => events.push(e) });
  expect(r.etag).toBe(expectedEtag(data, CHUNK));
  expect(events.filter((e) => e.type === 'refresh').map((e) => (e as { part_number: number }).part_number)).toEqual([2]);
});

test.each([
  ['QuotaExceeded', 'QuotaExceeded', ''],
  ['an AccessDenied by policy, the URL valid for minutes yet', 'AccessDenied', 'Access Denied'],
  ['InvalidAccessKeyId', 'InvalidAccessKeyId', ''],
])('a refusal no fresh URL can fix (%s) fails at once: one PUT, no refresh, exit 8', async (_name, code, message) => {
  const cloud = new FakeCloud();
  const { path } = file(`refused-${code}.bin`, 4 * CHUNK);
  cloud.fault = () => ({ status: 403, code, message });
  const events: UploadEvent[] = [];
  const t = performance.now();
  const err = await run(cloud, { file: path, concurrency: 1, onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PutPartError);
  expect(err).toMatchObject({ s3Code: code, exitCode: EXIT.storageRefused });
  expect(events.filter((e) => e.type === 'refresh' || e.type === 'retry')).toEqual([]);
  expect(cloud.stats.puts).toBe(1);
  expect(cloud.stats.partUrlCalls).toBe(0);
  expect(performance.now() - t).toBeLessThan(1000);
  // The session is kept: once the cause is fixed, it resumes.
  expect((await cloud.api.status((err as PutPartError).sessionId!)).status).toBe('in_progress');
});

test('5xx and resets are retried with backoff; progress never goes backwards', async () => {
  const cloud = new FakeCloud();
  const { path } = file('t.bin', 4 * CHUNK);
  cloud.fault = (n, attempt) => {
    if (n === 1 && attempt < 3) return { status: 503, code: 'SlowDown' };
    if (n === 3 && attempt === 1) return { throw: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) };
    return undefined;
  };
  const seen: UploadProgress[] = [];
  const r = await run(cloud, { file: path, onProgress: (p) => seen.push(p) });
  expect(r.parts_sent).toBe(4);
  expect(cloud.stats.putsByPart.get(1)).toBe(3);
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytesDone).toBeGreaterThanOrEqual(seen[i - 1]!.bytesDone);
  expect(seen.at(-1)).toMatchObject({ bytesDone: 4 * CHUNK, partsDone: 4 });
});

test('other 4xx fail fast and never abort the session', async () => {
  const cloud = new FakeCloud();
  const { path } = file('f.bin', 4 * CHUNK);
  cloud.fault = (n) => (n === 2 ? { status: 400, code: 'InvalidArgument' } : undefined);
  const err = await run(cloud, { file: path }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PutPartError);
  expect(cloud.stats.putsByPart.get(2)).toBe(1);
  const sid = (err as PutPartError).sessionId!;
  expect((await cloud.api.status(sid)).status).toBe('in_progress');
});

test('retries are bounded', async () => {
  const cloud = new FakeCloud();
  const { path } = file('b.bin', 2 * CHUNK);
  cloud.fault = (n) => (n === 1 ? { status: 500 } : undefined);
  await expect(run(cloud, { file: path, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1 } })).rejects.toThrow(/part 1/);
  expect(cloud.stats.putsByPart.get(1)).toBe(4);
});

test('BadDigest because the file changed mid-upload is a FileMismatchError', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('d.bin', 3 * CHUNK);
  cloud.fault = (n, attempt) => {
    if (n === 2 && attempt === 1) {
      data[CHUNK + 1]! ^= 0xff;
      writeFileSync(path, data);
      return { status: 400, code: 'BadDigest' };
    }
    return undefined;
  };
  await expect(run(cloud, { file: path, concurrency: 1 })).rejects.toThrow(/changed during the upload/);
});

test('a file modified during the upload is not completed', async () => {
  const cloud = new FakeCloud();
  const { path } = file('mt.bin', 2 * CHUNK);
  cloud.afterPut = (n) => {
    if (n === 2) utimesSync(path, new Date(), new Date(Date.now() + 5000));
  };
  await expect(run(cloud, { file: path })).rejects.toThrow(/modified during the upload/);
});

test('parts storage lost are sent again after complete reports them missing', async () => {
  const cloud = new FakeCloud();
  const { path, data } = file('l.bin', 3 * CHUNK);
  let dropped = false;
  const complete = cloud.api.complete;
  cloud.api.complete = async (sid, parts) => {
    if (!dropped) {
      dropped = true;
      cloud.sessions.get(sid)!.parts.delete(2);
    }
    return complete(sid, parts);
  };
  const r = await run(cloud, { file: path });
  expect(r.etag).toBe(expectedEtag(data, CHUNK));
  expect(cloud.stats.putsByPart.get(2)).toBe(2);
});

test('a wrong final ETag is an integrity error', async () => {
  const cloud = new FakeCloud();
  const { path } = file('i.bin', 2 * CHUNK);
  const complete = cloud.api.complete;
  cloud.api.complete = async (sid, parts) => ({ ...(await complete(sid, parts)), etag: '"00000000000000000000000000000000-2"' });
  await expect(run(cloud, { file: path })).rejects.toThrow(/ETag/);
});

test('a missing file is a usage error', async () => {
  await expect(run(new FakeCloud(), { file: join(dir, 'nope') })).rejects.toThrow(/no such file/);
});

test('a stop while URL batches are in flight ends as InterruptedError, never a cut request', async () => {
  const cloud = new FakeCloud();
  cloud.partUrlsLatencyMs = 15;
  const { path } = file('stop.bin', 300 * 1024);
  const stop = new AbortController();
  cloud.afterPut = () => {
    if (cloud.stats.puts >= 110) stop.abort();
  };
  const err = await run(cloud, { file: path, chunkSize: 1024, concurrency: 4, signal: stop.signal }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  expect((err as InterruptedError).partsSent).toBeGreaterThanOrEqual(110);
  expect((err as InterruptedError).partsSent).toBeLessThan(300);
});

test('a part size raised by the server drops the digests guessed during init', async () => {
  const cloud = new FakeCloud();
  cloud.forceChunkSize = 2 * CHUNK;
  const { path, data } = file('raised.bin', 7 * CHUNK + 9);
  const r = await run(cloud, { file: path, chunkSize: CHUNK });
  expect(r).toMatchObject({ chunk_size: 2 * CHUNK, parts_total: 4, etag: expectedEtag(data, 2 * CHUNK) });
});
