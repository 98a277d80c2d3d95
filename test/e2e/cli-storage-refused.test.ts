/**
 * Storage refusing part writes for a reason no fresh URL fixes, through the real `mpu` CLI
 * against real Ceph RGW: a full bucket quota (403 QuotaExceeded). The CLI must fail within
 * seconds with exit 8 and the cause, keep the session, and finish it once space is freed.
 *
 * Its own small local cloud (its own Ceph with a 64 MiB memstore, whose bucket quota is 75 % of
 * it, see local/ceph.ts): filling the shared cloud's quota would starve every other test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MiB } from '../../contract/limits.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { localS3Client } from '../../local/resources.js';
import { describeLocalCloud } from './helpers/private-cloud.js';
import { finish, lastJson, mpu } from './helpers/procs.js';
import { parseFilePath, sha256File, sha256Object } from './helpers/storage.js';

const MEMSTORE = 64 * MiB;
/** The bucket quota local/ceph.ts sets for a memstore of this size. */
const QUOTA = Math.floor(MEMSTORE * 0.75);

describeLocalCloud('storage refuses the parts (a full bucket quota on a small Ceph of its own)', () => {
  let work: string;
  let cloud: LocalCloud;
  let s3: S3Client;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mpu-refused-'));
    cloud = await startLocalCloud({ memstoreBytes: MEMSTORE, endpointsFile: false, skipDependencyCheck: true });
    const e = cloud.endpoints;
    s3 = localS3Client(e.s3_endpoint, e.region, { accessKeyId: e.access_key_id, secretAccessKey: e.secret_access_key });
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await cloud?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  function upload(file: string) {
    const e = cloud.endpoints;
    return mpu(['upload', file, '--api', e.api_url, ...(e.token ? ['--token', e.token] : []), '--no-progress', '--json', '-v'], {
      MPU_STATE_DIR: join(work, 'state'),
      XDG_CONFIG_HOME: join(work, 'config'),
    });
  }

  test('QuotaExceeded fails in seconds with exit 8 and the cause, no URL refreshes; once space is freed the same command finishes', async () => {
    const e = cloud.endpoints;
    // Room for the multipart upload's own metadata, not for one 5 MiB part.
    await s3.send(new PutObjectCommand({ Bucket: e.bucket, Key: 'filler.bin', Body: randomBytes(QUOTA - 2 * MiB) }));
    const file = join(work, 'refused.bin');
    writeFileSync(file, randomBytes(12 * MiB));

    const t0 = Date.now();
    const refused = upload(file);
    const code = await finish(refused, 90_000);
    const ms = Date.now() - t0;
    process.stderr.write(`[storage-refused] mpu exited ${code} after ${ms} ms\n`);
    expect(refused.stderr).toMatch(/storage refused part \d+: QuotaExceeded: the bucket's storage quota is full/);
    expect(refused.stderr).not.toMatch(/fresh URL|retrying PUT/);
    expect(code).toBe(8);
    // The process itself ends at once (the client's start-up is most of this).
    expect(ms).toBeLessThan(10_000);
    const failed = lastJson(refused.stdout);
    expect(failed).toMatchObject({ ok: false, error: 'QuotaExceeded', exit_code: 8, session_id: expect.any(String) });

    await s3.send(new DeleteObjectCommand({ Bucket: e.bucket, Key: 'filler.bin' }));
    const again = upload(file);
    const againCode = await finish(again, 90_000);
    if (againCode !== 0) process.stderr.write(again.stderr + again.stdout);
    expect(againCode).toBe(0);
    const r = lastJson(again.stdout);
    expect(r).toMatchObject({ ok: true, session_id: failed.session_id, resumed: true, size: 12 * MiB });
    const { bucket, key } = parseFilePath(r.file_path as string);
    expect(await sha256Object(s3, bucket, key)).toBe(await sha256File(file));
  }, 180_000);
});
