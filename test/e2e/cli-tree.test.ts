/**
 * Directories and streams through the real `mpu` CLI against the local cloud:
 * - a tree (nested folders, Unicode names, a 0-byte file, a file of exactly one part, many small
 *   files, a multi-part file) SIGKILLed mid-run and run again: every object read back by SHA-256,
 *   one session per file (completed files are never sent again), the interrupted one resumed;
 * - standard input of 52 MiB (unknown length) read back by SHA-256;
 * - hostile relative paths refused with 400, leaving no session row and no multipart upload.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { MiB } from '../../contract/limits.js';
import { call } from './helpers/api.js';
import { dynamoClient, e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { mpu as runMpu, NODE, ROOT, finish, waitUntil, type Run } from './helpers/procs.js';
import { listUploads, parseFilePath, scanSessions, sha256Object } from './helpers/storage.js';

jest.setTimeout(300_000);

const MARK = `tree-${randomBytes(4).toString('hex')}`;
let ep: E2ETarget;
let dir: string;
const stored = new Set<string>();

beforeAll(() => {
  ep = e2eTarget();
  dir = mkdtempSync(join(tmpdir(), 'mpu-tree-e2e-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const s3 = s3Client(ep);
  for (const filePath of stored) {
    const { bucket, key } = parseFilePath(filePath);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
  s3.destroy();
});

const env = () => ({ MPU_STATE_DIR: join(dir, 'state'), MPU_ENDPOINTS_FILE: ep.endpointsFile });
const mpu = (args: string[]): Run => runMpu(args, env());
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function jsonLines(stdout: string): Record<string, any>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

test('a tree killed mid-run and run again: every file stored once, verified, none sent twice', async () => {
  // Relative paths start with the run's marker, so its sessions are recognisable in a shared table.
  const root = join(dir, 'tree');
  const top = join(root, MARK);
  const files = new Map<string, Buffer>();
  const put = (rel: string, data: Buffer) => {
    mkdirSync(join(top, rel, '..'), { recursive: true });
    writeFileSync(join(top, rel), data);
    files.set(`${MARK}/${rel}`, data);
  };
  put('a/empty.bin', Buffer.alloc(0));
  put('a/b/exact-part.bin', randomBytes(5 * MiB));
  put('ünïcødé/日本語 ファイル.txt', Buffer.from('こんにちは\n'));
  put('ünïcødé/Café Ω/naïve.md', randomBytes(1234));
  for (let i = 0; i < 30; i++) put(`small/s${String(i).padStart(2, '0')}.bin`, randomBytes(4096 + i));
  // Sorted last: it starts while the small files are done, and the rate limit keeps it running.
  put('zz/big.bin', randomBytes(26 * MiB + 17));

  const first = mpu(['upload', root, '--json', '--verbose', '--concurrency', '3', '--limit-rate', '4MiB']);
  await waitUntil(() => first.stderr.includes('zz/big.bin: session') || first.child.exitCode !== null, 'the big file to start', 240_000, 50);
  // Let a few of its parts be stored, then kill without warning.
  await new Promise((r) => setTimeout(r, 2500));
  first.child.kill('SIGKILL');
  await first.done;
  const before = jsonLines(first.stdout).filter((r) => r.status === 'uploaded');
  expect(before.length).toBeGreaterThan(0);
  expect(before.map((r) => r.relative_path)).not.toContain(`${MARK}/zz/big.bin`);

  const second = mpu(['upload', root, '--json']);
  const code = await finish(second, 240_000);
  expect({ code, stderr: second.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('0 failed') });
  const after = jsonLines(second.stdout);
  for (const r of [...before, ...after]) if (typeof r.file_path === 'string') stored.add(r.file_path);

  // Every file has exactly one line, ok; what the first run completed is skipped with its object.
  expect(after.map((r) => r.relative_path).sort()).toEqual([...files.keys()].sort());
  expect(after.every((r) => r.ok === true)).toBe(true);
  const byRel = new Map(after.map((r) => [r.relative_path as string, r]));
  for (const r of before) {
    expect(byRel.get(r.relative_path)).toMatchObject({ status: 'skipped', session_id: r.session_id, file_path: r.file_path });
  }
  // The killed file went on in its session, sending only what storage lacked.
  const big = byRel.get(`${MARK}/zz/big.bin`)!;
  expect(big.status).toBe('resumed');
  expect(big.bytes_sent).toBeLessThan(26 * MiB + 17);
  expect(second.stderr).toMatch(new RegExp(`${files.size} files .*: \\d+ uploaded, 1 resumed, ${before.length} skipped, 0 failed`));

  // One session per file across both runs: nothing was sent twice.
  const rows = (await scanSessions(dynamoClient(ep), ep.table!)).filter((r) => typeof r.filename === 'string' && r.filename.startsWith(`${MARK}/`));
  expect(rows.map((r) => r.filename).sort()).toEqual([...files.keys()].sort());
  expect(rows.every((r) => r.status === 'completed')).toBe(true);

  // Every stored object is the file's bytes, under uploads/<session>/<relative path>.
  const s3 = s3Client(ep);
  for (const [rel, data] of files) {
    const r = byRel.get(rel)!;
    const { bucket, key } = parseFilePath(r.file_path);
    expect(key).toBe(`uploads/${r.session_id}/${rel}`);
    expect(await sha256Object(s3, bucket, key)).toBe(sha256(data));
  }
  s3.destroy();

  // A third run finds everything stored and sends nothing.
  const third = mpu(['upload', root, '--json']);
  expect(await finish(third, 120_000)).toBe(0);
  expect(jsonLines(third.stdout).every((r) => r.status === 'skipped')).toBe(true);
});

test('standard input of unknown length (52 MiB) is stored byte for byte', async () => {
  const data = randomBytes(52 * MiB + 3);
  const child = spawn(NODE, [join(ROOT, 'client/bin/mpu.mjs'), 'upload', '-', '--name', `${MARK}/pipe.bin`, '--json'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env() },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((res) => child.on('close', res));
  // Written in odd pieces, like a producer would.
  for (let off = 0; off < data.length; off += 1_000_003) {
    if (!child.stdin.write(data.subarray(off, off + 1_000_003))) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  expect({ code: await done, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('a pipe cannot be resumed') });
  const r = jsonLines(stdout).at(-1)!;
  stored.add(r.file_path);
  // 100 GiB expected by default: parts of 11 MiB.
  expect(r).toMatchObject({ ok: true, size: data.length, parts: 5, chunk_size: 11 * MiB });
  const { bucket, key } = parseFilePath(r.file_path);
  const s3 = s3Client(ep);
  expect(await sha256Object(s3, bucket, key)).toBe(sha256(data));
  s3.destroy();
  const status = await call(ep, 'GET', `/upload/${r.session_id}/status`);
  expect(status.body).toMatchObject({ status: 'completed', file_size: data.length, total_parts: 5 });
});

test('hostile relative paths are refused with 400 and leave no session and no multipart upload', async () => {
  const hostile = [`../${MARK}`, `${MARK}/../../etc/passwd`, `/${MARK}/abs`, `${MARK}//x`, `${MARK}/./x`, `${MARK}/x/`, `${MARK}\u0001/x`, `${MARK}/a\\..\\b`, `${MARK}/\u202egnp.exe`];
  for (const filename of hostile) {
    for (const body of [{ filename, file_size: 1 }, { filename }]) {
      const res = await call(ep, 'POST', '/upload/init', { json: body });
      expect({ filename, status: res.status, error: (res.body as Record<string, unknown>)?.error }).toEqual({ filename, status: 400, error: 'validation_error' });
    }
  }
  const s3 = s3Client(ep);
  const [rows, uploads] = await Promise.all([scanSessions(dynamoClient(ep), ep.table!), listUploads(s3, ep.bucket)]);
  s3.destroy();
  const named = (s: string) => hostile.some((h) => s.includes(h)) || s.includes(`${MARK}\u0001`) || s.includes('/etc/passwd');
  expect(rows.filter((r) => typeof r.filename === 'string' && named(r.filename))).toEqual([]);
  expect(uploads.filter((u) => named(u.key))).toEqual([]);
});

test('usage: - needs --name, and the directory flags need a directory', async () => {
  const noName = mpu(['upload', '-']);
  expect(await finish(noName, 60_000)).toBe(2);
  expect(noName.stderr).toContain('--name');
  const f = join(dir, 'plain.bin');
  writeFileSync(f, 'x');
  const flags = mpu(['upload', f, '--exclude', '*.bin']);
  expect(await finish(flags, 60_000)).toBe(2);
  expect(flags.stderr).toContain('apply to directories');
});
