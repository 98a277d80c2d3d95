import { createHash, randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutPartError, StallError } from '../../client/errors.js';
import { putPart, xmlField, type PutPartOptions } from '../../client/engine/put-part.js';
import { bodySlices, HttpTransport } from '../../client/http-transport.js';
import { createPool, type HttpPool } from '../../client/http.js';
import { RateLimiter } from '../../client/rate-limit.js';
import { scriptedServer, type Answer } from './helpers/scripted-http.js';

/** putPart through the Node http transport, as the library sends parts. */
const nodePut = ({ pool, sliceSize, ...o }: PutPartOptions & { pool: HttpPool; sliceSize: number }) => putPart(new HttpTransport(pool, sliceSize), o);

/** A storage answering every request with `answer`, and a pool to reach it. */
async function storage(answer: Answer) {
  const server = await scriptedServer(() => answer);
  const pool = createPool({ connections: 1 });
  return { server, pool, close: async () => (await pool.close(), await server.close()) };
}

const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

test('sends the bytes with exact Content-Length and exactly the given headers, returns the ETag', async () => {
  const { server, pool, close } = await storage({ status: 200, headers: { etag: '"abc"' } });
  const body = randomBytes(1000);
  const progress: number[] = [];
  try {
    const etag = await nodePut({
      pool, partNumber: 2, url: `${server.url}/b/k?partNumber=2`, headers: { 'Content-MD5': md5b64(body), 'Content-Length': '1' }, body,
      stallTimeoutMs: 5000, sliceSize: 1024 * 1024, onProgress: (n) => progress.push(n),
    });
    expect(etag).toBe('"abc"');
    const [req] = server.requests;
    expect(req!.method).toBe('PUT');
    expect(req!.url).toBe('/b/k?partNumber=2');
    // Header names are case-insensitive; a stale Content-Length is replaced; nothing else is sent
    // but what Node's http adds to every request (host, connection).
    const { host: _h, connection: _c, ...rest } = req!.headers;
    expect(rest).toEqual({ 'content-md5': md5b64(body), 'content-length': '1000' });
    expect(req!.body.equals(body)).toBe(true);
    expect(progress).toEqual([1000]);
  } finally {
    await close();
  }
});

test('a part larger than the slice is sent in slices over keep-alive, with progress per accepted slice', async () => {
  const { server, pool, close } = await storage({ status: 200, headers: { etag: '"abc"' } });
  const body = randomBytes(2500);
  const progress: number[] = [];
  try {
    for (const n of [1, 2]) {
      await nodePut({ pool, partNumber: n, url: `${server.url}/b/k`, headers: {}, body, stallTimeoutMs: 5000, sliceSize: 1000, onProgress: (b) => progress.push(b) });
    }
    expect(server.requests.map((r) => [r.headers['content-length'], r.body.equals(body), r.headers.connection])).toEqual([
      ['2500', true, 'keep-alive'],
      ['2500', true, 'keep-alive'],
    ]);
    expect(progress).toEqual([1000, 2000, 2500, 1000, 2000, 2500]);
  } finally {
    await close();
  }
});

test('slices are views of the part, in order, with progress after each', async () => {
  const body = randomBytes(2500);
  const progress: number[] = [];
  const slices: Uint8Array[] = [];
  for await (const s of bodySlices(body, { sliceSize: 1000, onProgress: (n) => progress.push(n) })) slices.push(s);
  expect(slices.map((s) => s.length)).toEqual([1000, 1000, 500]);
  expect(slices.every((s) => s.buffer === body.buffer)).toBe(true);
  expect(Buffer.concat(slices).equals(body)).toBe(true);
  expect(progress).toEqual([1000, 2000, 2500]);
});

test('an S3 error becomes a PutPartError with the XML code', async () => {
  const { server, pool, close } = await storage({
    status: 400, body: '<?xml version="1.0"?><Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match</Message></Error>',
  });
  const err = await nodePut({ pool, partNumber: 7, url: `${server.url}/k`, headers: {}, body: Buffer.from('x'), stallTimeoutMs: 5000, sliceSize: 1 << 20 }).catch((e: unknown) => e);
  await close();
  expect(err).toBeInstanceOf(PutPartError);
  expect(err).toMatchObject({ status: 400, s3Code: 'BadDigest', partNumber: 7 });
});

test('503 with Retry-After is carried for the backoff', async () => {
  const { server, pool, close } = await storage({ status: 503, body: '<Error><Code>SlowDown</Code></Error>', headers: { 'retry-after': '3' } });
  const err = await nodePut({ pool, partNumber: 1, url: `${server.url}/k`, headers: {}, body: Buffer.from('x'), stallTimeoutMs: 5000, sliceSize: 1 << 20 }).catch((e: unknown) => e);
  await close();
  expect(err).toMatchObject({ status: 503, s3Code: 'SlowDown', retryAfterMs: 3000 });
});

test('no answer within the stall timeout is a StallError', async () => {
  const { server, pool, close } = await storage({ status: 200, headers: { etag: '"x"' }, delayMs: 2000 });
  const t = performance.now();
  const err = await nodePut({ pool, partNumber: 1, url: `${server.url}/k`, headers: {}, body: Buffer.from('x'), stallTimeoutMs: 100, sliceSize: 1 << 20 }).catch((e: unknown) => e);
  const took = performance.now() - t;
  await close();
  expect(err).toBeInstanceOf(StallError);
  expect(took).toBeLessThan(1500);
});

test('the rate limiter paces the slices', async () => {
  const t = performance.now();
  // 400 KiB at 1 MiB/s with a 100 ms burst allowance: at least ~290 ms.
  let n = 0;
  const limiter = new RateLimiter(1024 * 1024);
  for await (const s of bodySlices(Buffer.alloc(400 * 1024), { sliceSize: 64 * 1024, pace: (b) => limiter.take(b) })) n += s.length;
  expect(n).toBe(400 * 1024);
  expect(performance.now() - t).toBeGreaterThan(250);
});

test('xmlField', () => {
  expect(xmlField('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', 'Message')).toBe('Request has expired');
  expect(xmlField('', 'Code')).toBeUndefined();
});

test('an answer that comes before the whole body was sent leaves no timer behind', async () => {
  // Storage refuses a part (e.g. 403 QuotaExceeded) as soon as it sees the headers, while the
  // client is still writing the body. A stall timer re-armed by a late slice kept the CLI
  // alive for the whole stall timeout (60 s) after it had already reported the failure.
  const server = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>QuotaExceeded</Code><Message></Message></Error>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const pool = createPool({ connections: 1 });
  // Track the stall timers (told apart by their delay): each must be cleared or have fired.
  const STALL_MS = 54_321;
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<NodeJS.Timeout>();
  const setSpy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t: NodeJS.Timeout = realSet(() => {
      live.delete(t);
      fn(...args);
    }, ms);
    if (ms === STALL_MS) live.add(t);
    return t;
  }) as typeof setTimeout);
  const clearSpy = jest.spyOn(globalThis, 'clearTimeout').mockImplementation(((t?: NodeJS.Timeout) => {
    if (t) live.delete(t);
    realClear(t);
  }) as typeof clearTimeout);
  try {
    const err = await nodePut({
      pool, partNumber: 1, url: `http://127.0.0.1:${port}/b/k`, headers: {}, body: randomBytes(5 << 20), stallTimeoutMs: STALL_MS, sliceSize: 1 << 20,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, s3Code: 'QuotaExceeded' });
    await new Promise((r) => realSet(r, 200));
    expect(live.size).toBe(0);
  } finally {
    setSpy.mockRestore();
    clearSpy.mockRestore();
    for (const t of live) realClear(t);
    await pool.close();
    await new Promise((r) => server.close(r));
  }
});
