/**
 * The JWT variant (`-c jwtIssuer -c jwtAudience`: API Gateway's JWT authorizer instead of API
 * tokens) end to end on the local cloud: a private gateway and DynamoDB on the shared RGW, running
 * the stack synthesized with the local issuer as `jwtIssuer` (its bundles, its authorizer), whose
 * gateway verifies JWTs like API Gateway (local/jwt/authorizer.ts) against that OIDC issuer
 * (local/jwt/issuer.ts), which runs in this test process. A valid token uploads an object through the
 * API and through the real `mpu` CLI; sessions belong to the token's `sub`; every kind of bad
 * token is refused with 401 and `www-authenticate`, before any handler runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { base64url, generateKeyPair, SignJWT } from 'jose';
import { ROUTES, routePath } from '../../contract/routes.js';
import { preferredIssuerPort, startLocalIssuer, type LocalIssuer } from '../../local/jwt/issuer.js';
import { call, putPart, type ApiAnswer } from './helpers/api.js';
import { s3Client, type E2ETarget } from './helpers/cloud.js';
import { describeLocalCloud, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { finish, lastJson, mpu, ROOT } from './helpers/procs.js';
import { headObject, parseFilePath, sha256, sha256Object } from './helpers/storage.js';

jest.setTimeout(120_000);

const AUDIENCE = 'mpu-e2e-client';
const SOME_SID = 'AAAAAAAAAAAAAAAAAAAAAA';
const MiB = 1024 * 1024;
const run = randomBytes(3).toString('hex');

let issuer: LocalIssuer;
let priv: PrivateCloud;
let s3: S3Client;
let dir: string;
const objects: string[] = [];

/** The private API with this bearer token. */
const as = (token: string): E2ETarget => ({ ...priv.target, token });
const bearer = (token: string) => `Bearer ${token}`;

describeLocalCloud('the JWT variant against a local OIDC issuer', () => {
  beforeAll(async () => {
    // The same issuer URL on every run (unless its port is taken): the JWT variant's synth is then
    // a cache hit after the first run instead of a fresh bundling.
    issuer = await startLocalIssuer({ audience: AUDIENCE, port: preferredIssuerPort(`${ROOT}:jwt-e2e`), portFallback: true });
    // Keys cached 1 s instead of API Gateway's 2 h, so the rotation test need not wait hours.
    // A bucket of its own, so the JWT variant runs with IAM enforced too (each function its own
    // credentials and the template's role statements).
    priv = await startPrivateCloud({
      privateBucket: 'jwt',
      cloud: { jwtAuth: { issuer: issuer.issuer, audience: [AUDIENCE], jwksCacheSeconds: 1 } },
    });
    s3 = s3Client(priv.target);
    dir = mkdtempSync(join(tmpdir(), 'mpu-jwt-e2e-'));
  });

  afterAll(async () => {
    await Promise.all(objects.map((Key) => s3?.send(new DeleteObjectCommand({ Bucket: priv.target.bucket, Key })).catch(() => undefined)));
    s3?.destroy();
    await priv?.stop();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the gateway runs the synthesized JWT variant with IAM: its authorizer is the template\'s, with the local issuer', () => {
    expect(priv.cloud.stack?.authorizer).toMatchObject({ kind: 'jwt', issuer: issuer.issuer, audience: [AUDIENCE] });
    // No Lambda authorizer function is deployed in this variant.
    expect(Object.keys(priv.cloud.stack?.functions ?? {})).not.toContain('authorizer');
    // IAM is enforced: the functions sign with their own keys, not the cloud's admin keys.
    expect(priv.cloud.handlerEnv.AWS_ACCESS_KEY_ID).toBeDefined();
    expect(priv.cloud.handlerEnv.AWS_ACCESS_KEY_ID).not.toBe(priv.target.credentials?.accessKeyId);
  });

  test('a valid token uploads end to end: init, PUT both parts, complete; the object is the bytes sent', async () => {
    const t = as(await issuer.mint({ sub: `alice-${run}` }));
    const bytes = randomBytes(5 * MiB + 4321);
    const init = await call(t, 'POST', '/upload/init', { json: { filename: 'jwt.bin', file_size: bytes.length } });
    expect(init.status).toBe(201);
    const { session_id: sid, chunk_size: chunk, total_parts: total } = init.body as { session_id: string; chunk_size: number; total_parts: number };
    expect(total).toBe(Math.ceil(bytes.length / chunk));
    expect(total).toBeGreaterThan(1);
    for (let n = 1; n <= total; n++) {
      const put = await putPart(t, sid, n, bytes.subarray((n - 1) * chunk, n * chunk));
      expect(put.status).toBe(200);
    }
    const done = await call(t, 'POST', `/upload/${sid}/complete`, { json: {} });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    const { bucket, key } = parseFilePath(done.body.file_path as string);
    objects.push(key);
    expect(await headObject(s3, bucket, key)).toMatchObject({ size: bytes.length });
    expect(await sha256Object(s3, bucket, key)).toBe(sha256(bytes));
  });

  test("sessions belong to the token's sub: another sub gets 404 exactly as for a missing session", async () => {
    const a = as(await issuer.mint({ sub: `a-${run}` }));
    // B: another user of the same issuer and audience, here identified by client_id (no aud).
    const b = as(await issuer.mint({ sub: `b-${run}`, aud: null, claims: { client_id: AUDIENCE } }));
    const init = await call(a, 'POST', '/upload/init', { json: { filename: 'owned.bin', file_size: 0 } });
    expect(init.status).toBe(201);
    const sid = init.body.session_id as string;
    objects.push(`uploads/${sid}/owned.bin`);
    const attempts = [
      ['GET', `/upload/${sid}/status`, undefined],
      ['POST', `/upload/${sid}/parts`, { parts: [{ part_number: 1 }] }],
      ['POST', `/upload/${sid}/complete`, {}],
      ['DELETE', `/upload/${sid}`, undefined],
    ] as const;
    for (const [method, path, json] of attempts) {
      const asB = await call(b, method, path, json === undefined ? {} : { json });
      const missing = await call(b, method, path.replace(sid, SOME_SID), json === undefined ? {} : { json });
      expect(asB.status).toBe(404);
      expect(asB.body).toEqual({ ...missing.body, message: (missing.body.message as string).replace(SOME_SID, sid) });
    }
    // Untouched: A still sees it open, and the same sub with a fresh token is the same owner.
    const again = as(await issuer.mint({ sub: `a-${run}` }));
    const status = await call(again, 'GET', `/upload/${sid}/status`);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('in_progress');
    expect((await call(again, 'DELETE', `/upload/${sid}`)).status).toBe(200);
  });

  describe('refusals happen before any route runs: 401 {"message":"Unauthorized"} with www-authenticate', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (over: Record<string, unknown> = {}) => ({ iss: issuer.issuer, aud: AUDIENCE, sub: `x-${run}`, iat: now(), exp: now() + 600, ...over });
    const foreign = async (header: { alg: string; kid?: string }, c = claims()) => {
      const { privateKey } = await generateKeyPair(header.alg, { modulusLength: 2048 });
      return new SignJWT(c).setProtectedHeader(header).sign(privateKey);
    };
    const unsigned = (header: Record<string, unknown>) =>
      `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims()))}.`;

    const cases: Array<[string, () => Promise<string>, string]> = [
      ['expired', () => issuer.mint({ sub: 'x', expiresIn: -5 }), 'the token has expired'],
      ['not yet valid (nbf)', () => issuer.mint({ sub: 'x', notBeforeIn: 300 }), 'the token is not valid yet'],
      ['issued in the future (iat)', () => issuer.mint({ sub: 'x', issuedAtOffset: 300 }), 'the token was issued in the future'],
      ['wrong issuer', () => issuer.mint({ sub: 'x', claims: { iss: 'https://idp.example.com/' } }), 'the token does not have a valid issuer'],
      ['wrong audience', () => issuer.mint({ sub: 'x', aud: 'another-client' }), 'the token does not have a valid audience'],
      ['unknown kid', () => foreign({ alg: 'RS256', kid: 'never-published' }), 'the token kid does not match any key of the issuer'],
      ['bad signature (another key, the issuer kid)', () => foreign({ alg: 'RS256', kid: issuer.signingKid }), 'the token signature is invalid'],
      ['alg none', async () => unsigned({ alg: 'none', kid: issuer.signingKid }), 'signing method none is invalid'],
      [
        'HS256 keyed with the issuer JWKS (algorithm confusion)',
        async () =>
          new SignJWT(claims())
            .setProtectedHeader({ alg: 'HS256', kid: issuer.signingKid })
            .sign(new TextEncoder().encode(await (await fetch(issuer.jwksUri)).text())),
        'signing method HS256 is invalid',
      ],
      ['an API token instead of a JWT', async () => `mpu_${'a'.repeat(12)}_${'b'.repeat(43)}`, 'the token is malformed: not a compact JWS'],
    ];

    test.each(cases)('%s', async (_what, make, description) => {
      const token = await make();
      const r: ApiAnswer = await call(priv.target, 'POST', '/upload/init', { json: { filename: 'x.bin', file_size: 1 }, authorization: bearer(token) });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ message: 'Unauthorized' });
      expect(r.headers.get('www-authenticate')).toBe(`Bearer scope="" error="invalid_token" error_description="${description}"`);
    });

    test.each(ROUTES.map((r) => [r.id, r.method, routePath(r.id, { session_id: SOME_SID })] as const))(
      '%s without Authorization: 401, no challenge',
      async (_id, method, path) => {
        const r = await call(priv.target, method, path, { authorization: null, ...(method === 'POST' ? { json: {} } : {}) });
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ message: 'Unauthorized' });
        expect(r.headers.get('www-authenticate')).toBeNull();
      },
    );

    test('the token alone (without "Bearer ") is accepted, as the guide says', async () => {
      const token = await issuer.mint({ sub: `raw-${run}` });
      const r = await call(priv.target, 'GET', `/upload/${SOME_SID}/status`, { authorization: token });
      // Past the authorizer: the handler's own 404 for a session that does not exist.
      expect(r.status).toBe(404);
      expect(r.body.error).toBe('not_found');
    });
  });

  test('key rotation: the new key is used once the gateway refetches; a retired key is refused', async () => {
    const old = await issuer.mint({ sub: `rot-${run}` });
    const path = `/upload/${SOME_SID}/status`;
    const statusWith = async (token: string) => (await call(priv.target, 'GET', path, { authorization: bearer(token) })).status;
    expect(await statusWith(old)).toBe(404);
    await issuer.rotate();
    const fresh = await issuer.mint({ sub: `rot-${run}` });
    // The gateway keeps keys for 1 s here (2 h on AWS): past that it has the new one.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await statusWith(fresh)).toBe(404);
    expect(await statusWith(old)).toBe(404);
    await issuer.rotate({ retireOld: true });
    const newest = await issuer.mint({ sub: `rot-${run}` });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await statusWith(newest)).toBe(404);
    expect(await statusWith(old)).toBe(401);
    expect(await statusWith(fresh)).toBe(401);
  });

  test('the mpu CLI uploads with a JWT as its --token, and the session is owned by its sub', async () => {
    const file = join(dir, 'cli.bin');
    const bytes = randomBytes(256 * 1024);
    writeFileSync(file, bytes);
    const token = await issuer.mint({ sub: `cli-${run}` });
    const up = mpu(['upload', file, '--api', priv.target.apiUrl, '--token', token, '--json', '--no-state', '-q']);
    expect(await finish(up, 90_000)).toBe(0);
    const result = lastJson(up.stdout) as { session_id: string; file_path: string };
    const { bucket, key } = parseFilePath(result.file_path);
    objects.push(key);
    expect(await sha256Object(s3, bucket, key)).toBe(sha256(bytes));
    const other = mpu(['status', result.session_id, '--api', priv.target.apiUrl, '--token', await issuer.mint({ sub: `other-${run}` }), '--json']);
    expect(await finish(other, 30_000)).toBe(4);
    const mine = mpu(['status', result.session_id, '--api', priv.target.apiUrl, '--token', token, '--json']);
    expect(await finish(mine, 30_000)).toBe(0);
    expect(lastJson(mine.stdout)).toMatchObject({ session_id: result.session_id, status: 'completed' });
    // An expired JWT: the CLI's authentication failure (exit 6). Its hint names a missing token,
    // as for any 401: it does not show the gateway's www-authenticate reason.
    const expired = mpu(['status', result.session_id, '--api', priv.target.apiUrl, '--token', await issuer.mint({ sub: `cli-${run}`, expiresIn: -1 })]);
    expect(await finish(expired, 30_000)).toBe(6);
    expect(expired.stderr).toMatch(/\(unauthorized\)/);
  });
});
