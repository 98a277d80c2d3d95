import type { PartUrl } from '../../contract/api.js';
import { md5, md5Base64 } from '../../client/hashing.js';
import { UrlSupplier, type FetchUrls } from '../../client/url-supplier.js';

const digest = (n: number) => md5(Buffer.from(`part ${n}`));

/** A /parts endpoint that answers when the test says so, recording every batch. */
function fakeApi(lifetimeSeconds = 900) {
  const batches: { part_number: number; md5: string }[][] = [];
  const gates: (() => void)[] = [];
  let manual = false;
  const fetchUrls: FetchUrls = async (parts) => {
    batches.push(parts);
    if (manual) await new Promise<void>((r) => gates.push(r));
    return {
      url_expires_in: lifetimeSeconds,
      parts: parts.map((p) => ({ part_number: p.part_number, url: `https://s3/${p.part_number}?bound`, headers: { 'Content-MD5': p.md5 } })),
    };
  };
  return {
    batches,
    fetchUrls,
    hold() {
      manual = true;
    },
    release() {
      for (const g of gates.splice(0)) g();
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

async function drain(s: UrlSupplier): Promise<number[]> {
  const got: number[] = [];
  for (let j = await s.take(); j; j = await s.take()) got.push(j.partNumber);
  return got;
}

test('init URLs are used without asking the API, with our Content-MD5 added', async () => {
  const api = fakeApi();
  const initial: PartUrl[] = [1, 2, 3].map((n) => ({ part_number: n, url: `https://s3/${n}?init`, headers: {} }));
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, initialUrls: initial, initialExpiresAt: Date.now() + 900_000, window: 8, batchSize: 4, lowWater: 2, expiryMarginMs: 60_000 });
  for (const n of [1, 2, 3]) s.add(n, digest(n));
  s.end();
  const job = await s.take();
  expect(job).toMatchObject({ partNumber: 1, url: 'https://s3/1?init', headers: { 'content-md5': md5Base64(digest(1)) } });
  expect(await drain(s)).toEqual([2, 3]);
  expect(api.batches).toHaveLength(0);
});

test('parts without init URLs are fetched in batches, MD5-bound, while a request is in flight more accumulate', async () => {
  const api = fakeApi();
  api.hold();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 1000, batchSize: 50, lowWater: 4, expiryMarginMs: 60_000 });
  s.add(1, digest(1)); // starving (nothing ready): sent at once, alone
  for (let n = 2; n <= 120; n++) s.add(n, digest(n)); // pile up behind the request in flight
  expect(api.batches.map((b) => b.length)).toEqual([1]);
  api.release();
  await flush();
  expect(api.batches.map((b) => b.length)).toEqual([1, 119]);
  expect(api.batches[1]![0]).toEqual({ part_number: 2, md5: md5Base64(digest(2)) });
  api.release();
  await flush();
  s.end();
  const order = await drain(s);
  expect(order).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
});

test('a batch never exceeds 500 parts', async () => {
  const api = fakeApi();
  api.hold();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 2000, batchSize: 2000, lowWater: 0, expiryMarginMs: 0 });
  for (let n = 1; n <= 1200; n++) s.add(n, digest(n));
  s.end();
  for (let i = 0; i < 5; i++) {
    api.release();
    await flush();
  }
  expect(api.batches.map((b) => b.length)).toEqual([500, 500, 200]);
  expect((await drain(s)).length).toBe(1200);
});

test('without urgency, parts wait until a batch is full', async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 100, batchSize: 10, lowWater: 0, expiryMarginMs: 0 });
  for (let n = 1; n <= 9; n++) s.add(n, digest(n));
  expect(api.batches).toHaveLength(0);
  s.add(10, digest(10));
  expect(api.batches.map((b) => b.length)).toEqual([10]);
});

test('a waiting uploader makes the pending parts urgent', async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 100, batchSize: 10, lowWater: 0, expiryMarginMs: 0 });
  s.add(1, digest(1));
  expect(api.batches).toHaveLength(0);
  const job = await s.take();
  expect(job?.partNumber).toBe(1);
  expect(api.batches.map((b) => b.length)).toEqual([1]);
});

test('the hashing pass may run only `window` parts ahead of the uploaders', async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 3, batchSize: 2, lowWater: 1, expiryMarginMs: 0 });
  let added = 0;
  const hasher = (async () => {
    for (let n = 1; n <= 10; n++) {
      if (!(await s.waitForRoom())) return;
      s.add(n, digest(n));
      added = n;
    }
    s.end();
  })();
  await flush();
  expect(added).toBe(3);
  expect(s.outstanding).toBe(3);
  await s.take();
  await flush();
  expect(added).toBe(4);
  const rest = await drain(s);
  await hasher;
  expect(rest).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('URLs close to expiry are fetched again instead of handed out', async () => {
  const api = fakeApi(900);
  let now = 1_000_000;
  const initial: PartUrl[] = [{ part_number: 1, url: 'https://s3/1?init', headers: {} }];
  const s = new UrlSupplier({
    fetchUrls: api.fetchUrls, initialUrls: initial, initialExpiresAt: now + 30_000, window: 10, batchSize: 1, lowWater: 0, expiryMarginMs: 60_000, now: () => now,
  });
  s.add(1, digest(1)); // init URL expires within the margin: not used
  s.add(2, digest(2));
  await flush();
  now += 850_000; // the bound URLs (900 s) now have 50 s left: both fetched again at take time
  const j1 = await s.take();
  expect(j1?.url).toBe('https://s3/1?bound');
  const j2 = await s.take();
  expect(j2?.partNumber).toBe(2);
  expect(api.batches.flat().map((p) => p.part_number)).toEqual([1, 2, 1, 2]);
});

test('refresh fetches one bound URL', async () => {
  const api = fakeApi();
  const s = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 10, batchSize: 1, lowWater: 0, expiryMarginMs: 0 });
  const j = await s.refresh({ partNumber: 7, md5: digest(7) });
  expect(j).toMatchObject({ partNumber: 7, headers: { 'Content-MD5': md5Base64(digest(7)) } });
});

test('a failed batch fails the takers; close ends them quietly', async () => {
  const s = new UrlSupplier({ fetchUrls: async () => Promise.reject(new Error('api down')), window: 10, batchSize: 1, lowWater: 0, expiryMarginMs: 0 });
  const t = s.take();
  s.add(1, digest(1));
  await expect(t).rejects.toThrow('api down');
  await expect(s.take()).rejects.toThrow('api down');

  const api = fakeApi();
  api.hold();
  const s2 = new UrlSupplier({ fetchUrls: api.fetchUrls, window: 10, batchSize: 1, lowWater: 0, expiryMarginMs: 0 });
  const t2 = s2.take();
  s2.close();
  await expect(t2).resolves.toBeUndefined();
  await expect(s2.waitForRoom()).resolves.toBe(false);
});

test('a missing URL in the answer is an error', async () => {
  const s = new UrlSupplier({ fetchUrls: async () => ({ url_expires_in: 900, parts: [] }), window: 10, batchSize: 1, lowWater: 0, expiryMarginMs: 0 });
  s.add(1, digest(1));
  await expect(s.take()).rejects.toThrow('no URL for part 1');
});
