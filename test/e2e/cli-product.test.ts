/**
 * The CLI as a product, through the real process against real storage: part URLs that expire
 * mid-upload are re-signed, several files go in one command with one JSON result each, and
 * Ctrl-C stops cleanly with a resumable session.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { MiB } from '../../contract/limits.js';
import { s3Client, type E2ETarget } from './helpers/cloud.js';
import { describeLocalCloud, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { finish, lastJson, mpu, waitUntil } from './helpers/procs.js';
import { parseFilePath, sha256File, sha256Object } from './helpers/storage.js';

let dir: string;
const stored: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-cli-product-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomFile(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, randomBytes(size));
  return path;
}

function upload(t: E2ETarget, files: string[], extra: string[] = []) {
  return mpu(['upload', ...files, '--api', t.apiUrl, ...(t.token ? ['--token', t.token] : []), '--no-progress', ...extra], {
    MPU_STATE_DIR: join(dir, 'state'),
  });
}

async function expectStored(t: E2ETarget, file: string, filePath: string): Promise<void> {
  stored.push(filePath);
  const { bucket, key } = parseFilePath(filePath);
  expect(await sha256Object(s3Client(t), bucket, key)).toBe(await sha256File(file));
}

async function cleanup(t: E2ETarget): Promise<void> {
  for (const filePath of stored.splice(0)) {
    const { bucket, key } = parseFilePath(filePath);
    await s3Client(t).send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
}

describeLocalCloud('mpu upload on a private API whose part URLs live 2 s', () => {
  let priv: PrivateCloud;
  beforeAll(async () => {
    // Storage checks SigV4 expiry itself: a URL used after 2 s is refused with 403.
    priv = await startPrivateCloud({ settings: { urlExpirySeconds: 2 } });
  }, 120_000);
  afterAll(async () => {
    await cleanup(priv.target);
    await priv?.stop();
  });

  test('an upload that outlives its URLs many times over re-signs them and stores the exact object', async () => {
    // 40 MiB at 8 MiB/s takes about 5 s: every part after the first seconds needs a URL signed
    // after init's have expired (storage refuses expired ones, see local-cloud.test.ts).
    const file = randomFile('slow.bin', 40 * MiB);
    const run = upload(priv.target, [file], ['--json', '-v', '--limit-rate', '8MiB', '--concurrency', '2']);
    expect(await finish(run, 90_000)).toBe(0);
    const r = lastJson(run.stdout);
    expect(r).toMatchObject({ ok: true, size: 40 * MiB, parts_sent: 8 });
    expect(r.timings.upload_ms).toBeGreaterThan(2 * 2000);
    await expectStored(priv.target, file, r.file_path as string);
  }, 120_000);
});

describeLocalCloud('mpu upload against the shared local cloud', () => {
  let priv: PrivateCloud;
  beforeAll(async () => {
    priv = await startPrivateCloud();
  }, 120_000);
  afterAll(async () => {
    await cleanup(priv.target);
    await priv?.stop();
  });

  test('two files in one command: one JSON result per file, both verified', async () => {
    const a = randomFile('a.bin', 11 * MiB + 7);
    const b = randomFile('b.bin', 3 * MiB);
    const run = upload(priv.target, [a, b], ['--json']);
    expect(await finish(run, 90_000)).toBe(0);
    const results = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(results).toHaveLength(2);
    expect(results.map((r) => [r.ok, r.size])).toEqual([
      [true, 11 * MiB + 7],
      [true, 3 * MiB],
    ]);
    expect(results[0]!.session_id).not.toBe(results[1]!.session_id);
    await expectStored(priv.target, a, results[0]!.file_path as string);
    await expectStored(priv.target, b, results[1]!.file_path as string);
  }, 120_000);

  test('Ctrl-C stops with exit 130 and a resume hint; the same command then finishes the upload', async () => {
    const file = randomFile('interrupted.bin', 48 * MiB);
    const first = upload(priv.target, [file], ['--limit-rate', '12MiB']);
    await waitUntil(() => /session [A-Za-z0-9_-]{22}/.test(first.stderr), 'the session id', 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGINT');
    expect(await finish(first, 60_000)).toBe(130);
    expect(first.stderr).toMatch(/to resume/);

    const second = upload(priv.target, [file], ['--json']);
    expect(await finish(second, 90_000)).toBe(0);
    const r = lastJson(second.stdout);
    expect(r).toMatchObject({ ok: true, resumed: true, size: 48 * MiB });
    expect(r.parts_sent).toBeLessThan(10);
    await expectStored(priv.target, file, r.file_path as string);
  }, 150_000);
});
