/**
 * Races between the calls that end a session: complete vs abort, complete vs the sweeper,
 * sweeper vs sweeper, and duplicate PUTs of one part. Whatever the interleaving, every session
 * ends in exactly one state, and storage agrees with it:
 * - completed: the object exists with the uploaded bytes, no multipart upload is left, and
 *   nothing (abort, sweeper) ever removes it;
 * - aborted / expired: no object, no multipart upload.
 *
 * The first part runs on the shared target (local cloud or deployed stack). The sweeper part
 * needs sessions that expire within seconds: a private gateway and table (SESSION_TTL_SECONDS=4)
 * on the shared RGW, swept in-process (sweepExpired with deps on that table) or by the sweeper's
 * Lambda entry in separate processes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { InitResponse } from '../../contract/api.js';
import { DEFAULTS, KiB, MiB } from '../../contract/limits.js';
import type { Deps } from '../../lambdas/service/deps.js';
import { sweepExpired } from '../../lambdas/service/sweeper.js';
import { completeUpload } from '../../lambdas/service/uploads.js';
import { abortQuietly, call, initSession, putPart, type ApiAnswer } from './helpers/api.js';
import { dynamoClient, e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { depsFor, type TestDeps } from './helpers/deps.js';
import { describeLocalCloud, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { sweepersAtOnce } from './helpers/procs.js';
import { headObject, listUploads, multipartEtag, parseFilePath, sessionRow, sha256, sha256Object } from './helpers/storage.js';

jest.setTimeout(90_000);

const log = (line: string) => process.stderr.write(`[races] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A session whose parts are all stored, ready to complete. */
interface Ready {
  session: InitResponse;
  data: Buffer;
  key: string;
}

async function readySession(t: E2ETarget, size: number, chunk = 5 * MiB): Promise<Ready> {
  const data = randomBytes(size);
  const session = await initSession(t, size, `race-${randomBytes(4).toString('hex')}.bin`);
  await Promise.all(
    Array.from({ length: session.total_parts! }, async (_, i) => {
      const r = await putPart(t, session.session_id, i + 1, data.subarray(i * chunk, (i + 1) * chunk));
      if (r.status !== 200) throw new Error(`PUT part ${i + 1}: ${r.status} ${r.text}`);
    }),
  );
  const s3 = s3Client(t);
  const uploads = await listUploads(s3, t.bucket).finally(() => s3.destroy());
  const key = uploads.find((u) => u.key.includes(session.session_id))?.key;
  if (!key) throw new Error(`no multipart upload for session ${session.session_id}`);
  return { session, data, key };
}

/** The storage side of a session's final state. */
async function storageState(s3: S3Client, t: E2ETarget, r: Ready) {
  const [object, uploads] = await Promise.all([headObject(s3, t.bucket, r.key), listUploads(s3, t.bucket)]);
  return { object, uploadLeft: uploads.some((u) => u.key === r.key) };
}

async function expectCompletedObject(s3: S3Client, t: E2ETarget, r: Ready, etag?: string): Promise<void> {
  const st = await storageState(s3, t, r);
  expect(st.uploadLeft).toBe(false);
  expect(st.object?.size).toBe(r.data.length);
  if (etag !== undefined) expect(st.object?.etag).toBe(etag);
  expect(await sha256Object(s3, t.bucket, r.key)).toBe(sha256(r.data));
}

async function expectNothingStored(s3: S3Client, t: E2ETarget, r: Ready): Promise<void> {
  expect(await storageState(s3, t, r)).toEqual({ object: undefined, uploadLeft: false });
}

describe('on the shared target', () => {
  let t: E2ETarget;
  let s3: S3Client;
  const opened: string[] = [];

  beforeAll(() => {
    t = e2eTarget();
    s3 = s3Client(t);
  });
  afterAll(async () => {
    await abortQuietly(t, opened);
    s3.destroy();
  });

  test('complete vs abort fired together: exactly one wins, and storage agrees with the winner', async () => {
    const ROUNDS = 8;
    const outcomes = { complete: 0, abort: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // Small single-part uploads. Abort is the shorter path (no ListParts), so it is mostly held
      // back a little, by a varying amount, to let either call be first.
      const r = await readySession(t, 64 * KiB + round);
      const sid = r.session.session_id;
      opened.push(sid);
      const abortDelay = [0, 10, 20, 30, 40, 60, 5, 15][round]!;
      const [c, a] = await Promise.all([
        call(t, 'POST', `/upload/${sid}/complete`),
        sleep(abortDelay).then(() => call(t, 'DELETE', `/upload/${sid}`)),
      ]);
      const won = [c.status === 200, a.status === 200];
      expect(won.filter(Boolean)).toHaveLength(1);
      const status = await call(t, 'GET', `/upload/${sid}/status`);
      if (c.status === 200) {
        outcomes.complete++;
        expect(a.status).toBe(409);
        expect(['session_busy', 'session_completed']).toContain(a.body.error);
        expect(status.body.status).toBe('completed');
        await expectCompletedObject(s3, t, r, c.body.etag);
        // The loser's retry is answered from the final state: never an abort of a completed upload.
        expect(await call(t, 'DELETE', `/upload/${sid}`)).toMatchObject({ status: 409, body: { error: 'session_completed' } });
        await expectCompletedObject(s3, t, r);
      } else {
        outcomes.abort++;
        expect(c).toMatchObject({ status: 410, body: { error: 'session_aborted' } });
        expect(status.body.status).toBe('aborted');
        await expectNothingStored(s3, t, r);
        expect(await call(t, 'POST', `/upload/${sid}/complete`)).toMatchObject({ status: 410, body: { error: 'session_aborted' } });
      }
    }
    log(`complete vs abort over ${ROUNDS} rounds: complete won ${outcomes.complete}, abort won ${outcomes.abort}`);
  });

  test('many aborts and completes at once on one session: one winner, the others told so', async () => {
    const r = await readySession(t, 6 * MiB);
    const sid = r.session.session_id;
    opened.push(sid);
    const calls: Promise<ApiAnswer & { kind: string }>[] = [];
    for (let i = 0; i < 4; i++) {
      calls.push(call(t, 'POST', `/upload/${sid}/complete`).then((x) => ({ ...x, kind: 'complete' })));
      calls.push(call(t, 'DELETE', `/upload/${sid}`).then((x) => ({ ...x, kind: 'abort' })));
    }
    const results = await Promise.all(calls);
    const okAborts = results.filter((x) => x.kind === 'abort' && x.status === 200);
    const okCompletes = results.filter((x) => x.kind === 'complete' && x.status === 200);
    for (const x of results) expect(x.status).toBeLessThan(500);
    const final = (await call(t, 'GET', `/upload/${sid}/status`)).body.status;
    if (final === 'completed') {
      expect(okAborts).toHaveLength(0);
      expect(okCompletes.length).toBeGreaterThan(0);
      expect(new Set(okCompletes.map((x) => x.body.etag)).size).toBe(1);
      await expectCompletedObject(s3, t, r, okCompletes[0]!.body.etag);
    } else {
      expect(final).toBe('aborted');
      expect(okAborts).toHaveLength(1);
      expect(okCompletes).toHaveLength(0);
      await expectNothingStored(s3, t, r);
    }
    log(`4 completes + 4 aborts: ${final}; statuses ${results.map((x) => `${x.kind}:${x.status}${x.body?.error ? `/${x.body.error}` : ''}`).join(' ')}`);
  });

  test('a part PUT again with other bytes: the last one wins and complete assembles exactly it', async () => {
    const size = 5 * MiB + 100 * KiB;
    const first = randomBytes(5 * MiB);
    const second = randomBytes(5 * MiB);
    const tail = randomBytes(100 * KiB);
    const session = await initSession(t, size);
    const sid = session.session_id;
    opened.push(sid);
    expect((await putPart(t, sid, 1, first)).status).toBe(200);
    expect((await putPart(t, sid, 2, tail)).status).toBe(200);
    const replaced = await putPart(t, sid, 1, second);
    expect(replaced.status).toBe(200);
    const st = await call(t, 'GET', `/upload/${sid}/status`);
    expect(st.body.uploaded_parts).toEqual([
      { part_number: 1, size: 5 * MiB, etag: replaced.etag },
      { part_number: 2, size: 100 * KiB, etag: expect.any(String) },
    ]);
    // The client's view names the first PUT's ETag: storage holds the second, so complete refuses.
    const stale = await call(t, 'POST', `/upload/${sid}/complete`, {
      json: { parts: [{ part_number: 1, etag: `"${createHash('md5').update(first).digest('hex')}"` }] },
    });
    expect(stale).toMatchObject({ status: 409, body: { error: 'part_mismatch', mismatched_parts: [1] } });
    const done = await call(t, 'POST', `/upload/${sid}/complete`);
    expect(done.status).toBe(200);
    expect(done.body.etag).toBe(multipartEtag([second, tail]));
    const { key } = parseFilePath(done.body.file_path);
    expect(await sha256Object(s3, t.bucket, key)).toBe(sha256(Buffer.concat([second, tail])));
  });

  test('duplicate PUTs of one part at the same time: one of them is stored whole, and complete matches it', async () => {
    const a = randomBytes(5 * MiB);
    const b = randomBytes(5 * MiB);
    const tail = randomBytes(KiB);
    const session = await initSession(t, a.length + tail.length);
    const sid = session.session_id;
    opened.push(sid);
    expect((await putPart(t, sid, 2, tail)).status).toBe(200);
    // Three racing PUTs of part 1: a, b and a again.
    const puts = await Promise.all([putPart(t, sid, 1, a), putPart(t, sid, 1, b), putPart(t, sid, 1, a)]);
    expect(puts.map((p) => p.status)).toEqual([200, 200, 200]);
    const st = await call(t, 'GET', `/upload/${sid}/status`);
    expect(st.body.completed_parts).toEqual([1, 2]);
    const storedEtag = st.body.uploaded_parts[0].etag as string;
    const winner = storedEtag === puts[1]!.etag ? b : a;
    expect([puts[0]!.etag, puts[1]!.etag]).toContain(storedEtag);
    const done = await call(t, 'POST', `/upload/${sid}/complete`);
    expect(done.status).toBe(200);
    expect(done.body.etag).toBe(multipartEtag([winner, tail]));
    const { key } = parseFilePath(done.body.file_path);
    expect(await sha256Object(s3, t.bucket, key)).toBe(sha256(Buffer.concat([winner, tail])));
    log(`duplicate PUTs: part 1 holds ${winner === a ? 'a' : 'b'}`);
  });
});

describeLocalCloud('with the sweeper (private gateway, sessions live 4 s)', () => {
  const TTL_SECONDS = 4;
  let priv: PrivateCloud;
  let t: E2ETarget;
  let s3: S3Client;
  let db: DynamoDBClient;
  let sweeper: TestDeps;

  beforeAll(async () => {
    priv = await startPrivateCloud({ settings: { sessionTtlSeconds: TTL_SECONDS } });
    t = priv.target;
    s3 = s3Client(t);
    db = dynamoClient(t);
    sweeper = depsFor(t, priv.cloud.handlerEnv);
  }, 120_000);
  afterAll(async () => {
    sweeper?.destroy();
    s3?.destroy();
    db?.destroy();
    await priv?.stop();
  }, 60_000);

  const untilExpired = (s: InitResponse, extraMs = 50) => sleep(Math.max(0, Date.parse(s.expires_at) - Date.now() + extraMs));

  test('complete vs the sweeper on an expired session: complete is 410, the sweeper reclaims it once', async () => {
    const r = await readySession(t, 64 * KiB);
    const sid = r.session.session_id;
    await untilExpired(r.session);
    const [c, swept] = await Promise.all([call(t, 'POST', `/upload/${sid}/complete`), sweepExpired(sweeper.deps)]);
    expect(c).toMatchObject({ status: 410, body: { error: 'session_expired' } });
    expect(swept).toMatchObject({ expired: 1, failed: 0 });
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('expired');
    await expectNothingStored(s3, t, r);
    // Later calls see the final state; a second sweep finds nothing.
    expect(await call(t, 'POST', `/upload/${sid}/complete`)).toMatchObject({ status: 410, body: { error: 'session_expired' } });
    expect(await call(t, 'DELETE', `/upload/${sid}`)).toMatchObject({ status: 410, body: { error: 'session_expired' } });
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ examined: 0, expired: 0 });
  });

  test('completes landing around the moment of expiry while sweepers run: each session ends completed or expired, never both', async () => {
    const N = 8;
    const ready = await Promise.all(Array.from({ length: N }, () => readySession(t, 32 * KiB)));
    // Complete i is sent at expiry + offset_i; sweepers run back to back across the whole window.
    const offsets = [-400, -200, -100, -40, -10, 0, 20, 60];
    const expiry = Math.max(...ready.map((r) => Date.parse(r.session.expires_at)));
    let sweeping = true;
    const sweeps: Promise<void> = (async () => {
      await sleep(Math.max(0, expiry - Date.now() - 500));
      while (sweeping) {
        await sweepExpired(sweeper.deps);
        await sleep(5);
      }
    })();
    const completes = await Promise.all(
      ready.map((r, i) => sleep(Math.max(0, Date.parse(r.session.expires_at) + offsets[i]! - Date.now())).then(() => call(t, 'POST', `/upload/${r.session.session_id}/complete`))),
    );
    await sleep(300);
    sweeping = false;
    await sweeps;
    await sweepExpired(sweeper.deps);

    const tally: string[] = [];
    for (const [i, r] of ready.entries()) {
      const c = completes[i]!;
      const row = await sessionRow(db, t.table!, r.session.session_id);
      tally.push(`${offsets[i]}ms:${c.status === 200 ? 'completed' : (c.body?.error ?? c.status)}`);
      if (c.status === 200) {
        expect(row?.status).toBe('completed');
        await expectCompletedObject(s3, t, r, c.body.etag);
      } else {
        expect(c.status).toBe(410);
        expect(c.body.error).toBe('session_expired');
        expect(row?.status).toBe('expired');
        await expectNothingStored(s3, t, r);
      }
      expect(row?.open_shard).toBeUndefined();
    }
    log(`completes around expiry: ${tally.join(' ')}`);
  });

  test('two sweepers (separate processes, the Lambda entry) at once: each session expired exactly once, every upload aborted', async () => {
    // Nothing older may be left for the sweepers to find.
    await sweepExpired(sweeper.deps);
    const N = 16;
    const sessions = await Promise.all(
      Array.from({ length: N }, async (_, i) => (i % 2 ? await readySession(t, 16 * KiB) : { session: await initSession(t, 12 * MiB), data: Buffer.alloc(0), key: '' })),
    );
    const ids = sessions.map((s) => s.session.session_id);
    await untilExpired(sessions[sessions.length - 1]!.session, 100);
    const results = await sweepersAtOnce(2, priv.cloud.handlerEnv);
    log(`two sweepers: ${JSON.stringify(results)}`);
    const sum = (k: 'examined' | 'expired' | 'skipped' | 'failed') => results.reduce((n, r) => n + r[k], 0);
    expect(sum('expired')).toBe(N);
    expect(sum('failed')).toBe(0);
    expect(sum('examined')).toBe(sum('expired') + sum('skipped'));
    for (const r of results) expect(r.examined).toBeLessThanOrEqual(N);
    const rows = await Promise.all(ids.map((id) => sessionRow(db, t.table!, id)));
    expect(rows.map((row) => row?.status)).toEqual(ids.map(() => 'expired'));
    const left = await listUploads(s3, t.bucket);
    expect(left.filter((u) => ids.some((id) => u.key.includes(id)))).toEqual([]);
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ examined: 0 });
  });

  interface Gate {
    /** Resolves when the gated call is reached (everything before it has run). */
    reached: Promise<void>;
    open: () => void;
  }

  /** Deps whose storage call `method` stops at a gate (the other calls go straight through). */
  function gated(method: 'listParts' | 'complete'): { deps: Deps; gate: Gate } {
    let open!: () => void;
    let arrive!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const reached = new Promise<void>((r) => (arrive = r));
    const storage = sweeper.deps.storage;
    const wrapped = Object.create(storage) as typeof storage;
    (wrapped as any)[method] = async (...args: unknown[]) => {
      arrive();
      await opened;
      return (storage as any)[method](...args);
    };
    return { deps: { ...sweeper.deps, storage: wrapped }, gate: { reached, open } };
  }

  /** Resolves once the gate is reached; fails if `completing` ends first, or after `ms`. */
  async function untilGate(gate: Gate, completing: Promise<unknown>, ms: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        gate.reached,
        completing.then((c) => Promise.reject(new Error(`complete ended before ${what}: ${JSON.stringify(c)}`))),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Settles `p` into `{ ok, value, error }` without throwing. */
  const outcome = (p: Promise<unknown>): Promise<{ ok: boolean; value?: any; error?: any }> =>
    p.then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error }),
    );

  test('forced interleaving: complete reads the open session, the sweeper expires and reclaims it, then complete reaches storage', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    const owner = (await sessionRow(db, t.table!, sid))!.owner;
    const { deps, gate } = gated('listParts');
    const completing = outcome(completeUpload(deps, owner, sid, {}));
    // Complete has read the row (still open, not expired) and stops before asking storage.
    await untilGate(gate, completing, 10_000, 'reaching ListParts');
    await untilExpired(r.session);
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ expired: 1 });
    gate.open();
    const c = await completing;
    expect(c.ok).toBe(false);
    // Told the session expired (what the sweeper wrote), not that it was aborted.
    expect(c.error).toMatchObject({ code: 'session_expired', status: 410 });
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('expired');
    await expectNothingStored(s3, t, r);
  });

  test('forced interleaving: abort and the sweeper arrive while complete holds the lease: neither touches the upload', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    const owner = (await sessionRow(db, t.table!, sid))!.owner;
    const { deps, gate } = gated('complete');
    const completing = outcome(completeUpload(deps, owner, sid, {}));
    // Complete holds the lease and stops before CompleteMultipartUpload.
    await untilGate(gate, completing, 10_000, 'taking the lease');
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('completing');
    expect(await call(t, 'DELETE', `/upload/${sid}`)).toMatchObject({ status: 409, body: { error: 'session_busy' } });
    await untilExpired(r.session);
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ expired: 0, skipped: 1 });
    expect((await storageState(s3, t, r)).uploadLeft).toBe(true);
    gate.open();
    const c = await completing;
    expect(c.ok).toBe(true);
    expect(c.value).toMatchObject({ status: 'completed', size: r.data.length });
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('completed');
    await expectCompletedObject(s3, t, r, c.value.etag);
  });

  test('a completed object is never aborted: not by abort, not by the sweeper after the session expires', async () => {
    const r = await readySession(t, 5 * MiB + 7);
    const sid = r.session.session_id;
    const done = await call(t, 'POST', `/upload/${sid}/complete`);
    expect(done.status).toBe(200);
    const aborts = await Promise.all(Array.from({ length: 3 }, () => call(t, 'DELETE', `/upload/${sid}`)));
    for (const a of aborts) expect(a).toMatchObject({ status: 409, body: { error: 'session_completed' } });
    await untilExpired(r.session, 100);
    const swept = await Promise.all([sweepExpired(sweeper.deps), sweepExpired(sweeper.deps)]);
    for (const s of swept) expect(s.expired).toBe(0);
    const row = await sessionRow(db, t.table!, sid);
    expect(row).toMatchObject({ status: 'completed', etag: done.body.etag });
    expect(await call(t, 'GET', `/upload/${sid}/status`)).toMatchObject({ status: 200, body: { status: 'completed' } });
    await expectCompletedObject(s3, t, r, done.body.etag);
  });

  /** Deps over the same table and bucket whose storage methods are replaced by `over`. */
  function withStorage(over: (real: Deps['storage']) => Partial<Record<'complete' | 'head', (...args: any[]) => Promise<any>>>, base: Deps = sweeper.deps): Deps {
    const storage = base.storage;
    const wrapped = Object.create(storage) as typeof storage;
    Object.assign(wrapped, over(storage));
    return { ...base, storage: wrapped };
  }

  /** Sweeper deps whose clock runs `ms` ahead: a lease taken now is stale to it. */
  function sweeperAhead(ms: number): TestDeps {
    return depsFor(t, priv.cloud.handlerEnv, () => new Date(Date.now() + ms));
  }
  const PAST_LEASE_MS = (DEFAULTS.completeLeaseSeconds + 1) * 1000;
  const never = new Promise<never>(() => undefined);
  const lostAnswer = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });

  test('a session stuck in completing (its completer died before storage assembled it) is expired by the sweeper once the lease is stale', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    const owner = (await sessionRow(db, t.table!, sid))!.owner;
    // The completer takes the lease and dies before CompleteMultipartUpload.
    const { deps, gate } = gated('complete');
    const completing = outcome(completeUpload(deps, owner, sid, {}));
    await untilGate(gate, completing, 10_000, 'taking the lease');
    await untilExpired(r.session);
    // A live lease is left alone, a stale one is not.
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ expired: 0, skipped: 1 });
    const later = sweeperAhead(PAST_LEASE_MS);
    try {
      expect(await sweepExpired(later.deps)).toMatchObject({ examined: 1, expired: 1, failed: 0 });
    } finally {
      later.destroy();
    }
    expect(await sessionRow(db, t.table!, sid)).toMatchObject({ status: 'expired' });
    expect((await sessionRow(db, t.table!, sid))?.open_shard).toBeUndefined();
    await expectNothingStored(s3, t, r);
    // The dead completer, should it wake up, cannot bring the session back.
    gate.open();
    expect((await completing).ok).toBe(false);
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('expired');
    await expectNothingStored(s3, t, r);
  });

  test('a session stuck in completing whose object storage did assemble is recorded completed by the sweeper, object kept', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    const owner = (await sessionRow(db, t.table!, sid))!.owner;
    let assembled!: () => void;
    const wasAssembled = new Promise<void>((res) => (assembled = res));
    // S3 assembles the object; the completer dies before writing the table.
    const deps = withStorage((real) => ({
      complete: async (...args: any[]) => {
        await (real.complete as any)(...args);
        assembled();
        return never;
      },
    }));
    void completeUpload(deps, owner, sid, {});
    await wasAssembled;
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('completing');
    await untilExpired(r.session);
    const later = sweeperAhead(PAST_LEASE_MS);
    try {
      expect(await sweepExpired(later.deps)).toMatchObject({ examined: 1, completed: 1, expired: 0, failed: 0 });
    } finally {
      later.destroy();
    }
    const row = await sessionRow(db, t.table!, sid);
    expect(row).toMatchObject({ status: 'completed' });
    expect(row?.open_shard).toBeUndefined();
    await expectCompletedObject(s3, t, r, row?.etag);
    expect(await call(t, 'GET', `/upload/${sid}/status`)).toMatchObject({ status: 200, body: { status: 'completed', etag: row?.etag } });
  });

  /** Complete in-process: storage assembles the object, but neither its answer nor HeadObject's arrives. */
  async function lostCompleteAnswer(r: Ready): Promise<void> {
    const sid = r.session.session_id;
    const owner = (await sessionRow(db, t.table!, sid))!.owner;
    const deps = withStorage((real) => ({
      complete: async (...args: any[]) => {
        await (real.complete as any)(...args);
        throw lostAnswer();
      },
      head: async () => {
        throw lostAnswer();
      },
    }));
    const c = await outcome(completeUpload(deps, owner, sid, {}));
    expect(c.ok).toBe(false);
    // The lease was given back: the row is open again, the object is in the bucket.
    expect((await sessionRow(db, t.table!, sid))?.status).toBe('in_progress');
    expect((await storageState(s3, t, r)).object?.size).toBe(r.data.length);
  }

  test('a lost complete answer, then abort: abort finds the object, records the session completed (409) and keeps it', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    await lostCompleteAnswer(r);
    expect(await call(t, 'DELETE', `/upload/${sid}`)).toMatchObject({ status: 409, body: { error: 'session_completed' } });
    const row = await sessionRow(db, t.table!, sid);
    expect(row).toMatchObject({ status: 'completed', etag: expect.any(String) });
    await expectCompletedObject(s3, t, r, row?.etag);
    expect(await call(t, 'GET', `/upload/${sid}/status`)).toMatchObject({ status: 200, body: { status: 'completed' } });
    expect(await call(t, 'DELETE', `/upload/${sid}`)).toMatchObject({ status: 409, body: { error: 'session_completed' } });
  });

  test('a lost complete answer, then status: status finds the object, records the session completed and keeps it', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    await lostCompleteAnswer(r);
    const res = await call(t, 'GET', `/upload/${sid}/status`);
    const row = await sessionRow(db, t.table!, sid);
    expect(row).toMatchObject({ status: 'completed', etag: expect.any(String) });
    expect(row?.open_shard).toBeUndefined();
    expect(res).toMatchObject({ status: 200, body: { status: 'completed', etag: row?.etag, file_path: expect.stringContaining(sid) } });
    await expectCompletedObject(s3, t, r, row?.etag);
    expect(await call(t, 'POST', `/upload/${sid}/complete`)).toMatchObject({ status: 200, body: { status: 'completed', etag: row?.etag } });
  });

  test('a lost complete answer, then expiry: the sweeper finds the object and records the session completed', async () => {
    const r = await readySession(t, 16 * KiB);
    const sid = r.session.session_id;
    await lostCompleteAnswer(r);
    await untilExpired(r.session);
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ completed: 1, expired: 0, failed: 0 });
    const row = await sessionRow(db, t.table!, sid);
    expect(row).toMatchObject({ status: 'completed', etag: expect.any(String) });
    await expectCompletedObject(s3, t, r, row?.etag);
  });
});

describeLocalCloud('the per-owner cap under concurrent inits (private gateway, cap 5)', () => {
  const CAP = 5;
  let priv: PrivateCloud;
  let t: E2ETarget;
  let s3: S3Client;
  let clock: { offsetMs: number };
  let sweeper: TestDeps;

  beforeAll(async () => {
    priv = await startPrivateCloud({ settings: { maxOpenSessionsPerOwner: CAP } });
    t = priv.target;
    s3 = s3Client(t);
    clock = { offsetMs: 0 };
    sweeper = depsFor(t, priv.cloud.handlerEnv, () => new Date(Date.now() + clock.offsetMs));
  }, 120_000);
  afterAll(async () => {
    sweeper?.destroy();
    s3?.destroy();
    await priv?.stop();
  }, 60_000);

  /** `n` inits at once, each with its own filename under `mark`; the answers in order. */
  const initsAtOnce = (n: number, mark: string) =>
    Promise.all(Array.from({ length: n }, (_, i) => call(t, 'POST', '/upload/init', { json: { filename: `${mark}-${i}.bin`, file_size: 16 * KiB } })));
  const uploadsMarked = async (mark: string) => (await listUploads(s3, t.bucket)).filter((u) => u.key.includes(mark));

  test('24 inits at once: exactly the cap is created, the rest get 429, and no refused init leaves an upload', async () => {
    const tally: string[] = [];
    const createdPerRound: number[] = [];
    const live: string[] = [];
    for (let round = 0; round < 3; round++) {
      const mark = `cap-${randomBytes(4).toString('hex')}`;
      const answers = await initsAtOnce(24, mark);
      const created = answers.filter((a) => a.status === 201);
      tally.push(`round ${round}: ${created.length} created, ${answers.length - created.length} refused`);
      for (const a of answers) if (a.status !== 201) expect(a).toMatchObject({ status: 429, body: { error: 'too_many_open_sessions' } });
      live.push(...created.map((a) => a.body.session_id as string));
      createdPerRound.push(created.length);
      expect(await uploadsMarked(mark)).toHaveLength(created.length);
    }
    log(`cap ${CAP}, 24 concurrent inits per round: ${tally.join('; ')}`);
    expect(createdPerRound).toEqual([CAP, 0, 0]);

    // Ending a session (abort, complete) frees exactly its place.
    expect((await call(t, 'DELETE', `/upload/${live.shift()}`)).status).toBe(200);
    const done = live.shift()!;
    expect((await putPart(t, done, 1, randomBytes(16 * KiB))).status).toBe(200);
    expect((await call(t, 'POST', `/upload/${done}/complete`)).status).toBe(200);
    const mark = `cap-${randomBytes(4).toString('hex')}`;
    const refill = await initsAtOnce(12, mark);
    expect(refill.filter((a) => a.status === 201)).toHaveLength(2);
    live.push(...refill.filter((a) => a.status === 201).map((a) => a.body.session_id as string));

    // Expiry (the sweeper, with a clock past every session's expiry) frees them all.
    clock.offsetMs = 25 * 3600_000;
    expect(await sweepExpired(sweeper.deps)).toMatchObject({ expired: CAP, failed: 0 });
    const after = await initsAtOnce(12, `cap-${randomBytes(4).toString('hex')}`);
    expect(after.filter((a) => a.status === 201)).toHaveLength(CAP);
    await abortQuietly(t, after.filter((a) => a.status === 201).map((a) => a.body.session_id as string));
  });
});
