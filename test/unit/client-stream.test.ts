/**
 * uploadStream through an in-memory API and storage: parts cut at the part size whatever the
 * input's chunking, a failed PUT retried from its buffer, memory bounded by concurrency, and the
 * session aborted on any failure (a pipe cannot be resumed).
 */
import { jest } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import type { CompleteRequest, CompleteResponse, InitRequest, InitResponse, PartUrlRequest, PartUrlResponse } from '../../contract/api.js';
import { GiB, MiB } from '../../contract/limits.js';
import type { PutRequest, PutResponse } from '../../client/engine/ports.js';
import { multipartEtag } from '../../client/hashing.js';
import { IntegrityError, InterruptedError, UsageError } from '../../client/errors.js';
import { checkPartNumber, streamChunkSize, uploadStream, type StreamApi } from '../../client/stream-upload.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();
const RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
// Tens of MiB hashed per test on a shared 2-core machine.
jest.setTimeout(60_000);

/** Storage and API in memory; `failPut(n, attempt)` makes a PUT answer 500. */
class FakeStreamCloud {
  parts = new Map<number, Buffer>();
  inits: InitRequest[] = [];
  completes: (CompleteRequest['parts'] | undefined)[] = [];
  aborted: string[] = [];
  attempts = new Map<number, number>();
  concurrent = 0;
  mostConcurrent = 0;
  failPut: (n: number, attempt: number) => boolean = () => false;
  /** Answer BadDigest to this PUT although the bytes match (a corruption on the way). */
  garble: (n: number, attempt: number) => boolean = () => false;
  /** Part numbers of each /parts call. */
  urlCalls: number[][] = [];
  /** Tamper with the completed object's ETag (storage assembled something else). */
  etagOverride: string | undefined;

  api: StreamApi = {
    init: async (req): Promise<InitResponse> => {
      this.inits.push(req);
      const parts = Array.from({ length: 3 }, (_, i) => ({ part_number: i + 1, url: `http://s/${i + 1}`, headers: {} }));
      return { session_id: 'S'.repeat(22), total_parts: null, chunk_size: req.chunk_size!, expires_at: '', url_expires_in: 900, parts };
    },
    partUrls: async (_sid, parts: PartUrlRequest['parts']): Promise<PartUrlResponse> => {
      this.urlCalls.push(parts.map((p) => p.part_number));
      // As the API: a URL bound to an MD5 only when one is given.
      return {
        session_id: 'S'.repeat(22),
        url_expires_in: 900,
        parts: parts.map((p) => ({ part_number: p.part_number, url: `http://s/${p.part_number}`, headers: p.md5 ? { 'Content-MD5': p.md5 } : ({} as Record<string, string>) })),
      };
    },
    complete: async (sid, parts): Promise<CompleteResponse> => {
      this.completes.push(parts);
      const sorted = [...this.parts.entries()].sort((a, b) => a[0] - b[0]);
      const size = sorted.reduce((n, [, b]) => n + b.length, 0);
      return { session_id: sid, status: 'completed', file_path: 's3://b/k', size, etag: this.etagOverride ?? `"${multipartEtag(sorted.map(([, b]) => md5(b)))}"` };
    },
    abort: async (sid) => {
      this.aborted.push(sid);
      return { session_id: sid, status: 'aborted' };
    },
  };

  transport = {
    put: async (o: PutRequest): Promise<PutResponse> => {
      const n = Number(new URL(o.url).pathname.slice(1));
      const attempt = (this.attempts.get(n) ?? 0) + 1;
      this.attempts.set(n, attempt);
      this.concurrent++;
      this.mostConcurrent = Math.max(this.mostConcurrent, this.concurrent);
      try {
        await new Promise((r) => setTimeout(r, 2));
        if (this.failPut(n, attempt)) return { status: 500, etag: undefined, retryAfter: undefined, body: '<Error><Code>InternalError</Code></Error>' };
        if (!(o.body instanceof Uint8Array)) throw new Error('a stream sends bytes in memory');
        const given = Object.entries(o.headers).find(([k]) => k.toLowerCase() === 'content-md5')?.[1];
        if (given !== md5(o.body).toString('base64') || this.garble(n, attempt)) return { status: 400, etag: undefined, retryAfter: undefined, body: '<Error><Code>BadDigest</Code></Error>' };
        this.parts.set(n, Buffer.from(o.body));
        o.onProgress(o.body.length);
        return { status: 200, etag: `"${md5(o.body).toString('hex')}"`, retryAfter: undefined, body: '' };
      } finally {
        this.concurrent--;
      }
    },
  };

  stored(): Buffer {
    return Buffer.concat([...this.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
  }
}

/** `data` in pieces of `piece` bytes, like a pipe delivers it. */
async function* pieces(data: Buffer, piece: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += piece) {
    await new Promise((r) => setImmediate(r));
    yield data.subarray(i, i + piece);
  }
}

const opts = (over = {}) => ({ name: 'dump.bin', chunkSize: 5 * MiB, concurrency: 2, retry: RETRY, stallTimeoutMs: 5000, ...over });

test('the part size fits the expected size in 10,000 parts (11 MiB for 100 GiB by default)', () => {
  expect(streamChunkSize()).toBe(11 * MiB);
  expect(streamChunkSize(1 * GiB)).toBe(5 * MiB);
  expect(streamChunkSize(1024 * GiB)).toBe(105 * MiB);
});

test('an input in odd pieces is cut into full parts and a short last one; the object is the input', async () => {
  const cloud = new FakeStreamCloud();
  const data = randomBytes(12 * MiB + 123);
  const r = await uploadStream(pieces(data, 65_531), opts(), { api: cloud.api, transport: cloud.transport, md5 });
  expect(r).toMatchObject({ size: data.length, parts: 3, chunk_size: 5 * MiB });
  expect(cloud.stored().equals(data)).toBe(true);
  expect(cloud.inits[0]).toEqual({ filename: 'dump.bin', chunk_size: 5 * MiB });
  expect(cloud.completes[0]?.map((p) => p.part_number)).toEqual([1, 2, 3]);
  expect(cloud.aborted).toEqual([]);
});

test('a failed PUT is retried from the in-memory buffer (the input is read once)', async () => {
  const cloud = new FakeStreamCloud();
  cloud.failPut = (n, attempt) => n === 2 && attempt < 3;
  const data = Buffer.alloc(11 * MiB, 7);
  let reads = 0;
  async function* once() {
    for await (const p of pieces(data, MiB)) {
      reads++;
      yield p;
    }
  }
  await uploadStream(once(), opts(), { api: cloud.api, transport: cloud.transport, md5 });
  expect(reads).toBe(11);
  expect(cloud.attempts.get(2)).toBe(3);
  expect(cloud.stored().equals(data)).toBe(true);
});

test('URLs beyond init are asked for in batches, unbound: a 9-part stream past 3 init URLs makes one /parts call', async () => {
  const cloud = new FakeStreamCloud();
  const data = randomBytes(40 * MiB + 1);
  await uploadStream(pieces(data, 4 * MiB), opts({ concurrency: 3 }), { api: cloud.api, transport: cloud.transport, md5 });
  expect(cloud.stored().equals(data)).toBe(true);
  expect(cloud.urlCalls).toHaveLength(1);
  expect(cloud.urlCalls[0]!.slice(0, 2)).toEqual([4, 5]);
});

test('BadDigest for unchanged bytes: the buffer is hashed again and the part sent again', async () => {
  const cloud = new FakeStreamCloud();
  cloud.garble = (n, attempt) => n === 2 && attempt === 1;
  const data = randomBytes(11 * MiB);
  const retries: string[] = [];
  await uploadStream(pieces(data, MiB), opts({ onRetry: (what: string) => retries.push(what) }), { api: cloud.api, transport: cloud.transport, md5 });
  expect(cloud.attempts.get(2)).toBe(2);
  expect(retries).toEqual(['PUT part 2']);
  expect(cloud.stored().equals(data)).toBe(true);
});

test('no more than `concurrency` parts are held or sent at once', async () => {
  const cloud = new FakeStreamCloud();
  const data = Buffer.alloc(40 * MiB + 1, 1);
  await uploadStream(pieces(data, 4 * MiB), opts({ concurrency: 3 }), { api: cloud.api, transport: cloud.transport, md5 });
  expect(cloud.mostConcurrent).toBeLessThanOrEqual(3);
  expect(cloud.parts.size).toBe(9);
});

test('an empty input is one empty part', async () => {
  const cloud = new FakeStreamCloud();
  const r = await uploadStream(pieces(Buffer.alloc(0), 1), opts(), { api: cloud.api, transport: cloud.transport, md5 });
  expect(r).toMatchObject({ size: 0, parts: 1 });
  expect(cloud.parts.get(1)?.length).toBe(0);
});

test('a part that keeps failing aborts the session and names it', async () => {
  const cloud = new FakeStreamCloud();
  cloud.failPut = (n) => n === 2;
  const err = await uploadStream(pieces(Buffer.alloc(16 * MiB, 3), MiB), opts(), { api: cloud.api, transport: cloud.transport, md5 }).catch((e: unknown) => e);
  expect(err).toMatchObject({ sessionId: 'S'.repeat(22) });
  expect(cloud.aborted).toEqual(['S'.repeat(22)]);
  expect(cloud.completes).toHaveLength(0);
});

test('a stop aborts the session: the pipe cannot be resumed', async () => {
  const cloud = new FakeStreamCloud();
  const stop = new AbortController();
  async function* endless() {
    for (let i = 0; ; i++) {
      if (i === 7) stop.abort();
      await new Promise((r) => setImmediate(r));
      yield Buffer.alloc(MiB);
    }
  }
  const err = await uploadStream(endless(), opts({ signal: stop.signal }), { api: cloud.api, transport: cloud.transport, md5 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(cloud.aborted).toHaveLength(1);
});

test('part 10,001 is refused with advice to give a bigger expected size', () => {
  expect(() => checkPartNumber(10_000, 5 * MiB)).not.toThrow();
  expect(() => checkPartNumber(10_001, 5 * MiB)).toThrow(UsageError);
  expect(() => checkPartNumber(10_001, 5 * MiB)).toThrow(/--expected-size/);
});

test('an object whose ETag is not the parts read is an IntegrityError', async () => {
  const cloud = new FakeStreamCloud();
  cloud.etagOverride = '"00000000000000000000000000000000-1"';
  const err = await uploadStream(pieces(Buffer.alloc(100, 1), 10), opts(), { api: cloud.api, transport: cloud.transport, md5 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IntegrityError);
  expect(cloud.aborted).toHaveLength(1);
});
