/**
 * Memory of a browser upload: the page's JS heap while Chromium uploads 1 GiB from
 * `<input type="file">` stays within concurrency x part size + 64 MiB. Measured with CDP
 * Runtime.getHeapUsage every 200 ms: the V8 heap in use plus ArrayBuffer backing stores (where
 * part bytes live), so the parts in memory are counted. The MD5 worker's heap is its own.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeWebPort, startWebServer, webOrigin, type WebServer } from '../../local/web-server.js';
import { launchChromium, until, type Chromium } from './helpers/browser.js';
import { s3Client } from './helpers/cloud.js';
import { describeLocalCloud, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { headObject, parseFilePath } from './helpers/storage.js';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const CHUNK = 8 * MiB;
const CONCURRENCY = 4;
const BOUND = CONCURRENCY * CHUNK + 64 * MiB;

describeLocalCloud('memory of a 1 GiB browser upload', () => {
  let dir: string;
  let chromium: Chromium;
  let priv: PrivateCloud;
  let web: WebServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mpu-browser-mem-'));
    chromium = await launchChromium();
    console.log(`browser memory test: ${chromium.version}`);
    const port = await freeWebPort();
    priv = await startPrivateCloud({ privateBucket: 'browser-mem', cloud: { fromSource: true, corsAllowedOrigins: [webOrigin(port)] } });
    web = await startWebServer({ port, config: { api_url: priv.target.apiUrl, token: priv.target.token } });
  }, 120_000);
  afterAll(async () => {
    await chromium?.close();
    await web?.close();
    await priv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`JS heap + array buffers <= ${CONCURRENCY} x ${CHUNK / MiB} MiB + 64 MiB`, async () => {
    const file = join(dir, 'one-gib.bin');
    const fd = openSync(file, 'w');
    const block = randomBytes(64 * MiB);
    // Each 64 MiB block differs in its first bytes: no two parts are equal.
    for (let i = 0; i < SIZE / block.length; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
    closeSync(fd);

    const page = await chromium.context.newPage();
    await page.goto(`${web.url}/upload.html?chunk=${CHUNK / MiB}MiB&concurrency=${CONCURRENCY}`);
    await page.waitForSelector('body[data-ready="true"]');
    const cdp = await chromium.context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const samples: Array<{ used: number; backing: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const h = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number; backingStorageSize?: number };
        samples.push({ used: h.usedSize, backing: h.backingStorageSize ?? 0 });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const t0 = Date.now();
    await page.setInputFiles('#files', file);
    let state = '';
    await until(
      'the 1 GiB upload to finish',
      async () => {
        state = await page.$eval('li.upload', (li: any) => `${li.dataset.state}`);
        if (state === 'failed') throw new Error(await page.$eval('li.upload .error', (e: any) => e.textContent));
        return state === 'done';
      },
      540_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const perfMemory = await page.evaluate(() => (performance as any).memory?.usedJSHeapSize as number | undefined);
    const path = await page.$eval('li.upload .path', (e: any) => e.textContent as string);
    const { bucket, key } = parseFilePath(path);
    expect((await headObject(s3Client(priv.target), bucket, key))?.size).toBe(SIZE);

    const peak = samples.reduce((m, s) => Math.max(m, s.used + s.backing), 0);
    const peakUsed = samples.reduce((m, s) => Math.max(m, s.used), 0);
    const peakBacking = samples.reduce((m, s) => Math.max(m, s.backing), 0);
    const mib = (n: number) => (n / MiB).toFixed(1);
    console.log(
      `browser memory: 1 GiB in ${seconds.toFixed(1)} s (${(1024 / seconds).toFixed(1)} MiB/s), ${samples.length} samples; ` +
        `peak heap+buffers ${mib(peak)} MiB (heap ${mib(peakUsed)} MiB, array buffers ${mib(peakBacking)} MiB), ` +
        `bound ${mib(BOUND)} MiB; performance.memory.usedJSHeapSize at the end ${perfMemory === undefined ? 'n/a' : mib(perfMemory)} MiB`,
    );
    expect(samples.length).toBeGreaterThan(5);
    // The backing stores are reported (Chromium 156): otherwise part buffers would go unseen.
    expect(peakBacking).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(BOUND);
    await page.close();
  }, 600_000);
});
