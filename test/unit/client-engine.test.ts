/**
 * The engine through its seams: an in-memory PartSource and the fake cloud's PartTransport (S3's
 * XML error answers), no file and no network. Each retry cause, URL refresh, stall and resume.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uploadSource } from '../../client/engine/engine.js';
import type { PartSource } from '../../client/engine/ports.js';
import type { EngineOptions, UploadEvent } from '../../client/engine/types.js';
import { FileMismatchError, InterruptedError, PutPartError, StallError } from '../../client/errors.js';
import { md5, multipartEtag } from '../../client/hashing.js';
import { FakeCloud } from '../../client/testing/fake-cloud.js';
import { NodeMd5 } from '../../client/node-md5.js';

const CHUNK = 64 * 1024;

/** Bytes in memory, as a browser's Blob would give them; `version` only when asked for. */
class MemorySource implements PartSource {
  reads = 0;
  versionToken = 'v1';
  constructor(
    readonly data: Buffer,
    readonly name = 'mem.bin',
  ) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.reads++;
    const out = into ?? new Uint8Array(length);
    out.set(this.data.subarray(offset, offset + length));
    return out.subarray(0, length);
  }
}
class VersionedSource extends MemorySource {
  async version(): Promise<string> {
    return this.versionToken;
  }
}

const etagOf = (data: Buffer, chunk = CHUNK) => {
  const d: Buffer[] = [];
  for (let o = 0; o < Math.max(1, data.length); o += chunk) d.push(md5(data.subarray(o, o + chunk)));
  return multipartEtag(d);
};

function run(cloud: FakeCloud, source: PartSource, opts: EngineOptions = {}, events: UploadEvent[] = []) {
  return uploadSource(
    source,
    { chunkSize: CHUNK, concurrency: 2, retry: { baseDelayMs: 1, maxDelayMs: 2 }, onEvent: (e) => events.push(e), ...opts },
    { api: cloud.api, transport: cloud.transport, md5: new NodeMd5() },
  );
}

test('uploads an in-memory source: object name from the source, ETag verified', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(5 * CHUNK + 1), 'photo.jpg');
  const r = await run(cloud, src);
  expect(r).toMatchObject({ file: 'photo.jpg', size: src.size, parts_total: 6, parts_sent: 6, etag: etagOf(src.data) });
  expect(r.file_path).toMatch(/\/photo\.jpg$/);
});

test('503 SlowDown with Retry-After: backed off at least that long, then sent', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(2 * CHUNK));
  cloud.fault = (n, attempt) => (n === 1 && attempt === 1 ? { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.', retryAfter: '1' } : undefined);
  const events: UploadEvent[] = [];
  const t = performance.now();
  const r = await run(cloud, src, { retry: { baseDelayMs: 1, maxDelayMs: 5000 } }, events);
  expect(r.parts_sent).toBe(2);
  expect(performance.now() - t).toBeGreaterThanOrEqual(990);
  expect(events.filter((e) => e.type === 'retry')).toEqual([expect.objectContaining({ part_number: 1, attempt: 1, delay_ms: 1000, reason: expect.stringMatching(/SlowDown/) })]);
  expect(events.find((e) => e.type === 'part' && e.part_number === 1)).toMatchObject({ attempts: 2 });
});

test('BadDigest with unchanged bytes: the part is read again and re-sent (a transient corruption)', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(2 * CHUNK));
  cloud.fault = (n, attempt) => (n === 2 && attempt === 1 ? { status: 400, code: 'BadDigest' } : undefined);
  const events: UploadEvent[] = [];
  const r = await run(cloud, src, { concurrency: 1 }, events);
  expect(r.etag).toBe(etagOf(src.data));
  expect(cloud.stats.putsByPart.get(2)).toBe(2);
  expect(events.filter((e) => e.type === 'retry').map((e) => (e as { part_number: number }).part_number)).toEqual([2]);
});

test('BadDigest with changed bytes: FileMismatchError naming the part, session kept', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(3 * CHUNK));
  cloud.fault = (n, attempt) => {
    if (n !== 2 || attempt !== 1) return undefined;
    src.data[CHUNK + 5]! ^= 0xff;
    return { status: 400, code: 'BadDigest' };
  };
  const err = await run(cloud, src, { concurrency: 1 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FileMismatchError);
  expect((err as FileMismatchError).message).toMatch(/changed during the upload \(part 2\)/);
  expect((err as FileMismatchError).sessionId).toMatch(/^fake/);
});

test('a URL refused as badly signed is replaced at once (no backoff); after 3 fresh URLs the refusal is final', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(2 * CHUNK));
  cloud.fault = (n) => (n === 1 ? { status: 403, code: 'SignatureDoesNotMatch' } : undefined);
  const events: UploadEvent[] = [];
  const err = await run(cloud, src, { concurrency: 1 }, events).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PutPartError);
  expect(err).toMatchObject({ s3Code: 'SignatureDoesNotMatch', partNumber: 1 });
  expect(cloud.stats.putsByPart.get(1)).toBe(4);
  expect(events.filter((e) => e.type === 'refresh')).toHaveLength(3);
  expect(events.filter((e) => e.type === 'retry')).toEqual([]);
  expect(cloud.stats.partUrlCounts).toEqual([1, 1, 1]);
});

test('a PUT that stalls (no bytes accepted, no answer) is cut after the stall timeout and retried', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(2 * CHUNK));
  cloud.fault = (n, attempt) => (n === 2 && attempt === 1 ? { hang: true } : undefined);
  const events: UploadEvent[] = [];
  const r = await run(cloud, src, { stallTimeoutMs: 50 }, events);
  expect(r.parts_sent).toBe(2);
  const retry = events.find((e) => e.type === 'retry');
  expect(retry).toMatchObject({ part_number: 2, reason: new StallError('PUT part 2', 50).message });
  expect(events.find((e) => e.type === 'part' && e.part_number === 2)).toMatchObject({ attempts: 2 });
});

test('resume of an in-memory source sends only the parts storage lacks', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(6 * CHUNK));
  const err = await interruptedAfterTwoParts(cloud, src);
  const events: UploadEvent[] = [];
  const r = await run(cloud, src, { resumeSessionId: err.sessionId }, events);
  expect(r).toMatchObject({ resumed: true, parts_already_stored: 2, parts_sent: 4, etag: etagOf(src.data) });
  expect(events.find((e) => e.type === 'verified')).toMatchObject({ parts: 2, bytes: 2 * CHUNK });
  expect(cloud.stats.puts).toBe(6);
});

test('a source whose version changed during the upload is not completed', async () => {
  const cloud = new FakeCloud();
  const src = new VersionedSource(randomBytes(2 * CHUNK), 'v.bin');
  cloud.afterPut = () => {
    src.versionToken = 'v2';
  };
  await expect(run(cloud, src)).rejects.toThrow(/v\.bin was modified during the upload; not completing session fake/);
  expect([...cloud.sessions.values()][0]!.status).toBe('in_progress');
});

test('the engine imports no Node built-in (fs, http(s), crypto) nor the Node adapters', () => {
  const dir = join(process.cwd(), 'client', 'engine');
  const banned = /from '(node:[^']*|fs|https?|crypto|undici|\.\.\/(file-source|http-transport|http|api-client|hashing|node-md5|state|auto-resume|upload|index)\.js)'/;
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThanOrEqual(8);
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    const bad = src.split('\n').filter((l) => /^\s*(import|export)\b/.test(l) && banned.test(l));
    expect({ file: f, bad }).toEqual({ file: f, bad: [] });
  }
});

/** A source with lazy slices (as the browser's BlobSource): the engine must send slices (MD5 still reads it). */
class SliceSource extends MemorySource {
  slices = 0;
  slice(offset: number, length: number): Blob {
    this.slices++;
    return new Blob([this.data.subarray(offset, offset + length)]);
  }
}

test('a source with lazy slices: every part is sent as its slice (no part bytes read into memory), ETag verified', async () => {
  const cloud = new FakeCloud();
  const src = new SliceSource(randomBytes(4 * CHUNK + 7));
  const r = await run(cloud, src);
  expect(r).toMatchObject({ parts_total: 5, parts_sent: 5, etag: etagOf(src.data) });
  expect(cloud.stats.blobPuts).toBe(5);
  expect(src.slices).toBe(5);
});

test('a slice source after BadDigest: the part is hashed again from the source (not from bytes) and re-sent', async () => {
  const cloud = new FakeCloud();
  const src = new SliceSource(randomBytes(3 * CHUNK));
  cloud.fault = (n, attempt) => (n === 2 && attempt === 1 ? { status: 400, code: 'BadDigest' } : undefined);
  const r = await run(cloud, src);
  expect(r).toMatchObject({ parts_sent: 3, etag: etagOf(src.data) });
  expect(cloud.stats.putsByPart.get(2)).toBe(2);
  expect(cloud.stats.blobPuts).toBe(4);
});

test('read once, hash once: each part is read from the source once, for its MD5, its PUT and the ETag check', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(6 * CHUNK + 5));
  const r = await run(cloud, src);
  expect(r).toMatchObject({ parts_total: 7, parts_sent: 7, etag: etagOf(src.data) });
  expect(src.reads).toBe(7);
});

test('URLs are asked for unbound (no MD5) in batches: 250 parts take init plus one /parts call; each PUT carries Content-MD5', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(250 * 1024), 'many.bin');
  const puts: { url: string; headers: Record<string, string> }[] = [];
  cloud.fault = (_n, _a, req) => void puts.push({ url: req.url, headers: req.headers });
  const r = await run(cloud, src, { chunkSize: 1024, concurrency: 4 });
  expect(r).toMatchObject({ parts_total: 250, parts_sent: 250, etag: etagOf(src.data, 1024) });
  expect(cloud.stats.partUrlCounts).toEqual([150]);
  expect(puts.filter((p) => new URL(p.url).searchParams.has('md5'))).toEqual([]);
  expect(puts.filter((p) => !/^[A-Za-z0-9+/]{22}==$/.test(p.headers['content-md5'] ?? ''))).toEqual([]);
});

test('resume: the stored parts are hashed from the source (verified), the missing ones read once each', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(6 * CHUNK));
  const err = await interruptedAfterTwoParts(cloud, src);
  src.reads = 0;
  const r = await run(cloud, src, { resumeSessionId: err.sessionId });
  expect(r).toMatchObject({ parts_already_stored: 2, parts_sent: 4, etag: etagOf(src.data) });
  // 2 stored parts hashed (one 64 KiB block each through NodeMd5's scratch), 4 parts read to send.
  expect(src.reads).toBe(6);
});

test("auto (the default): a PUT retried for 503 SlowDown cuts the parts in flight by a quarter, told and traced", async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(40 * CHUNK));
  cloud.fault = (n, attempt) => (n === 3 && attempt === 1 ? { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } : undefined);
  const events: UploadEvent[] = [];
  const r = await run(cloud, src, { concurrency: undefined }, events);
  expect(r).toMatchObject({ parts_sent: 40, etag: etagOf(src.data) });
  expect(events.filter((e) => e.type === 'concurrency')).toContainEqual(expect.objectContaining({ from: 32, to: 24, reason: 'backoff' }));
  expect(r.concurrency).toMatchObject({ mode: 'auto', initial: 32 });
  expect(r.concurrency!.trace.map((p) => p.n)).toContain(24);
});

test("auto starts from the API's round trip as the session was opened: 8 parts in flight at 20 ms", async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(40 * CHUNK));
  const r = await uploadSource(src, { chunkSize: CHUNK, retry: { baseDelayMs: 1, maxDelayMs: 2 } }, { api: { ...cloud.api, networkRttMs: 20 }, transport: cloud.transport, md5: new NodeMd5() });
  expect(r).toMatchObject({ parts_sent: 40, etag: etagOf(src.data) });
  expect(r.concurrency).toMatchObject({ mode: 'auto', initial: 8, rtt_ms: 20 });
  expect(r.concurrency!.trace[0]!.n).toBe(8);
});

test('a fixed count stays as asked: one trace entry, no concurrency events', async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(10 * CHUNK));
  cloud.fault = (n, attempt) => (n === 3 && attempt === 1 ? { status: 503, code: 'SlowDown', message: 'slow down' } : undefined);
  const events: UploadEvent[] = [];
  const r = await run(cloud, src, { concurrency: 3 }, events);
  expect(r.concurrency).toEqual({ mode: 'fixed', initial: 3, final: 3, max: 3, trace: [{ t_ms: expect.any(Number), n: 3 }] });
  expect(events.some((e) => e.type === 'concurrency')).toBe(false);
});

test("options that cannot run are refused before init: concurrency 'fast', 0, 65, maxMemory 0", async () => {
  const cloud = new FakeCloud();
  const src = new MemorySource(randomBytes(CHUNK));
  for (const bad of [{ concurrency: 0 }, { concurrency: 65 }, { concurrency: 'fast' as 'auto' }, { maxMemory: 0 }, { maxConcurrency: 0 }]) {
    await expect(run(cloud, src, bad)).rejects.toMatchObject({ code: 'usage' });
  }
  expect(cloud.sessions.size).toBe(0);
});

/** An upload stopped gracefully once storage holds two parts (one uploader): the session to resume. */
async function interruptedAfterTwoParts(cloud: FakeCloud, src: MemorySource): Promise<InterruptedError> {
  const stop = new AbortController();
  cloud.afterPut = () => {
    if (cloud.stats.puts >= 2) stop.abort();
  };
  const err = await run(cloud, src, { concurrency: 1, signal: stop.signal }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  cloud.afterPut = () => undefined;
  return err as InterruptedError;
}
