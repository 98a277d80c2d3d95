import type { PartUrl } from '../../contract/api.js';
import { API_LIMITS, MiB } from '../../contract/limits.js';
import { batchSize, lowWater, MIN_BATCH, UrlSupplier, type FetchUrls } from '../../client/url-supplier.js';

const PART = 5 * MiB;

/** A /parts endpoint that answers at once or when the test says so, recording every batch. */
function fakeApi(lifetimeSeconds = 900) {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let held = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchUrls: FetchUrls = async (parts) => {
    batches.push(parts.map((p) => p.part_number));
    if (parts.some((p) => p.md5 !== undefined)) throw new Error('URLs must be asked for unbound (no md5)');
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (held) await new Promise<void>((r) => gates.push(r));
    inFlight--;
    return {
      url_expires_in: lifetimeSeconds,
      parts: parts.map((p) => ({ part_number: p.part_number, url: `https://s3/${p.part_number}?signed=${batches.length}`, headers: {} })),
    };
  };
  return {
    batches,
    fetchUrls,
    get maxInFlight() {
      return maxInFlight;
    },
    hold() {
      held = true;
    },
    release() {
      held = false;
      for (const g of gates.splice(0)) g();
    },
  };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const initUrls = (n: number): PartUrl[] => range(1, n).map((p) => ({ part_number: p, url: `https://s3/${p}?init`, headers: {} }));

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/**
 * Drives a supplier like a pool of uploaders at a steady rate: each taken part is "stored" after
 * the time one part takes at `bytesPerSecond` (per uploader: concurrency parts at once).
 */
async function upload(s: UrlSupplier, clk: ReturnType<typeof clock>, bytesPerSecond: number, partSize = PART): Promise<number[]> {
  const got: number[] = [];
  for (let j = await s.take(); j; j = await s.take()) {
    expect(j.expiresAt).toBeGreaterThan(clk.now());
    got.push(j.partNumber);
    clk.advance((partSize / bytesPerSecond) * 1000);
    s.stored(partSize);
    await flush();
  }
  return got;
}

describe('batchSize', () => {
  const usableMs = 840_000;
  test('no rate measured yet: the minimum', () => {
    expect(batchSize({ remaining: 5000, bytesPerSecond: 0, partSize: PART, usableMs })).toBe(MIN_BATCH);
  });
  test('what the measured rate sends within the usable lifetime, within [100, 500]', () => {
    // 1 MiB/s for 840 s = 840 MiB = 168 parts of 5 MiB.
    expect(batchSize({ remaining: 5000, bytesPerSecond: MiB, partSize: PART, usableMs })).toBe(168);
    expect(batchSize({ remaining: 5000, bytesPerSecond: 100 * MiB, partSize: PART, usableMs })).toBe(API_LIMITS.maxUrlsPerRequest);
    expect(batchSize({ remaining: 5000, bytesPerSecond: 0.1 * MiB, partSize: PART, usableMs })).toBe(MIN_BATCH);
  });
  test('the tail: all that remains when it fits one call, never a call for fewer than 100 later', () => {
    expect(batchSize({ remaining: 105, bytesPerSecond: 0, partSize: PART, usableMs })).toBe(105);
    expect(batchSize({ remaining: 40, bytesPerSecond: 0, partSize: PART, usableMs })).toBe(40);
    expect(batchSize({ remaining: 550, bytesPerSecond: 100 * MiB, partSize: PART, usableMs })).toBe(500);
    expect(batchSize({ remaining: 260, bytesPerSecond: MiB, partSize: PART, usableMs })).toBe(260);
    expect(batchSize({ remaining: 300, bytesPerSecond: MiB, partSize: PART, usableMs })).toBe(168);
  });
});

test('lowWater: two jobs per uploader plus the parts sent during two round trips', () => {
  expect(lowWater({ concurrency: 4, bytesPerSecond: 0, partSize: PART, fetchMs: 1000 })).toBe(8);
  // 100 MiB/s = 20 parts/s; 2 x 0.5 s of them = 20.
  expect(lowWater({ concurrency: 4, bytesPerSecond: 100 * MiB, partSize: PART, fetchMs: 500 })).toBe(28);
});

test("init's URLs are handed out first, in order, without asking the API", async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 3), initialUrls: initUrls(3), initialExpiresAt: Date.now() + 900_000, concurrency: () => 2, partSize: PART });
  const jobs = [await s.take(), await s.take(), await s.take()];
  expect(jobs.map((j) => j?.url)).toEqual(['https://s3/1?init', 'https://s3/2?init', 'https://s3/3?init']);
  expect(jobs[0]!.headers).toEqual({});
  await expect(s.take()).resolves.toBeUndefined();
  expect(api.batches).toEqual([]);
});

test('205 parts: init covers 100, one batch the other 105; the next batch is asked for before the ready jobs run out', async () => {
  const api = fakeApi();
  const clk = clock();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 205), initialUrls: initUrls(100), initialExpiresAt: clk.now() + 900_000, concurrency: () => 4, partSize: PART, now: clk.now });
  const takenBeforeFetch: number[] = [];
  const got: number[] = [];
  for (let j = await s.take(); j; j = await s.take()) {
    got.push(j.partNumber);
    if (api.batches.length === 0) takenBeforeFetch.push(j.partNumber);
    clk.advance(50);
    s.stored(PART);
    await flush();
  }
  expect(got).toEqual(range(1, 205));
  expect(api.batches.map((b) => [b[0], b.length])).toEqual([[101, 105]]);
  // Asked for while jobs were still ready (at least two per uploader), not when they ran out.
  expect(takenBeforeFetch.length).toBeLessThanOrEqual(100 - 8);
  expect(s.requests).toBe(1);
});

test.each([
  // [parts, rate]: API calls init + /parts + complete <= ceil(parts / 100) + 3
  [1000, 200 * MiB],
  [1000, 2 * MiB],
  [3333, 50 * MiB],
  [10_000, 400 * MiB],
])('%i parts at %d B/s: /parts calls within ceil(parts/100) + 1', async (parts, rate) => {
  const api = fakeApi();
  const clk = clock();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, parts), initialUrls: initUrls(100), initialExpiresAt: clk.now() + 900_000, concurrency: () => 4, partSize: PART, now: clk.now });
  expect(await upload(s, clk, rate)).toEqual(range(1, parts));
  expect(s.requests).toBeLessThanOrEqual(Math.ceil(parts / 100) + 1);
  for (const b of api.batches.slice(0, -1)) expect(b.length).toBeGreaterThanOrEqual(MIN_BATCH);
  for (const b of api.batches) expect(b.length).toBeLessThanOrEqual(API_LIMITS.maxUrlsPerRequest);
  if (rate >= 50 * MiB) expect(api.batches[0]!.length).toBe(Math.min(parts - 100, 500));
});

test('a resumed run (no init URLs) asks at once, 100 before any rate is known', async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(40, 400), concurrency: () => 4, partSize: PART });
  const first = await s.take();
  expect(first?.partNumber).toBe(40);
  expect(api.batches[0]).toEqual(range(40, 139));
});

test('at a slow rate, URLs about to expire are re-signed together in one call, and handed out in order', async () => {
  const api = fakeApi(900);
  const clk = clock();
  // 0.1 MiB/s: a 5 MiB part takes 50 s, so init's 100 URLs (900 s) outlive only the first ~17 parts.
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 120), initialUrls: initUrls(100), initialExpiresAt: clk.now() + 900_000, concurrency: () => 1, partSize: PART, now: clk.now });
  const got = await upload(s, clk, 0.1 * MiB);
  expect(got).toEqual(range(1, 120));
  // Each call re-signs every URL that came close to expiry at once (plus the parts never signed), not one by one.
  expect(api.batches.length).toBeGreaterThanOrEqual(2);
  for (const b of api.batches) expect(b).toEqual(range(b[0]!, 120));
  expect(api.batches[0]![0]).toBeLessThan(30);
  expect(s.requests).toBeLessThanOrEqual(Math.ceil((120 * 50) / 840) + 1);
});

test('URLs that live shorter than the margin are still used (the margin shrinks to a quarter of the lifetime)', async () => {
  const api = fakeApi(2);
  const clk = clock();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 3), initialUrls: initUrls(3), initialExpiresAt: clk.now() + 2000, concurrency: () => 2, partSize: PART, now: clk.now });
  expect((await s.take())?.url).toBe('https://s3/1?init');
  clk.advance(1600); // 400 ms left of 2 s: within a quarter of the lifetime
  const j = await s.take();
  expect(j).toMatchObject({ partNumber: 2, url: 'https://s3/2?signed=1' });
  expect(api.batches).toEqual([[2, 3]]);
});

test('one request in flight: uploaders wait for it instead of sending another', async () => {
  const api = fakeApi();
  api.hold();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 300), concurrency: () => 8, partSize: PART });
  const takes = range(1, 8).map(() => s.take());
  await flush();
  expect(api.batches).toHaveLength(1);
  api.release();
  expect((await Promise.all(takes)).map((j) => j?.partNumber)).toEqual(range(1, 8));
  expect(api.maxInFlight).toBe(1);
});

test('the look-ahead follows a concurrency that grows during the run', async () => {
  const api = fakeApi();
  let concurrency = 2;
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 400), initialUrls: initUrls(100), initialExpiresAt: Date.now() + 900_000, concurrency: () => concurrency, partSize: PART });
  for (let i = 0; i < 50; i++) await s.take();
  expect(api.batches).toHaveLength(0); // 50 ready >= 2 x 2
  concurrency = 32;
  await s.take(); // 49 ready < 2 x 32: ask now
  expect(api.batches).toHaveLength(1);
});

test('refresh asks for one URL; a failed batch fails the waiting and later takes', async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 10), concurrency: () => 1, partSize: PART });
  await expect(s.refresh(7)).resolves.toMatchObject({ partNumber: 7, url: 'https://s3/7?signed=1' });
  expect(api.batches).toEqual([[7]]);

  const down = new UrlSupplier({ fetchUrls: () => Promise.reject(new Error('api down')), parts: range(1, 10), concurrency: () => 1, partSize: PART });
  await expect(down.take()).rejects.toThrow('api down');
  await expect(down.take()).rejects.toThrow('api down');
});

test('close ends waiting takes quietly; an answer missing a part is an error', async () => {
  const api = fakeApi();
  api.hold();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, parts: range(1, 10), concurrency: () => 1, partSize: PART });
  const t = s.take();
  s.close();
  await expect(t).resolves.toBeUndefined();
  await expect(s.take()).resolves.toBeUndefined();
  api.release();

  const bad = new UrlSupplier({ fetchUrls: async () => ({ url_expires_in: 900, parts: [] }), parts: [1], concurrency: () => 1, partSize: PART });
  await expect(bad.take()).rejects.toThrow('no URL for part 1');
});
