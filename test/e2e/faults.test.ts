/**
 * Faults during real uploads with the real `mpu` CLI, each ending in a verified object
 * (SHA-256 of the stored object == SHA-256 of the file):
 * - the API (gateway + Lambda) is SIGKILLed mid-upload, then started again;
 * - the API and the client are SIGKILLed together; the same command resumes;
 * - DynamoDB Local is SIGKILLed mid-upload (its data on disk) and started again;
 * - part PUTs meet connection resets, stalls and lost answers (a TCP fault proxy in front of RGW);
 * - the handlers' own S3 connection loses CompleteMultipartUpload's answers.
 *
 * Everything runs on a private API (own gateway and DynamoDB Local with an on-disk data dir)
 * on the shared RGW: the handlers presign part URLs for the client-side fault proxy
 * (S3_PUBLIC_ENDPOINT), and reach RGW through a second proxy (S3_ENDPOINT). Local cloud only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StatusResponse } from '../../contract/api.js';
import { KiB, MiB } from '../../contract/limits.js';
import { call, initSession, putPart } from './helpers/api.js';
import { dynamoClient, s3Client, type E2ETarget } from './helpers/cloud.js';
import { PASS, scripted, startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { describeLocalCloud, sharedLocalTarget, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { finish, lastJson, mpu, waitUntil, type Run } from './helpers/procs.js';
import { headObject, listUploads, parseFilePath, sessionRow, sha256, sha256File, sha256Object } from './helpers/storage.js';

jest.setTimeout(120_000);

const log = (line: string) => process.stderr.write(`[faults] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let work: string;
let clientProxy: FaultProxy;
let handlerProxy: FaultProxy;
let priv: PrivateCloud;
let t: E2ETarget;
let s3: S3Client;
let db: DynamoDBClient;

describeLocalCloud('faults, on a private API over the shared RGW', () => {
  beforeAll(async () => {
    const shared = sharedLocalTarget();
    work = mkdtempSync(join(tmpdir(), 'mpu-faults-'));
    clientProxy = await startFaultProxy(shared.s3Endpoint!);
    handlerProxy = await startFaultProxy(shared.s3Endpoint!);
    priv = await startPrivateCloud({
      dynamoDataDir: join(work, 'ddb'),
      // Clients get URLs for their proxy (the stack's s3PublicEndpoint); the functions call S3 through theirs.
      settings: { s3PublicEndpoint: clientProxy.url },
      functionS3Endpoint: handlerProxy.url,
      // As API Gateway does by default (300 s): a token checked before an outage of the table stays
      // accepted, so what callers see during the outage is the handlers' answer, not the authorizer's.
      cloud: { authCacheTtlSeconds: 300 },
    });
    t = priv.target;
    s3 = s3Client(t);
    db = dynamoClient(t);
  }, 120_000);

  afterEach(async () => {
    clientProxy?.setPolicy(PASS);
    handlerProxy?.setPolicy(PASS);
    // A failed test must not leave the next one without its API or table.
    await priv?.cloud.startDynamo();
    await priv?.cloud.startGateway();
  }, 60_000);

  afterAll(async () => {
    s3?.destroy();
    db?.destroy();
    await priv?.stop();
    await clientProxy?.close();
    await handlerProxy?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  function randomFile(name: string, size: number): string {
    const path = join(work, name);
    writeFileSync(path, randomBytes(size));
    return path;
  }

  /** `mpu upload FILE` against the private API; state in `stateDir` (the auto-resume memory). */
  function upload(file: string, stateDir: string, extra: string[] = []): Run {
    return mpu(['upload', file, '--api', t.apiUrl, ...(t.token ? ['--token', t.token] : []), '--no-progress', ...extra], {
      MPU_STATE_DIR: stateDir,
      XDG_CONFIG_HOME: join(work, 'config'),
    });
  }

  const storedParts = (run: Run) => (run.stderr.match(/part \d+ stored/g) ?? []).length;
  const sessionOf = (run: Run) => /session ([A-Za-z0-9_-]{22})/.exec(run.stderr)?.[1];

  async function status(sessionId: string): Promise<StatusResponse> {
    const r = await call(t, 'GET', `/upload/${sessionId}/status`);
    if (r.status !== 200) throw new Error(`status: ${r.status} ${r.text}`);
    return r.body as StatusResponse;
  }

  /** The run succeeded and the stored object is the file, byte for byte. */
  async function expectVerified(run: Run, file: string, size: number): Promise<Record<string, any>> {
    const code = await finish(run, 90_000);
    if (code !== 0) throw new Error(`mpu exited ${code}:\n${run.stderr.slice(-4000)}`);
    const r = lastJson(run.stdout);
    expect(r).toMatchObject({ ok: true, size });
    const { bucket, key } = parseFilePath(r.file_path);
    expect(await sha256Object(s3, bucket, key)).toBe(await sha256File(file));
    expect((await status(r.session_id)).status).toBe('completed');
    return r;
  }

  async function refusesConnections(url: string): Promise<boolean> {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return false;
    } catch {
      return true;
    }
  }

  test('the API is SIGKILLed mid-upload and started again: the running CLI rides out the outage', async () => {
    const size = 40 * MiB;
    const file = randomFile('gateway-kill.bin', size);
    const run = upload(file, join(work, 'state-gw1'), ['--json', '-v', '--concurrency', '2', '--limit-rate', '12MiB']);
    await waitUntil(() => storedParts(run) >= 2 || run.child.exitCode !== null, '2 stored parts');
    await priv.cloud.stopGateway({ signal: 'SIGKILL' });
    const killedAt = Date.now();
    expect(await refusesConnections(t.apiUrl)).toBe(true);
    // Parts keep going to S3; the CLI needs the API again to complete, and must be told "no".
    await waitUntil(() => /retrying POST \/upload\/\S+\/complete/.test(run.stderr) || run.child.exitCode !== null, 'a retried complete', 60_000);
    expect(run.child.exitCode).toBeNull();
    await priv.cloud.startGateway();
    log(`gateway down for ${Date.now() - killedAt} ms`);
    const r = await expectVerified(run, file, size);
    expect(r).toMatchObject({ resumed: false, parts_total: 8, parts_sent: 8 });
  });

  test('the API and the client are SIGKILLed together: the same command resumes and sends only what is missing', async () => {
    const size = 40 * MiB;
    const file = randomFile('both-killed.bin', size);
    const stateDir = join(work, 'state-gw2');
    const first = upload(file, stateDir, ['-v', '--concurrency', '2', '--limit-rate', '12MiB']);
    await waitUntil(() => storedParts(first) >= 3 || first.child.exitCode !== null, '3 stored parts');
    first.child.kill('SIGKILL');
    await priv.cloud.stopGateway({ signal: 'SIGKILL' });
    await first.done;
    const sid = sessionOf(first)!;
    expect(sid).toBeDefined();
    await priv.cloud.startGateway();
    // A PUT whose body was fully sent may still be landing in storage.
    await sleep(500);
    const before = await status(sid);
    expect(before.status).toBe('in_progress');
    const stored = before.completed_parts.length;
    expect(stored).toBeGreaterThanOrEqual(3);

    const second = upload(file, stateDir, ['--json']);
    const r = await expectVerified(second, file, size);
    expect(r).toMatchObject({ session_id: sid, resumed: true, parts_sent: 8 - stored, bytes_sent: size - before.bytes_uploaded });
  });

  test('DynamoDB Local is SIGKILLed mid-upload: API calls fail as retryable 5xx, the session survives on disk, the upload resumes', async () => {
    const size = 40 * MiB;
    const file = randomFile('dynamo-kill.bin', size);
    const stateDir = join(work, 'state-ddb');
    const first = upload(file, stateDir, ['-v', '--concurrency', '2', '--limit-rate', '12MiB']);
    await waitUntil(() => storedParts(first) >= 2 || first.child.exitCode !== null, '2 stored parts');
    const sid = sessionOf(first)!;
    const rowBefore = await sessionRow(db, t.table!, sid);
    expect(rowBefore?.status).toBe('in_progress');
    first.child.kill('SIGKILL');
    await first.done;
    await priv.cloud.stopDynamo({ signal: 'SIGKILL' });
    const downAt = Date.now();

    // While the table is gone the API says "storage failed, retry", never "bug" and never 4xx.
    const probe = await call(t, 'GET', `/upload/${sid}/status`);
    log(`status while DynamoDB is down: ${probe.status} ${probe.text}`);
    expect(probe).toMatchObject({ status: 502, body: { error: 'storage_error', message: expect.any(String) } });
    expect(probe.headers.get('retry-after')).toBeTruthy();

    // The same command, started during the outage: it retries until DynamoDB is back.
    const second = upload(file, stateDir, ['--json', '-v']);
    await waitUntil(() => /retrying/.test(second.stderr) || second.child.exitCode !== null, 'the resumed CLI to meet the outage', 30_000);
    await priv.cloud.startDynamo();
    log(`DynamoDB down for ${Date.now() - downAt} ms`);
    const r = await expectVerified(second, file, size);
    expect(r).toMatchObject({ session_id: sid, resumed: true });
    expect(r.parts_sent).toBeLessThan(8);
    const rowAfter = await sessionRow(db, t.table!, sid);
    expect(rowAfter).toMatchObject({ status: 'completed', created_at: rowBefore!.created_at, upload_id: rowBefore!.upload_id });
  });

  test('part PUTs meet connection resets, a stall and lost answers: the upload ends in a verified object', async () => {
    const size = 48 * MiB;
    const file = randomFile('flaky-s3.bin', size);
    // The n-th PUT through the proxy: resets mid-body, a stall (bytes stop, connection stays open),
    // an answer that never arrives after S3 stored the part, a reset right after the headers.
    clientProxy.setPolicy(
      scripted(
        [
          { kind: 'pass' },
          { kind: 'reset', afterBytes: 1 * MiB },
          { kind: 'pass' },
          { kind: 'stall', afterBytes: 512 * KiB, holdMs: 8000 },
          { kind: 'drop-response' },
          { kind: 'reset', afterBytes: 3 * MiB },
          { kind: 'pass' },
          { kind: 'reset', afterBytes: 0 },
        ],
        (req) => req.method === 'PUT',
      ),
    );
    const faultsBefore = clientProxy.stats.faults.length;
    const run = upload(file, join(work, 'state-proxy'), ['--json', '-v', '--concurrency', '3', '--stall-timeout', '2']);
    const r = await expectVerified(run, file, size);
    const faults = clientProxy.stats.faults.slice(faultsBefore);
    log(`injected: ${faults.map((f) => f.kind).join(', ')}; CLI retries: ${(run.stderr.match(/retrying/g) ?? []).length}`);
    expect(faults.map((f) => f.kind).sort()).toEqual(['drop-response', 'reset', 'reset', 'reset', 'stall']);
    expect(r).toMatchObject({ resumed: false, parts_total: 10 });
    // The lost answer's part was stored, then sent again: more PUTs than parts, one object.
    expect((run.stderr.match(/retrying/g) ?? []).length).toBeGreaterThanOrEqual(5);
  });

  /** A stored single-part upload on the private API, ready to complete. */
  async function readyToComplete(): Promise<{ sid: string; data: Buffer; key: string }> {
    const data = randomBytes(64 * KiB);
    const session = await initSession(t, data.length);
    expect((await putPart(t, session.session_id, 1, data)).status).toBe(200);
    const key = (await sessionRow(db, t.table!, session.session_id))!.object_key;
    return { sid: session.session_id, data, key };
  }

  const isCompleteMultipart = (req: { method: string; target: string }) => req.method === 'POST' && /[?&]uploadId=/.test(req.target);
  /** Cuts the answers to every request `matches` selects (more than the SDK's attempts). */
  const dropAll = (matches: (req: { method: string; target: string }) => boolean) =>
    scripted(Array.from({ length: 20 }, () => ({ kind: 'drop-response' as const })), matches);

  async function expectCompleted(x: { sid: string; data: Buffer; key: string }, answer: { body: any }): Promise<void> {
    const head = await headObject(s3, t.bucket, x.key);
    expect(head?.size).toBe(x.data.length);
    expect(answer.body).toMatchObject({ status: 'completed', size: x.data.length, etag: head!.etag });
    expect(await sha256Object(s3, t.bucket, x.key)).toBe(sha256(x.data));
    expect((await listUploads(s3, t.bucket)).some((u) => u.key === x.key)).toBe(false);
    expect((await status(x.sid)).status).toBe('completed');
    expect(await call(t, 'DELETE', `/upload/${x.sid}`)).toMatchObject({ status: 409, body: { error: 'session_completed' } });
  }

  test("CompleteMultipartUpload's answers are lost on the handlers' side: the object S3 assembled is found and recorded", async () => {
    const x = await readyToComplete();
    // S3 assembles the object, but no answer reaches the handler, for any of the SDK's attempts.
    handlerProxy.setPolicy(dropAll(isCompleteMultipart));
    const r = await call(t, 'POST', `/upload/${x.sid}/complete`);
    handlerProxy.setPolicy(PASS);
    log(`complete with lost storage answers: ${r.status} ${r.text}`);
    expect(r.status).toBe(200);
    expect(handlerProxy.stats.faults.filter((f) => f.kind === 'drop-response').length).toBeGreaterThan(0);
    await expectCompleted(x, r);
  });

  test('complete and the check after it both lose their answers: a retryable 502, and the retry records the object', async () => {
    const x = await readyToComplete();
    handlerProxy.setPolicy(dropAll((req) => isCompleteMultipart(req) || req.method === 'HEAD'));
    const lost = await call(t, 'POST', `/upload/${x.sid}/complete`);
    handlerProxy.setPolicy(PASS);
    log(`complete with lost storage answers (HEAD too): ${lost.status} ${lost.text}`);
    expect(lost).toMatchObject({ status: 502, body: { error: 'storage_error' } });
    // S3 completed the upload while the session was given back: open row, no multipart upload.
    expect((await sessionRow(db, t.table!, x.sid))?.status).toBe('in_progress');
    expect((await listUploads(s3, t.bucket)).some((u) => u.key === x.key)).toBe(false);
    const retried = await call(t, 'POST', `/upload/${x.sid}/complete`);
    expect(retried.status).toBe(200);
    await expectCompleted(x, retried);
  });
});
