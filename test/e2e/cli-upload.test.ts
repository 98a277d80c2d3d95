/**
 * The real `mpu` CLI process (node client/bin/mpu.mjs, Node 24) against the local cloud:
 * a 64 MiB upload read back byte-exact, and a SIGKILLed upload resumed sending only the
 * missing parts. The API is found the way users find it: MPU_ENDPOINTS_FILE (set by the
 * global setup) or .local/endpoints.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { StatusResponse } from '../../contract/api.js';
import { MiB } from '../../contract/limits.js';
import { routePath } from '../../contract/routes.js';
import { apiFetch, e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { lastJson as lastJsonLine, mpu as runMpu, waitUntil, type Run } from './helpers/procs.js';
import { parseFilePath, sha256File, sha256Object as sha256StoredObject } from './helpers/storage.js';

/** Per test: a 64 MiB upload, or two of them plus a rate-limited one. */
const TIMEOUT_MS = 180_000;

let ep: E2ETarget;
let dir: string;
beforeAll(() => {
  ep = e2eTarget();
  dir = mkdtempSync(join(tmpdir(), 'mpu-cli-e2e-'));
});
/** Objects the tests stored (the local cloud keeps them in memory): deleted at the end. */
const stored: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const filePath of stored) {
    const { bucket, key } = parseFilePath(filePath);
    await s3Client(ep).send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
});

/** The CLI finds the API as users do (the endpoints file); its state goes to the test's dir. */
function mpu(args: string[]): Run {
  return runMpu(args, { MPU_STATE_DIR: join(dir, 'state'), MPU_ENDPOINTS_FILE: ep.endpointsFile });
}

async function status(sessionId: string): Promise<StatusResponse> {
  const res = await apiFetch(routePath('status', { session_id: sessionId }), {}, ep);
  expect(res.status).toBe(200);
  return res.json() as StatusResponse;
}

async function sha256Object(filePath: string): Promise<string> {
  const { bucket, key } = parseFilePath(filePath);
  return sha256StoredObject(s3Client(ep), bucket, key);
}

function randomFile(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, randomBytes(size));
  return path;
}

/** The run's last JSON line; an object it names is deleted after the tests. */
function lastJson(stdout: string): Record<string, any> {
  const r = lastJsonLine(stdout);
  if (typeof r.file_path === 'string') stored.push(r.file_path);
  return r;
}

test('a 64 MiB file uploads and the stored object is byte-identical', async () => {
  const file = randomFile('big.bin', 64 * MiB);
  const run = mpu(['upload', file, '--json', '--chunk-size', '5MiB', '--concurrency', '4']);
  const code = await run.done;
  expect({ code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  const r = lastJson(run.stdout);
  expect(r).toMatchObject({ ok: true, size: 64 * MiB, parts_total: 13, parts_sent: 13, bytes_sent: 64 * MiB, resumed: false });
  expect(r.etag).toMatch(/^[0-9a-f]{32}-13$/);
  expect(r.file_path).toMatch(new RegExp(`^s3://${ep.bucket}/`));
  // The session id is printed before the upload, so a killed run can be resumed.
  expect(run.stderr).toContain(`session ${r.session_id}`);
  expect(await sha256Object(r.file_path)).toBe(await sha256File(file));
}, TIMEOUT_MS);

test('a SIGKILLed upload resumes sending only the missing parts', async () => {
  const file = randomFile('killed.bin', 64 * MiB);
  // Rate-limited so the kill lands mid-upload, whatever the machine's speed.
  const first = mpu(['upload', file, '--verbose', '--no-progress', '--concurrency', '2', '--limit-rate', '16MiB']);
  await waitUntil(() => (first.stderr.match(/part \d+ stored/g) ?? []).length >= 3, '3 stored parts');
  first.child.kill('SIGKILL');
  await first.done;
  const sessionId = /session ([A-Za-z0-9_-]{22})/.exec(first.stderr)![1]!;
  // Let storage finish any part whose body was fully sent before the kill.
  await new Promise((r) => setTimeout(r, 500));

  const before = await status(sessionId);
  expect(before.status).toBe('in_progress');
  const stored = before.completed_parts.length;
  expect(stored).toBeGreaterThanOrEqual(3);
  expect(stored).toBeLessThan(13);

  // Another file of the same size does not match the stored parts: refused, nothing sent.
  const other = randomFile('other.bin', 64 * MiB);
  const wrong = mpu(['upload', other, '--resume', sessionId]);
  expect(await wrong.done).toBe(3);
  expect(wrong.stderr).toMatch(/does not match session/);
  expect((await status(sessionId)).completed_parts).toEqual(before.completed_parts);

  const second = mpu(['upload', file, '--resume', sessionId, '--json']);
  const code = await second.done;
  expect({ code, stderr: second.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  const r = lastJson(second.stdout);
  const missingBytes = 64 * MiB - before.bytes_uploaded;
  expect(r).toMatchObject({ ok: true, session_id: sessionId, resumed: true, parts_sent: 13 - stored, bytes_sent: missingBytes });

  const after = await status(sessionId);
  expect(after).toMatchObject({ status: 'completed', file_path: r.file_path });
  expect(await sha256Object(r.file_path)).toBe(await sha256File(file));
}, TIMEOUT_MS);

test('after a SIGKILL, running the same command again resumes by itself (state file)', async () => {
  const file = randomFile('auto.bin', 24 * MiB);
  const first = mpu(['upload', file, '--verbose', '--no-progress', '--concurrency', '1', '--limit-rate', '8MiB']);
  await waitUntil(() => (first.stderr.match(/part \d+ stored/g) ?? []).length >= 2, '2 stored parts');
  first.child.kill('SIGKILL');
  await first.done;
  const sessionId = /session ([A-Za-z0-9_-]{22})/.exec(first.stderr)![1]!;
  await new Promise((r) => setTimeout(r, 500));

  const listed = mpu(['list', '--json']);
  expect(await listed.done).toBe(0);
  expect(lastJson(listed.stdout)).toMatchObject({ session_id: sessionId, path: file, total_parts: 5 });

  const before = await status(sessionId);
  const again = mpu(['upload', file, '--json']);
  expect(await again.done).toBe(0);
  expect(again.stderr).toContain(`resuming its interrupted upload (session ${sessionId}`);
  expect(lastJson(again.stdout)).toMatchObject({ ok: true, session_id: sessionId, resumed: true, parts_sent: 5 - before.completed_parts.length });

  const after = mpu(['list', '--json']);
  expect(await after.done).toBe(0);
  expect(after.stdout).toBe('');
}, TIMEOUT_MS);
