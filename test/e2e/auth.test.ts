/**
 * Authentication and isolation against the real system (the local cloud, whose gateway runs the
 * stack's own authorizer module, or a deployed stack): API tokens made and revoked with the real
 * `mpu-admin token` process, every refusal API Gateway answers, and sessions that belong to their
 * owner (another owner gets the same 404 as for a session that does not exist).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { newToken } from '../../lambdas/core/tokens.js';
import { ROUTES, routePath } from '../../contract/routes.js';
import { e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';

jest.setTimeout(60_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MPU = join(ROOT, 'client/bin/mpu.mjs');
const ADMIN = join(ROOT, 'ops/admin/bin/mpu-admin.mjs');
/** The CLIs must run on Node 24: the one jest runs on, or the project's `node` devDependency. */
const NODE = Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : join(ROOT, 'node_modules/.bin/node');

let t: E2ETarget;
let dir: string;
const run = randomBytes(3).toString('hex');
const ownerA = `e2e-a-${run}`;
const ownerB = `e2e-b-${run}`;
let tokenA: string;
let tokenB: string;
/** Token ids to revoke at the end (a deployed stack keeps its tokens table). */
const created: string[] = [];
/** Objects to delete at the end. */
const objects: string[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real `mpu` process. */
function mpu(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return spawnNode(MPU, args, env);
}

/** The real `mpu-admin` process; the tokens table is found through MPU_ENDPOINTS_FILE (set by the global setup). */
function admin(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return spawnNode(ADMIN, args, env);
}

function spawnNode(bin: string, args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [bin, ...args], {
      cwd: ROOT,
      env: { ...process.env, MPU_TOKEN: '', MPU_STATE_DIR: join(dir, 'state'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r: Result = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (r.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...r, code }));
  });
}

async function createToken(owner: string): Promise<{ token: string; token_id: string }> {
  const r = await admin(['token', 'create', '--owner', owner, '--description', 'e2e auth test', '--json']);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { token: string; token_id: string; owner: string };
  expect(out.owner).toBe(owner);
  created.push(out.token_id);
  return out;
}

/** One API call with exactly the Authorization header given (none if undefined). */
async function call(method: string, path: string, authorization?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

const bearer = (token: string) => `Bearer ${token}`;
const SOME_SID = 'AAAAAAAAAAAAAAAAAAAAAA';

beforeAll(async () => {
  t = e2eTarget();
  if (!t.tokensTable) {
    throw new Error(`${t.endpointsFile} names no tokens_table: the local cloud writes it, a deployed stack has the TokensTableName output`);
  }
  dir = mkdtempSync(join(tmpdir(), 'mpu-auth-e2e-'));
  [tokenA, tokenB] = (await Promise.all([createToken(ownerA), createToken(ownerB)])).map((x) => x.token) as [string, string];
});

afterAll(async () => {
  await Promise.all(created.map((id) => admin(['token', 'revoke', id])));
  const s3 = s3Client(t);
  await Promise.all(objects.map((Key) => s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key })).catch(() => undefined)));
  s3.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('API Gateway refuses before any route runs', () => {
  test.each(ROUTES.map((r) => [r.id, r.method, routePath(r.id, { session_id: SOME_SID })] as const))(
    '%s without Authorization: 401 {"message":"Unauthorized"}',
    async (_, method, path) => {
      const r = await call(method, path, undefined, method === 'POST' ? {} : undefined);
      expect(r).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    },
  );

  test.each([
    ['an empty Authorization', ''],
    ['garbage', 'Bearer nope'],
    ['another scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['the token without "Bearer"', 'TOKEN_A'],
    ['a JWT-looking value', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ['a well-formed token that was never issued (unknown id)', 'NEW'],
    ["owner A's token id with another secret", 'WRONG_SECRET'],
    ["owner A's token with one character changed", 'FLIPPED'],
  ])('%s: refused', async (what, value) => {
    const a = tokenA;
    const authorization =
      value === 'TOKEN_A'
        ? a
        : value === 'NEW'
          ? bearer(newToken().token)
          : value === 'WRONG_SECRET'
            ? bearer(`${a.slice(0, 17)}${randomBytes(32).toString('base64url')}`)
            : value === 'FLIPPED'
              ? bearer(`${a.slice(0, -1)}${a.endsWith('A') ? 'B' : 'A'}`)
              : value;
    const r = await call('POST', '/upload/init', authorization, { filename: 'x.bin', file_size: 1 });
    // API Gateway answers a missing (empty) identity source with 401 and a refusal with 403.
    expect(r).toEqual(what === 'an empty Authorization' ? { status: 401, body: { message: 'Unauthorized' } } : { status: 403, body: { message: 'Forbidden' } });
  });

  test('a valid token works, with the scheme in any case', async () => {
    const r = await call('POST', '/upload/init', `bearer ${tokenA}`, { filename: 'auth-ok.bin', file_size: 1 });
    expect(r.status).toBe(201);
    expect(typeof r.body.session_id).toBe('string');
    // Leave nothing open behind.
    expect((await call('DELETE', `/upload/${r.body.session_id}`, bearer(tokenA))).status).toBe(200);
  });
});

describe('mpu-admin token create | list | revoke (the real tool)', () => {
  test('list shows ids, owners and state, never a secret or a hash', async () => {
    const r = await admin(['token', 'list', '--owner', ownerA, '--json']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ owner: ownerA, state: 'active', description: 'e2e auth test' });
    expect(tokenA).toContain(`_${rows[0]!.token_id as string}_`);
    expect(r.stdout).not.toContain(tokenA.slice(17));
    expect(r.stdout).not.toMatch(/secret|hash/);
    const human = await admin(['token', 'list', '--owner', ownerA]);
    expect(human.stdout).toMatch(new RegExp(`^${rows[0]!.token_id as string}  ${ownerA}  active  created `));
  });

  test('a revoked token is refused (403), also by the mpu CLI (exit 6); revoking again is a no-op', async () => {
    const c = await createToken(`e2e-revoke-${run}`);
    if (t.kind === 'local') {
      // The local cloud caches no authorizer answers (API Gateway: up to the TTL, 300 s by default),
      // so a token used a moment ago is refused right after its revocation.
      const init = await call('POST', '/upload/init', bearer(c.token), { filename: 'x.bin', file_size: 0 });
      expect(init.status).toBe(201);
      expect((await call('DELETE', `/upload/${init.body.session_id}`, bearer(c.token))).status).toBe(200);
    }
    const revoke = await admin(['token', 'revoke', c.token_id]);
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toBe(`revoked token ${c.token_id} (owner e2e-revoke-${run})\n`);
    expect(await call('GET', `/upload/${SOME_SID}/status`, bearer(c.token))).toEqual({ status: 403, body: { message: 'Forbidden' } });
    const status = await mpu(['status', SOME_SID, '--token', c.token]);
    expect(status.code).toBe(6);
    const again = await admin(['token', 'revoke', c.token_id, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'already_revoked', token_id: c.token_id });
    const list = await admin(['token', 'list', '--owner', `e2e-revoke-${run}`, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ token_id: c.token_id, state: 'revoked', revoked_at: expect.any(String) });
  });

  test('operator mistakes are usage errors (exit 2) or clear failures (exit 1)', async () => {
    expect((await admin(['token', 'create', '--owner', 'no spaces please'])).code).toBe(2);
    expect((await admin(['token', 'revoke', 'not-an-id'])).code).toBe(2);
    const unknown = await admin(['token', 'revoke', 'aaaaaaaaaaaa']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no token aaaaaaaaaaaa/);
  });
});

describe('a session belongs to its owner', () => {
  let sid: string;

  test("owner B gets 404 on status, parts, complete and abort of A's session, exactly as for no session", async () => {
    // A: a one-part (empty) upload, its part stored, not yet completed.
    const init = await call('POST', '/upload/init', bearer(tokenA), { filename: 'owned.bin', file_size: 0 });
    expect(init.status).toBe(201);
    sid = init.body.session_id as string;
    objects.push(`uploads/${sid}/owned.bin`);
    const part = init.body.parts[0] as { url: string; headers: Record<string, string> };
    expect((await fetch(part.url, { method: 'PUT', headers: part.headers, body: new Uint8Array(0) })).status).toBe(200);

    const attempts = [
      ['GET', `/upload/${sid}/status`, undefined],
      ['POST', `/upload/${sid}/parts`, { parts: [{ part_number: 1 }] }],
      ['POST', `/upload/${sid}/complete`, {}],
      ['DELETE', `/upload/${sid}`, undefined],
    ] as const;
    for (const [method, path, body] of attempts) {
      const asB = await call(method, path, bearer(tokenB), body);
      const missing = await call(method, path.replace(sid, SOME_SID), bearer(tokenB), body);
      expect(asB.status).toBe(404);
      expect(asB.body.error).toBe('not_found');
      // Indistinguishable from a session that does not exist (the message names the id asked for).
      expect(asB.body).toEqual({ ...missing.body, message: missing.body.message.replace(SOME_SID, sid) });
    }
  });

  test("A's session is untouched: still in progress with its part, and A completes it", async () => {
    const status = await call('GET', `/upload/${sid}/status`, bearer(tokenA));
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ status: 'in_progress', completed_parts: [1] });
    const done = await call('POST', `/upload/${sid}/complete`, bearer(tokenA), {});
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    // Completed, and still B's 404.
    expect((await call('GET', `/upload/${sid}/status`, bearer(tokenB))).status).toBe(404);
  });

  test('the CLI sends --token (over MPU_TOKEN over the endpoints file): B uploads, A cannot see it', async () => {
    const file = join(dir, 'b.bin');
    writeFileSync(file, randomBytes(1024));
    // MPU_TOKEN is A's, --token is B's: the flag wins, so the session is B's.
    const up = await mpu(['upload', file, '--token', tokenB, '--json', '--no-state', '-q'], { MPU_TOKEN: tokenA });
    expect(up.code).toBe(0);
    const result = JSON.parse(up.stdout.trim().split('\n').pop()!) as { session_id: string; file_path: string };
    objects.push(result.file_path.split('/').slice(3).join('/'));
    const asA = await mpu(['status', result.session_id, '--json'], { MPU_TOKEN: tokenA });
    expect(asA.code).toBe(4);
    expect(asA.stderr).toMatch(/not_found/);
    const asB = await mpu(['status', result.session_id, '--json'], { MPU_TOKEN: tokenB });
    expect(asB.code).toBe(0);
    expect(JSON.parse(asB.stdout)).toMatchObject({ session_id: result.session_id, status: 'completed' });
  });
});
