/**
 * Adaptive concurrency with the real `mpu` CLI at default settings, on a link where more parts in
 * parallel pay: part URLs are presigned for a shaping proxy in front of the shared RGW (40 ms
 * RTT, 2 MiB/s per connection, no link cap), so each connection is slow and the count must grow.
 * The API is behind a second proxy, 200 ms away: the client measures that round trip (the API's
 * Server-Timing header taken off its wait) and starts at 32, as it does far from the API.
 * The result's trace shows the path; the stored object is the file; the memory budget bounds it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { MiB } from '../../contract/limits.js';
import { startShapingProxy, type ShapingProxy } from '../../bench/lib/proxy.js';
import { s3Client } from './helpers/cloud.js';
import { describeLocalCloud, sharedLocalTarget, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { finish, lastJson, mpu } from './helpers/procs.js';
import { parseFilePath, sha256File, sha256Object } from './helpers/storage.js';

jest.setTimeout(180_000);

let work: string;
let proxy: ShapingProxy;
let apiProxy: ShapingProxy;
let priv: PrivateCloud;
let s3: S3Client;

describeLocalCloud('adaptive concurrency through a shaped link', () => {
  beforeAll(async () => {
    const shared = new URL(sharedLocalTarget().s3Endpoint!);
    work = mkdtempSync(join(tmpdir(), 'mpu-adaptive-'));
    proxy = await startShapingProxy({ target: { host: shared.hostname, port: Number(shared.port) }, rttMs: 40, connBytesPerSec: 2 * MiB });
    priv = await startPrivateCloud({ settings: { s3PublicEndpoint: proxy.url } });
    const api = new URL(priv.target.apiUrl);
    apiProxy = await startShapingProxy({ target: { host: api.hostname, port: Number(api.port) }, rttMs: 200, connBytesPerSec: 0 });
    s3 = s3Client(priv.target);
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await priv?.stop();
    await proxy?.close();
    await apiProxy?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  test('defaults: 200 ms from the API starts at 32, grows while it pays, stays within --max-memory; the object is the file', async () => {
    // 48 parts of 5 MiB (more than the start, so growth can show; a file this size would get 8 MiB
    // parts by default, fewer than the start).
    const size = 240 * MiB;
    const file = join(work, 'adaptive.bin');
    writeFileSync(file, randomBytes(size));
    const t = priv.target;
    // 200 MiB of 5 MiB part buffers: 40, two of them for the read-ahead, so at most 38 parts in flight.
    const run = mpu(['upload', file, '--api', apiProxy.url, ...(t.token ? ['--token', t.token] : []), '--json', '-v', '--no-progress', '--no-state', '--chunk-size', '5MiB', '--max-memory', '200MiB']);
    const code = await finish(run, 150_000);
    if (code !== 0) throw new Error(`mpu exited ${code}:\n${run.stderr.slice(-4000)}`);
    const r = lastJson(run.stdout);
    expect(r).toMatchObject({ ok: true, size, chunk_size: 5 * MiB });
    expect(r.concurrency).toMatchObject({ mode: 'auto', initial: 32 });
    // The round trip it measured: the proxy's 200 ms, plus what the gateway adds outside the handler.
    expect(r.concurrency.rtt_ms).toBeGreaterThanOrEqual(195);
    const trace = r.concurrency.trace as { t_ms: number; n: number }[];
    // 32 connections of 2 MiB/s do not fill this link: slow start doubled (capped by the budget).
    expect(r.concurrency.max).toBe(38);
    expect(trace.every((p) => p.n >= 1 && p.n <= 38)).toBe(true);
    expect(trace.every((p, i) => i === 0 || p.t_ms >= trace[i - 1]!.t_ms)).toBe(true);
    // -v tells each change with its reason.
    expect(run.stderr).toMatch(/parts in flight 32 -> 38 \(slow-start, [\d.]+ MiB\/s\)/);
    const { bucket, key } = parseFilePath(r.file_path);
    expect(await sha256Object(s3, bucket, key)).toBe(await sha256File(file));
  });
});
