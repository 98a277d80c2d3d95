/**
 * Browser uploads in real headless Chromium (Debian's chromium, playwright-core 1.64.1): the
 * example pages of web/ served from http://localhost:<port> (local/web-server.ts), a private API
 * on the shared RGW whose gateway and bucket allow that origin by CORS (the stack's own rules,
 * local/cors.ts). The pages are the product: files are picked through `<input type="file">` and
 * the Uppy Dashboard, and what storage holds is read back by SHA-256.
 *
 * The private API runs the handlers from source: its CORS origin (a free port) changes every
 * run, and a synthesized stack per origin would miss the synth cache each time; the template's
 * CORS path is the shared cloud's (`npm run local`), proven by the preflight tests at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROUTES, routePath } from '../../contract/routes.js';
import { freeWebPort, startWebServer, webOrigin, type WebServer } from '../../local/web-server.js';
import { gateParts, launchChromium, recordPuts, until, type Chromium } from './helpers/browser.js';
import { s3Client, e2eTarget } from './helpers/cloud.js';
import { describeLocalCloud, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { parseFilePath, sha256File, sha256Object } from './helpers/storage.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;

let dir: string;
let chromium: Chromium;

function randomFile(name: string, size: number): string {
  const p = join(dir, name);
  writeFileSync(p, randomBytes(size));
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-browser-'));
  chromium = await launchChromium();
  console.log(`browser tests: ${chromium.version} (${process.env.MPU_CHROMIUM ?? '/usr/bin/chromium'}), playwright-core 1.64.1`);
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A private API allowing one page origin, and the pages served there. */
async function apiAndPages(name: string, handlerEnv: Record<string, string> = {}): Promise<{ priv: PrivateCloud; web: WebServer }> {
  const port = await freeWebPort();
  const priv = await startPrivateCloud({ privateBucket: name, cloud: { fromSource: true, corsAllowedOrigins: [webOrigin(port)], handlerEnv } });
  const web = await startWebServer({ port, config: { api_url: priv.target.apiUrl, token: priv.target.token } });
  return { priv, web };
}

async function openPage(web: WebServer, path: string): Promise<Page> {
  const page = await chromium.context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(`${web.url}/${path}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return page;
}

interface Row {
  state: string;
  bytesDone: number;
  path: string;
  error: string;
}
async function rows(page: Page): Promise<Row[]> {
  // Runs in the page (DOM types are not in the test project's lib).
  return page.$$eval('li.upload', (lis: any[]) =>
    lis.map((li) => ({
      state: li.dataset.state ?? '',
      bytesDone: Number(li.dataset.bytesDone ?? 0),
      path: li.querySelector('.path')?.textContent ?? '',
      error: li.querySelector('.error')?.textContent ?? '',
    })),
  );
}
async function waitDone(page: Page, count = 1, timeoutMs = 120_000): Promise<Row[]> {
  let last: Row[] = [];
  await until(
    `${count} upload(s) done (${JSON.stringify(last)})`,
    async () => {
      last = await rows(page);
      const failed = last.find((r) => r.state === 'failed');
      if (failed) throw new Error(`upload failed on the page: ${failed.error}`);
      return last.length === count && last.every((r) => r.state === 'done');
    },
    timeoutMs,
  );
  return last;
}
/** The engine's events of upload `i` on the page (window.mpu, the page's BrowserUploader). */
function events(page: Page, i = 0): Promise<Array<Record<string, unknown>>> {
  return page.evaluate((n) => (globalThis as any).mpu.uploads[n].events as Array<Record<string, unknown>>, i);
}

async function expectStored(priv: PrivateCloud, file: string, filePath: string): Promise<void> {
  const { bucket, key } = parseFilePath(filePath);
  expect(bucket).toBe(priv.target.bucket);
  expect(await sha256Object(s3Client(priv.target), bucket, key)).toBe(await sha256File(file));
}

describeLocalCloud('the example page in Chromium', () => {
  let priv: PrivateCloud;
  let web: WebServer;
  beforeAll(async () => {
    ({ priv, web } = await apiAndPages('browser'));
  }, 120_000);
  afterAll(async () => {
    await web?.close();
    await priv?.stop();
  });

  test('a 48 MiB file uploads from <input type="file">; storage holds its exact bytes; s3://bucket/key shown', async () => {
    const file = randomFile('big.bin', 48 * MiB + 123);
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=4');
    const puts = recordPuts(page, priv.target.s3Endpoint!);
    await page.setInputFiles('#files', file);
    const [row] = await waitDone(page);
    expect(row!.path).toMatch(new RegExp(`^s3://${priv.target.bucket}/.+big\\.bin$`));
    await expectStored(priv, file, row!.path);
    // 10 parts, each sent once with its MD5 bound in.
    expect(puts.filter((p) => p.status === 200).map((p) => p.part).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await page.close();
  }, 180_000);

  test('reload mid-upload, then the same file picked again: only the parts storage lacks are sent', async () => {
    const file = randomFile('reload.bin', 40 * MiB);
    const total = 8;
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=2');
    const before = recordPuts(page, priv.target.s3Endpoint!);
    // Parts from 4 on are held back: the reload lands mid-upload whatever the machine's speed.
    const gate = await gateParts(page, (n) => n >= 4);
    await page.setInputFiles('#files', file);
    await until('3 parts stored and the next held', () => before.filter((p) => p.status === 200).length >= 3 && gate.held > 0);
    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.waitForSelector('body[data-ready="true"]');
    const storedBefore = new Set(before.filter((p) => p.status === 200).map((p) => p.part));
    const after = recordPuts(page, priv.target.s3Endpoint!);
    await page.setInputFiles('#files', file);
    const [row] = await waitDone(page);
    await expectStored(priv, file, row!.path);
    const ev = await events(page);
    const session = ev.find((e) => e.type === 'session')!;
    expect(ev.some((e) => e.type === 'auto_resume')).toBe(true);
    expect(session.resumed).toBe(true);
    const stored = session.stored_parts as number;
    expect(stored).toBe(storedBefore.size);
    const sentAfter = after.filter((p) => p.status === 200).map((p) => p.part);
    // Exactly the missing parts, each once; none storage already held.
    expect(sentAfter).toHaveLength(total - stored);
    expect(new Set(sentAfter).size).toBe(sentAfter.length);
    expect(sentAfter.filter((n) => storedBefore.has(n))).toEqual([]);
    console.log(`reload: ${stored} of ${total} parts stored before the reload (found again by status), ${sentAfter.length} PUT after it`);
    await page.close();
  }, 180_000);

  test('offline mid-upload (context.setOffline): the upload continues once back online', async () => {
    const file = randomFile('offline.bin', 30 * MiB);
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=2');
    const puts = recordPuts(page, priv.target.s3Endpoint!);
    let failed = 0;
    page.on('requestfailed', () => failed++);
    const gate = await gateParts(page, (n) => n >= 3);
    await page.setInputFiles('#files', file);
    await until('2 parts stored and the next held', () => puts.filter((p) => p.status === 200).length >= 2 && gate.held > 0);
    await chromium.context.setOffline(true);
    gate.release();
    await until('a request failing offline', () => failed > 0, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await rows(page))[0]!.state).not.toBe('done');
    await chromium.context.setOffline(false);
    const [row] = await waitDone(page);
    await expectStored(priv, file, row!.path);
    await page.close();
  }, 180_000);

  test('a part corrupted on the way is refused by storage (BadDigest) and sent again', async () => {
    const file = randomFile('corrupt.bin', 12 * MiB);
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=2');
    const puts = recordPuts(page, priv.target.s3Endpoint!);
    let corrupted = 0;
    // Flip one byte of part 2's body once; its Content-MD5 (bound into the URL) stays the page's.
    await page.route(
      (u) => u.searchParams.get('partNumber') === '2',
      async (route) => {
        const body = route.request().postDataBuffer();
        if (route.request().method() !== 'PUT' || corrupted > 0 || !body) return route.continue();
        corrupted++;
        body[1000] = body[1000]! ^ 0xff;
        await route.continue({ postData: body });
      },
    );
    await page.setInputFiles('#files', file);
    const [row] = await waitDone(page);
    await expectStored(priv, file, row!.path);
    expect(corrupted).toBe(1);
    expect(puts.filter((p) => p.part === 2).map((p) => p.status)).toEqual([400, 200]);
    const retry = (await events(page)).find((e) => e.type === 'retry' && e.part_number === 2);
    expect(String(retry?.reason)).toMatch(/BadDigest/);
    await page.close();
  }, 120_000);

  test('two files at once, each with its own progress and s3:// path; a screenshot mid-upload and done', async () => {
    const a = randomFile('first.bin', 20 * MiB);
    const b = randomFile('second.bin', 11 * MiB + 5);
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=2');
    // Each file's part 1 goes through, the rest wait: both are then visibly in progress together.
    const gate = await gateParts(page, (n) => n >= 2);
    await page.setInputFiles('#files', [a, b]);
    let seen: Row[] = [];
    await until(
      'both files with a part stored',
      async () => (seen = await rows(page)).filter((r) => r.bytesDone > 0 && r.state === 'uploading').length === 2,
      90_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(seen)}`);
    });
    const shots = process.env.MPU_UPDATE_SCREENSHOTS ? join(process.cwd(), 'docs') : dir;
    await page.screenshot({ path: join(shots, 'browser-upload-mid.png') });
    gate.release();
    const done = await waitDone(page, 2);
    await page.screenshot({ path: join(shots, 'browser-upload-done.png') });
    const byName = (n: string) => done.find((r) => r.path.endsWith(n))!.path;
    await expectStored(priv, a, byName('first.bin'));
    await expectStored(priv, b, byName('second.bin'));
    await page.close();
  }, 180_000);

  test('pause and resume: parts in flight finish, nothing is sent while paused, progress never goes back', async () => {
    const file = randomFile('pause.bin', 30 * MiB);
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=2');
    const puts = recordPuts(page, priv.target.s3Endpoint!);
    const seen: number[] = [];
    await page.exposeFunction('mpuProgress', (n: number) => seen.push(n));
    await page.evaluate(() => {
      const g = globalThis as any;
      const obs = new g.MutationObserver(() => {
        const li = g.document.querySelector('li.upload');
        if (li) g.mpuProgress(Number(li.dataset.bytesDone ?? 0));
      });
      obs.observe(g.document.body, { subtree: true, attributes: true, attributeFilter: ['data-bytes-done'] });
    });
    const gate = await gateParts(page, (n) => n >= 3);
    await page.setInputFiles('#files', file);
    await until('2 parts stored and the next held', () => puts.filter((p) => p.status === 200).length >= 2 && gate.held > 0);
    await page.click('li.upload button.pause');
    // The held parts were in flight: they finish, then the upload stops.
    gate.release();
    await page.waitForSelector('li.upload[data-state="paused"]', { timeout: 60_000 });
    const whilePaused = puts.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(puts.length).toBe(whilePaused);
    expect(whilePaused).toBeLessThan(6);
    await page.click('li.upload button.resume');
    const [row] = await waitDone(page);
    await expectStored(priv, file, row!.path);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(puts.filter((p) => p.status === 200)).toHaveLength(6);
    await page.close();
  }, 180_000);

  test('the Uppy Dashboard page (@uppy/aws-s3 5.x custom functions) uploads, pauses and resumes', async () => {
    const file = randomFile('uppy.bin', 30 * MiB);
    const page = await openPage(web, 'uppy.html?chunk=5MiB&concurrency=2');
    const puts = recordPuts(page, priv.target.s3Endpoint!);
    // Slow storage answers down (1 s per part) so the pause lands mid-upload.
    await page.route(
      (u) => u.searchParams.has('partNumber'),
      async (route) => {
        await new Promise((r) => setTimeout(r, 1000));
        await route.continue();
      },
    );
    await page.setInputFiles('.uppy-Dashboard-input >> nth=0', file);
    await page.click('.uppy-StatusBar-actionBtn--upload');
    await until('2 parts stored', () => puts.filter((p) => p.status === 200).length >= 2);
    await page.click('.uppy-StatusBar-actionCircleBtn[title="Pause"]');
    const paused = puts.filter((p) => p.status === 200).length;
    await new Promise((r) => setTimeout(r, 2500));
    const settled = puts.filter((p) => p.status === 200).length;
    await new Promise((r) => setTimeout(r, 1500));
    // Nothing new starts while paused.
    expect(puts.filter((p) => p.status === 200).length).toBe(settled);
    await page.click('.uppy-StatusBar-actionCircleBtn[title="Resume"]');
    await page.waitForSelector('li.done', { timeout: 120_000 });
    const text = await page.textContent('li.done');
    const path = text!.slice(text!.indexOf('s3://'));
    await expectStored(priv, file, path);
    const stored = puts.filter((p) => p.status === 200).map((p) => p.part);
    expect(new Set(stored)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    console.log(`uppy: paused after ${paused} parts, ${stored.length} part PUTs in all`);
    await page.close();
  }, 180_000);

  test('storage (RGW 16.2.15) answers the preflight of a presigned part URL for the allowed origin only', async () => {
    const t = priv.target;
    const init = await fetch(`${t.apiUrl}${routePath('init', {})}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'preflight.bin', file_size: CHUNK }),
    }).then((r) => r.json() as Promise<{ parts: Array<{ url: string }> }>);
    const url = init.parts[0]!.url;
    const preflight = (origin: string) =>
      fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-md5' } });
    const ok = await preflight(web.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(web.url);
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/PUT/);
    expect((ok.headers.get('access-control-expose-headers') ?? '').toLowerCase()).toMatch(/etag/);
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('the API answers preflights for the allowed origin and exposes Retry-After', async () => {
    const t = priv.target;
    const path = routePath('init', {});
    const method = ROUTES.find((r) => r.id === 'init')!.method;
    const pre = (origin: string) =>
      fetch(`${t.apiUrl}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,idempotency-key' } });
    const ok = await pre(web.url);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(web.url);
    expect(ok.headers.get('access-control-allow-headers')).toBe('authorization,content-type,idempotency-key');
    expect((await pre('http://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const status = await fetch(`${t.apiUrl}${routePath('status', { session_id: 'nope' })}`, { headers: { origin: web.url, authorization: `Bearer ${t.token}` } });
    expect(status.headers.get('access-control-allow-origin')).toBe(web.url);
    expect(status.headers.get('access-control-expose-headers')).toBe('retry-after');
  });
});

describeLocalCloud('part URLs that live 15 s', () => {
  let priv: PrivateCloud;
  let web: WebServer;
  beforeAll(async () => {
    ({ priv, web } = await apiAndPages('browser-expiry', { URL_EXPIRY_SECONDS: '15' }));
  }, 120_000);
  afterAll(async () => {
    await web?.close();
    await priv?.stop();
  });

  test('a URL that expired before its PUT reached storage is refused, refreshed, and the part sent', async () => {
    const file = randomFile('expiry.bin', 15 * MiB);
    const page = await openPage(web, 'upload.html?chunk=5MiB&concurrency=1');
    const puts = recordPuts(page, priv.target.s3Endpoint!);
    let held = 0;
    // Part 2's first PUT is held 17 s before it goes on to storage: its URL has expired by then.
    // (15 s, not less: on a loaded machine an API answer or a PUT may take seconds, and a URL
    // must outlive that.)
    await page.route(
      (u) => u.searchParams.get('partNumber') === '2',
      async (route) => {
        if (route.request().method() === 'PUT' && held++ === 0) await new Promise((r) => setTimeout(r, 17_000));
        await route.continue();
      },
    );
    let part2Puts = 0;
    page.on('request', (r) => {
      if (r.method() === 'PUT' && new URL(r.url()).searchParams.get('partNumber') === '2') part2Puts++;
    });
    await page.setInputFiles('#files', file);
    const [row] = await waitDone(page);
    await expectStored(priv, file, row!.path);
    // RGW refuses the expired URL with a 403 that carries no CORS headers: the page cannot read
    // it, so the lapsed URL itself says what happened (UrlLapsedError -> a fresh URL).
    expect(part2Puts).toBeGreaterThanOrEqual(2);
    expect(puts.filter((p) => p.part === 2).map((p) => p.status).pop()).toBe(200);
    expect((await events(page)).some((e) => e.type === 'refresh' && e.part_number === 2)).toBe(true);
    await page.close();
  }, 120_000);
});

describeLocalCloud('the shared local cloud (npm run local)', () => {
  test('serves the pages at web_url, and its synthesized CORS lets that origin PUT parts (RGW preflight)', async () => {
    const t = e2eTarget();
    const { readFileSync } = await import('node:fs');
    const endpoints = JSON.parse(readFileSync(t.endpointsFile, 'utf8')) as { web_url?: string };
    expect(endpoints.web_url).toMatch(/^http:\/\/localhost:\d+$/);
    const page = await fetch(`${endpoints.web_url}/upload.html`);
    expect(page.status).toBe(200);
    const config = (await fetch(`${endpoints.web_url}/config.json`).then((r) => r.json())) as { api_url: string };
    expect(config.api_url).toBe(t.apiUrl);
    const init = await fetch(`${t.apiUrl}${routePath('init', {})}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json', origin: endpoints.web_url! },
      body: JSON.stringify({ filename: 'preflight.bin', file_size: CHUNK }),
    });
    expect(init.headers.get('access-control-allow-origin')).toBe(endpoints.web_url);
    const { parts } = (await init.json()) as { parts: Array<{ url: string }> };
    const ok = await fetch(parts[0]!.url, { method: 'OPTIONS', headers: { origin: endpoints.web_url!, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-md5' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(endpoints.web_url);
  });
});
