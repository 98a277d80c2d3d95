/**
 * API calls per upload (issue 13): at most ceil(parts / 100) + 3 (init, the `/parts` batches,
 * complete), counted in the local gateway's log while the real `mpu` CLI uploads files of 205 and
 * 1,050 parts. Its own local cloud with a 64 KiB multipart minimum (RGW and handlers), so that
 * many parts cost a few MiB, and so that the log holds only this file's requests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KiB, MiB } from '../../contract/limits.js';
import { routeKey } from '../../contract/routes.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { GATEWAY_LOG_FILE, parseLog } from '../../local/gateway-log.js';
import { localS3Client } from '../../local/resources.js';
import { describeLocalCloud } from './helpers/private-cloud.js';
import { finish, lastJson, mpu, waitUntil } from './helpers/procs.js';
import { parseFilePath, sha256File, sha256Object } from './helpers/storage.js';

const PART = 64 * KiB;

describeLocalCloud('API calls per upload, counted in the gateway log', () => {
  let work: string;
  let cloud: LocalCloud;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mpu-api-calls-'));
    cloud = await startLocalCloud({ minPartSize: PART, memstoreBytes: 512 * MiB, endpointsFile: false, skipDependencyCheck: true });
  }, 180_000);

  afterAll(async () => {
    await cloud?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  const gatewayLog = () => parseLog(readFileSync(join(cloud.dir, GATEWAY_LOG_FILE), 'utf8'));

  test.each([205, 1050])('%i parts: init + /parts + complete <= ceil(parts / 100) + 3, the object stored exactly', async (parts) => {
    const e = cloud.endpoints;
    const file = join(work, `calls-${parts}.bin`);
    writeFileSync(file, randomBytes(parts * PART - 1000));
    const before = gatewayLog().length;

    const run = mpu(['upload', file, '--api', e.api_url, ...(e.token ? ['--token', e.token] : []), '--chunk-size', '64KiB', '--no-progress', '--json'], {
      MPU_STATE_DIR: join(work, 'state'),
      XDG_CONFIG_HOME: join(work, 'config'),
    });
    const code = await finish(run, 120_000);
    if (code !== 0) process.stderr.write(run.stderr + run.stdout);
    expect(code).toBe(0);
    const r = lastJson(run.stdout);
    expect(r).toMatchObject({ ok: true, parts_total: parts, chunk_size: PART });

    // The gateway writes its line after answering: wait for complete's.
    const calls = () => gatewayLog().slice(before).filter((c) => c.route);
    await waitUntil(() => calls().some((c) => c.route && routeKey(c.route) === 'POST /upload/{session_id}/complete'), 'the complete call in the gateway log', 10_000);
    const byRoute: Record<string, number> = {};
    for (const c of calls()) byRoute[routeKey(c.route!)] = (byRoute[routeKey(c.route!)] ?? 0) + 1;
    process.stderr.write(`[api-calls] ${parts} parts: ${JSON.stringify(byRoute)}\n`);
    expect(byRoute['POST /upload/init']).toBe(1);
    expect(byRoute['POST /upload/{session_id}/complete']).toBe(1);
    expect(calls().every((c) => c.status < 300)).toBe(true);
    expect(calls().length).toBeLessThanOrEqual(Math.ceil(parts / 100) + 3);

    const s3 = localS3Client(e.s3_endpoint, e.region, { accessKeyId: e.access_key_id, secretAccessKey: e.secret_access_key });
    try {
      const { bucket, key } = parseFilePath(r.file_path as string);
      expect(await sha256Object(s3, bucket, key)).toBe(await sha256File(file));
    } finally {
      s3.destroy();
    }
  }, 180_000);
});
