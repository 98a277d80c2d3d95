/**
 * What each function does on the happy and the recovery paths, run with its own credentials
 * against RGW and the DynamoDB front (world.ts). A scenario throws when the function does not
 * reach the outcome it must reach; with the template's policy, every scenario passes.
 * Together they call every S3 and DynamoDB action the template grants (the mutation test checks
 * that removing any one of them breaks some scenario of its function).
 */
import { randomBytes } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CompleteMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TokenStore } from '../../../lambdas/aws/token-store.js';
import { isApiError } from '../../../lambdas/core/errors.js';
import { newToken, tokenRecord } from '../../../lambdas/core/tokens.js';
import { authorizeBearer } from '../../../lambdas/service/authorize.js';
import { sweepExpired } from '../../../lambdas/service/sweeper.js';
import { abortUpload, completeUpload, getStatus, initUpload, presignParts } from '../../../lambdas/service/uploads.js';
import type { Enforced, IamWorld } from './world.js';

export class ScenarioFailed extends Error {
  override readonly name = 'ScenarioFailed';
}

function expectThat(ok: boolean, what: string): void {
  if (!ok) throw new ScenarioFailed(what);
}

const BODY = Buffer.alloc(1024, 7);
const DAY_MS = 24 * 3600 * 1000;

export interface Scenario {
  name: string;
  run: (e: Enforced, w: IamWorld) => Promise<void>;
}

const newOwner = () => `iam-${randomBytes(5).toString('hex')}`;

/** A presigned PUT as the CLI sends it; a refusal counts against the function that signed it. */
async function putPart(e: Enforced, signer: string, url: string): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body: BODY });
  const text = await res.text();
  if (res.status === 403) e.refusals.push({ functionId: signer, error: `presigned PUT 403 ${/<Code>([^<]+)/.exec(text)?.[1] ?? ''}` });
  expectThat(res.status === 200, `presigned PUT signed by ${signer} answered ${res.status}`);
  return res.headers.get('etag') ?? '';
}

async function openSession(e: Enforced, owner = newOwner()) {
  const init = await initUpload(e.kit('init').deps(), owner, { filename: 'a.bin', file_size: BODY.length });
  return { owner, sid: init.session_id, init };
}

async function row(w: IamWorld, sid: string): Promise<{ status?: string; object_key?: string; upload_id?: string }> {
  const out = await w.adminDb.send(new GetItemCommand({ TableName: w.table, Key: { session_id: { S: sid } }, ConsistentRead: true }));
  const item = out.Item ?? {};
  return { status: item.status?.S, object_key: item.object_key?.S, upload_id: item.upload_id?.S };
}

/** Behind the functions' back, as the admin: what a lost answer or a lifecycle rule leaves. */
async function adminComplete(w: IamWorld, sid: string, etag: string): Promise<void> {
  const r = await row(w, sid);
  await w.adminS3.send(
    new CompleteMultipartUploadCommand({ Bucket: w.bucket, Key: r.object_key!, UploadId: r.upload_id!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] } }),
  );
}
async function adminAbort(w: IamWorld, sid: string): Promise<void> {
  const r = await row(w, sid);
  await w.adminS3.send(new AbortMultipartUploadCommand({ Bucket: w.bucket, Key: r.object_key!, UploadId: r.upload_id! }));
}
async function uploadGone(w: IamWorld, sid: string): Promise<boolean> {
  const r = await row(w, sid);
  return w.adminS3.send(new ListPartsCommand({ Bucket: w.bucket, Key: r.object_key!, UploadId: r.upload_id! })).then(
    () => false,
    (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 404,
  );
}
async function openUploads(w: IamWorld): Promise<number> {
  return (await w.adminS3.send(new ListMultipartUploadsCommand({ Bucket: w.bucket }))).Uploads?.length ?? 0;
}
async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  const outcome = await p.then(
    () => 'ok',
    (err: unknown) => (isApiError(err) ? err.code : `${(err as Error).name}: ${(err as Error).message}`),
  );
  expectThat(outcome === code, `expected ${code}, got ${outcome}`);
}

export const SCENARIOS: Record<string, Scenario[]> = {
  init: [
    {
      name: 'creates a session whose first URL takes a part',
      run: async (e) => {
        const { init } = await openSession(e);
        await putPart(e, 'init', init.parts[0]!.url);
      },
    },
    {
      name: 'a replayed Idempotency-Key answers the same session',
      run: async (e) => {
        const owner = newOwner();
        const body = { filename: 'a.bin', file_size: BODY.length };
        const a = await initUpload(e.kit('init').deps(), owner, body, { idempotencyKey: 'k-1' });
        const b = await initUpload(e.kit('init').deps(), owner, body, { idempotencyKey: 'k-1' });
        expectThat(a.session_id === b.session_id, 'a replay opened a second session');
      },
    },
    {
      name: 'an owner at the cap is refused and leaves no upload behind',
      run: async (e, w) => {
        const deps = e.kit('init').deps({ env: { MAX_OPEN_SESSIONS_PER_OWNER: '1' } });
        const owner = newOwner();
        await initUpload(deps, owner, { filename: 'a.bin', file_size: BODY.length });
        const before = await openUploads(w);
        await rejectsWith(initUpload(deps, owner, { filename: 'b.bin', file_size: BODY.length }), 'too_many_open_sessions');
        expectThat((await openUploads(w)) === before, 'the refused init left its multipart upload behind');
      },
    },
  ],
  parts: [
    {
      name: 'signs URLs that storage accepts',
      run: async (e) => {
        const { owner, sid } = await openSession(e);
        const res = await presignParts(e.kit('parts').deps(), owner, sid, { parts: [{ part_number: 1 }] });
        await putPart(e, 'parts', res.parts[0]!.url);
      },
    },
  ],
  status: [
    {
      name: 'lists the stored parts',
      run: async (e) => {
        const { owner, sid, init } = await openSession(e);
        await putPart(e, 'init', init.parts[0]!.url);
        const s = await getStatus(e.kit('status').deps(), owner, sid);
        expectThat(s.completed_parts.join() === '1', `completed_parts ${s.completed_parts.join()}`);
      },
    },
    {
      name: 'the upload is gone and no object is there: session_aborted',
      run: async (e, w) => {
        const { owner, sid } = await openSession(e);
        await adminAbort(w, sid);
        await rejectsWith(getStatus(e.kit('status').deps(), owner, sid), 'session_aborted');
      },
    },
    {
      name: 'the upload is gone and its object is stored: recorded completed',
      run: async (e, w) => {
        const { owner, sid, init } = await openSession(e);
        await adminComplete(w, sid, await putPart(e, 'init', init.parts[0]!.url));
        const s = await getStatus(e.kit('status').deps(), owner, sid);
        expectThat(s.status === 'completed' && (await row(w, sid)).status === 'completed', `status ${s.status}`);
      },
    },
  ],
  complete: [
    {
      name: 'assembles the parts and records the session completed',
      run: async (e, w) => {
        const { owner, sid, init } = await openSession(e);
        await putPart(e, 'init', init.parts[0]!.url);
        const c = await completeUpload(e.kit('complete').deps(), owner, sid, {});
        expectThat(c.status === 'completed' && c.size === BODY.length && (await row(w, sid)).status === 'completed', `complete answered ${JSON.stringify(c)}`);
      },
    },
    {
      name: 'the upload is gone and no object is there: session_aborted',
      run: async (e, w) => {
        const { owner, sid } = await openSession(e);
        await adminAbort(w, sid);
        await rejectsWith(completeUpload(e.kit('complete').deps(), owner, sid, {}), 'session_aborted');
      },
    },
  ],
  abort: [
    {
      name: 'aborts an open session and its upload',
      run: async (e, w) => {
        const { owner, sid } = await openSession(e);
        const a = await abortUpload(e.kit('abort').deps(), owner, sid);
        expectThat(a.status === 'aborted' && (await uploadGone(w, sid)), 'the upload is still there');
      },
    },
    {
      name: 'storage holds the object: recorded completed, not aborted',
      run: async (e, w) => {
        const { owner, sid, init } = await openSession(e);
        await adminComplete(w, sid, await putPart(e, 'init', init.parts[0]!.url));
        await rejectsWith(abortUpload(e.kit('abort').deps(), owner, sid), 'session_completed');
      },
    },
  ],
  sweep: [
    {
      name: "expiry: a session past its expiry is marked expired and its upload aborted",
      run: async (e, w) => {
        const { sid } = await openSession(e);
        const result = await sweepExpired(e.kit('sweep').deps({ now: () => new Date(Date.now() + 2 * DAY_MS) }));
        expectThat(result.failed === 0, `sweep failed on ${result.failed} sessions`);
        expectThat((await row(w, sid)).status === 'expired' && (await uploadGone(w, sid)), 'the session was not expired and aborted');
      },
    },
    {
      name: 'a session past expiry whose object is stored is recorded completed',
      run: async (e, w) => {
        const { sid, init } = await openSession(e);
        await adminComplete(w, sid, await putPart(e, 'init', init.parts[0]!.url));
        const result = await sweepExpired(e.kit('sweep').deps({ now: () => new Date(Date.now() + 2 * DAY_MS) }));
        expectThat(result.failed === 0 && (await row(w, sid)).status === 'completed', `sweep ${JSON.stringify(result)}`);
      },
    },
  ],
  authorizer: [
    {
      name: 'reads the token row',
      run: async (e, w) => {
        const made = newToken();
        await new TokenStore(DynamoDBDocumentClient.from(w.adminDb), w.tokensTable).create(tokenRecord(made, newOwner(), new Date()));
        const check = await authorizeBearer(`Bearer ${made.token}`, { tokens: new TokenStore(e.kit('authorizer').db, w.tokensTable), now: () => new Date() });
        expectThat(check.ok, `token refused: ${JSON.stringify(check)}`);
      },
    },
  ],
};

/** Runs every scenario of `functionId`; returns the failures (empty: all passed). */
export async function runScenarios(e: Enforced, w: IamWorld, functionId: string): Promise<{ scenario: string; error: string }[]> {
  const failures: { scenario: string; error: string }[] = [];
  for (const s of SCENARIOS[functionId] ?? []) {
    await s.run(e, w).catch((err: unknown) => failures.push({ scenario: s.name, error: `${(err as Error).name}: ${(err as Error).message}` }));
  }
  return failures;
}
