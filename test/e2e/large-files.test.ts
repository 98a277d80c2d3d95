/**
 * Files above 10,000 x 5 MiB with default settings (issue 9, defect 2), against real storage and
 * a real table: init plans them within S3's limits, 5 TiB + 1 byte is too large, and the real
 * `mpu` CLI plans a sparse 60 GiB file (no bytes written) the same way. No large upload is made:
 * every session is aborted, so nothing is left in storage.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { GiB, MiB, S3_LIMITS, TiB } from '../../contract/limits.js';
import { routePath } from '../../contract/routes.js';
import { abortQuietly, call } from './helpers/api.js';
import { e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { finish, lastJson, mpu as runMpu, waitUntil, type Run } from './helpers/procs.js';

let ep: E2ETarget;
let dir: string;
/** Sessions a failing test may leave open: aborted at the end whatever happened. */
const opened = new Set<string>();
beforeAll(() => {
  ep = e2eTarget();
  dir = mkdtempSync(join(tmpdir(), 'mpu-large-e2e-'));
});
afterAll(async () => {
  await abortQuietly(ep, opened);
  rmSync(dir, { recursive: true, force: true });
});

const filename = (tag: string) => `large-${tag}-${Date.now()}.bin`;

/** Multipart uploads storage holds for a session (none once it is aborted). */
async function uploadsOf(sessionId: string): Promise<string[]> {
  const r = await s3Client(ep).send(new ListMultipartUploadsCommand({ Bucket: ep.bucket }));
  return (r.Uploads ?? []).map((u) => u.Key ?? '').filter((k) => k.includes(sessionId));
}

describe('init without chunk_size', () => {
  test.each([
    ['100 GiB', 100 * GiB, 11 * MiB, 9310],
    ['5 TiB (S3 largest object)', 5 * TiB, 525 * MiB, 9987],
  ])('%s: 201 within S3 limits; abort leaves nothing', async (_name, fileSize, chunkSize, totalParts) => {
    const r = await call(ep, 'POST', routePath('init'), { json: { filename: filename('init'), file_size: fileSize } });
    expect({ status: r.status, text: r.text }).toEqual({ status: 201, text: expect.any(String) });
    const sid = r.body.session_id as string;
    opened.add(sid);
    expect(r.body).toMatchObject({ chunk_size: chunkSize, total_parts: totalParts });
    expect(r.body.total_parts).toBeLessThanOrEqual(S3_LIMITS.maxParts);
    expect(r.body.chunk_size).toBeGreaterThanOrEqual(S3_LIMITS.minPartSize);
    expect(r.body.chunk_size).toBeLessThanOrEqual(S3_LIMITS.maxPartSize);
    expect(r.body.chunk_size * r.body.total_parts).toBeGreaterThanOrEqual(fileSize);
    expect(await uploadsOf(sid)).toHaveLength(1);

    const aborted = await call(ep, 'DELETE', routePath('abort', { session_id: sid }));
    expect(aborted.status).toBe(200);
    opened.delete(sid);
    expect(await uploadsOf(sid)).toEqual([]);
  });

  test('5 TiB + 1 byte: 413 file_too_large', async () => {
    const r = await call(ep, 'POST', routePath('init'), { json: { filename: filename('over'), file_size: 5 * TiB + 1 } });
    if (r.status === 201) opened.add(r.body.session_id as string);
    expect([r.status, r.body?.error]).toEqual([413, 'file_too_large']);
  });

  test('an explicit chunk_size too small for 10,000 parts: 400 naming the size that fits', async () => {
    const r = await call(ep, 'POST', routePath('init'), { json: { filename: filename('small'), file_size: 60 * GiB, chunk_size: 5 * MiB } });
    if (r.status === 201) opened.add(r.body.session_id as string);
    expect([r.status, r.body?.error]).toEqual([400, 'validation_error']);
    expect(r.body.message).toContain(`at least ${7 * MiB} bytes`);
  });
});

describe('mpu upload of a sparse 60 GiB file', () => {
  let file: string;
  beforeAll(() => {
    file = join(dir, 'sparse-60g.bin');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 60 * GiB);
    closeSync(fd);
  });
  const mpu = (args: string[]): Run => runMpu(args, { MPU_STATE_DIR: join(dir, 'state'), MPU_ENDPOINTS_FILE: ep.endpointsFile });

  test('without --chunk-size it is planned at 8 MiB x 7680 parts; interrupted, then aborted', async () => {
    // Slow and narrow, so at most a part or two is sent before the interrupt.
    const run = mpu(['upload', file, '--no-progress', '--concurrency', '1', '--limit-rate', '8MiB']);
    try {
      await waitUntil(() => /session [A-Za-z0-9_-]{22} \(/.test(run.stderr) || run.child.exitCode !== null, 'the session line', 60_000);
      expect(run.stderr).toMatch(/session [A-Za-z0-9_-]{22} \(60\.0 GiB, 7680 parts of 8\.0 MiB\)/);
      const sid = /session ([A-Za-z0-9_-]{22}) \(/.exec(run.stderr)![1]!;
      opened.add(sid);

      run.child.kill('SIGINT');
      expect(await finish(run, 60_000)).toBe(130);
      expect(run.stderr).toContain(`to resume: run the same command again, or mpu upload ${file} --resume ${sid}`);

      const st = mpu(['status', sid]);
      expect(await finish(st, 30_000)).toBe(0);
      expect(st.stdout).toContain(`session ${sid}: in_progress`);
      expect(st.stdout).toContain('60.0 GiB in 7680 parts of 8.0 MiB');
      const json = mpu(['status', sid, '--json']);
      expect(await finish(json, 30_000)).toBe(0);
      expect(lastJson(json.stdout)).toMatchObject({ chunk_size: 8 * MiB, total_parts: 7680, file_size: 60 * GiB });

      const ab = mpu(['abort', sid]);
      expect(await finish(ab, 30_000)).toBe(0);
      opened.delete(sid);
      expect(await uploadsOf(sid)).toEqual([]);
      const listed = mpu(['list', '--json']);
      expect(await finish(listed, 30_000)).toBe(0);
      expect(listed.stdout).toBe('');
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  }, 180_000);

  test('a --chunk-size too small for 10,000 parts is a usage error naming the one that fits', async () => {
    const run = mpu(['upload', file, '--chunk-size', '5MiB', '--no-progress']);
    expect(await finish(run, 60_000)).toBe(2);
    expect(run.stderr).toContain('Use a chunk size of at least 7MiB');
  }, 90_000);
});
