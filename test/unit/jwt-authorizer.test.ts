/**
 * The local JWT authorizer (local/jwt/authorizer.ts) against the local issuer
 * (local/jwt/issuer.ts) on 127.0.0.1: real RS256 keys, real discovery and JWKS fetches. Every kind
 * of bad token is refused with 401 and a `www-authenticate` header; tampered tokens are refused
 * whatever byte changed; keys are cached like API Gateway caches them; and the local gateway puts
 * the claims where API Gateway puts them.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { generateKeyPair, SignJWT, base64url } from 'jose';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { jwtAuthorizer, type JwtAuthorizer } from '../../local/jwt/authorizer.js';
import { jwtAuthFromEnv, jwtGatewayEnv } from '../../local/jwt/gateway-env.js';
import { preferredIssuerPort, startLocalIssuer, type LocalIssuer } from '../../local/jwt/issuer.js';
import { JwksUnavailable } from '../../local/jwt/jwks.js';
import { matchRoute, createRouter } from '../../lambdas/http/router.js';
import { authorizedRouter } from '../../lambdas/http/authorization.js';
import { toEvent } from '../../local/gateway-event.js';
import { startGatewayServer } from '../../local/gateway.js';

const SID = 'AbCdEfGhIjKlMnOpQrStUv';
const MATCH = (() => {
  const m = matchRoute('GET', `/upload/${SID}/status`);
  if (!m) throw new Error('no status route');
  return m;
})();

function eventWith(authorization?: string): APIGatewayProxyEventV2 {
  const headers = authorization === undefined ? [] : ['Authorization', authorization];
  return toEvent({ method: 'GET', url: `/upload/${SID}/status`, httpVersion: '1.1', rawHeaders: ['Host', 'api.example.com', ...headers], body: Buffer.alloc(0) });
}

let issuer: LocalIssuer;
let authorize: JwtAuthorizer;

beforeAll(async () => {
  issuer = await startLocalIssuer({ audience: 'mpu-test' });
  authorize = jwtAuthorizer({ issuer: issuer.issuer, audience: ['mpu-test', 'other-app'] });
});
afterAll(() => issuer.close());

async function decide(token: string | undefined, hook: JwtAuthorizer = authorize) {
  return hook(eventWith(token === undefined ? undefined : `Bearer ${token}`), MATCH);
}

/** The refusal's error_description, or 'accepted'. */
async function outcome(token: string, hook?: JwtAuthorizer): Promise<string> {
  const d = await decide(token, hook);
  if (d.isAuthorized) return 'accepted';
  expect(d.status).toBe(401);
  expect(d.wwwAuthenticate).toMatch(/^Bearer scope="" error="invalid_token" error_description="[^"]+"$/);
  return /error_description="([^"]+)"/.exec(d.wwwAuthenticate!)![1]!;
}

/** A token signed with a key the issuer never published. */
async function foreignToken(claims: Record<string, unknown>, header: { alg: string; kid?: string }) {
  const { privateKey } = await generateKeyPair(header.alg, { modulusLength: 2048 });
  return new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
}

function claimsOf(over: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer.issuer, aud: 'mpu-test', sub: 'alice', iat: now, exp: now + 600, ...over };
}

describe('valid tokens', () => {
  test('pass, with the claims rendered as strings and scopes null, with or without "Bearer "', async () => {
    const token = await issuer.mint({ sub: 'alice', claims: { groups: ['a', 'b'] } });
    const d = await decide(token);
    expect(d.isAuthorized).toBe(true);
    if (!d.isAuthorized) return;
    expect(d.jwt?.scopes).toBeNull();
    expect(d.jwt?.claims).toMatchObject({ sub: 'alice', iss: issuer.issuer, aud: 'mpu-test', groups: '[a b]' });
    expect(d.jwt?.claims.exp).toMatch(/^\d+$/);
    expect((await authorize(eventWith(token), MATCH)).isAuthorized).toBe(true);
  });

  test('any configured audience, and client_id when there is no aud', async () => {
    expect(await outcome(await issuer.mint({ sub: 'a', aud: ['x', 'other-app'] }))).toBe('accepted');
    expect(await outcome(await issuer.mint({ sub: 'a', aud: null, claims: { client_id: 'mpu-test' } }))).toBe('accepted');
  });

  test('route scopes: one of them is needed (403 insufficient_scope), and the route sees the token scopes', async () => {
    const scoped = jwtAuthorizer({ issuer: issuer.issuer, audience: ['mpu-test'], routeScopes: () => ['mpu/upload'] });
    const ok = await decide(await issuer.mint({ sub: 'a', scope: 'openid mpu/upload' }), scoped);
    expect(ok).toMatchObject({ isAuthorized: true, jwt: { scopes: ['openid', 'mpu/upload'] } });
    const no = await decide(await issuer.mint({ sub: 'a', scope: 'openid' }), scoped);
    expect(no).toMatchObject({ isAuthorized: false, status: 403 });
    if (!no.isAuthorized) expect(no.wwwAuthenticate).toContain('scope="mpu/upload" error="insufficient_scope"');
  });
});

describe('refused tokens: 401 with www-authenticate', () => {
  test('no Authorization: 401 without a challenge and without fetching keys', async () => {
    const fresh = jwtAuthorizer({ issuer: issuer.issuer, audience: ['mpu-test'] });
    expect(await fresh(eventWith(), MATCH)).toEqual({ isAuthorized: false, status: 401 });
    expect(await fresh(eventWith(''), MATCH)).toEqual({ isAuthorized: false, status: 401 });
    expect(fresh.jwks.fetches).toBe(0);
  });

  test('expired, not yet valid, issued in the future, wrong issuer, wrong audience', async () => {
    expect(await outcome(await issuer.mint({ sub: 'a', expiresIn: -1 }))).toBe('the token has expired');
    expect(await outcome(await issuer.mint({ sub: 'a', expiresIn: 0 }))).toBe('the token has expired');
    expect(await outcome(await issuer.mint({ sub: 'a', notBeforeIn: 120 }))).toBe('the token is not valid yet');
    expect(await outcome(await issuer.mint({ sub: 'a', issuedAtOffset: 120 }))).toBe('the token was issued in the future');
    expect(await outcome(await issuer.mint({ sub: 'a', claims: { iss: `${issuer.issuer}/` } }))).toBe('the token does not have a valid issuer');
    expect(await outcome(await issuer.mint({ sub: 'a', aud: 'someone-else' }))).toBe('the token does not have a valid audience');
    expect(await outcome(await issuer.mint({ sub: 'a', aud: null }))).toBe('the token does not have a valid audience');
  });

  test('unknown kid, no kid, bad signature', async () => {
    expect(await outcome(await foreignToken(claimsOf(), { alg: 'RS256', kid: 'not-published' }))).toBe('the token kid does not match any key of the issuer');
    expect(await outcome(await foreignToken(claimsOf(), { alg: 'RS256' }))).toBe('the token has no kid header');
    // Signed by another key but naming the issuer's kid.
    expect(await outcome(await foreignToken(claimsOf(), { alg: 'RS256', kid: issuer.signingKid }))).toBe('the token signature is invalid');
  });

  test('alg none, HS256 (also keyed with the public key: the algorithm-confusion attack), ES256, PS256', async () => {
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const none = `${enc({ alg: 'none', kid: issuer.signingKid })}.${enc(claimsOf())}.`;
    expect(await outcome(none)).toBe('signing method none is invalid');
    const jwksText = JSON.stringify(await (await fetch(issuer.jwksUri)).json());
    const hs = await new SignJWT(claimsOf()).setProtectedHeader({ alg: 'HS256', kid: issuer.signingKid }).sign(new TextEncoder().encode(jwksText));
    expect(await outcome(hs)).toBe('signing method HS256 is invalid');
    expect(await outcome(await foreignToken(claimsOf(), { alg: 'ES256', kid: issuer.signingKid }))).toBe('signing method ES256 is invalid');
    expect(await outcome(await foreignToken(claimsOf(), { alg: 'PS256', kid: issuer.signingKid }))).toBe('signing method PS256 is invalid');
    // RS512 over the issuer's RS256 key: the key names its algorithm.
    expect(await outcome(await foreignToken(claimsOf(), { alg: 'RS512', kid: issuer.signingKid }))).toMatch(/^signing method RS512 is invalid/);
  });

  test('garbage: not a JWS, a JWE-shaped value, an API token, a header that is not JSON', async () => {
    for (const t of ['x', 'a.b', 'a.b.c.d.e', 'mpu_abc_def', '..', 'bm90anNvbg.e30.']) expect(await outcome(t)).toMatch(/^the token is malformed/);
  });
});

describe('tampering', () => {
  test('a token with any changed byte in header, payload or signature is refused', async () => {
    const token = await issuer.mint({ sub: 'alice' });
    expect(await outcome(token)).toBe('accepted');
    const parts = token.split('.').map((p) => Buffer.from(p, 'base64url'));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 2 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (part, at, xor) => {
        const bytes = Buffer.from(parts[part]!);
        bytes[at % bytes.length]! ^= xor;
        const tampered = parts.map((p, i) => (i === part ? bytes : p).toString('base64url')).join('.');
        expect(await outcome(tampered)).not.toBe('accepted');
      }),
      { numRuns: 300 },
    );
  });

  test('a re-encoded payload with any claim changed (not re-signed) is refused', async () => {
    const token = await issuer.mint({ sub: 'alice' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(claims)), fc.jsonValue(), async (name, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(claims[name]));
        const forged = Buffer.from(JSON.stringify({ ...claims, [name]: value })).toString('base64url');
        expect(await outcome(`${h}.${forged}.${s}`)).not.toBe('accepted');
      }),
      { numRuns: 100 },
    );
  });
});

describe('keys', () => {
  test('discovery and JWKS are fetched once and cached', async () => {
    const hook = jwtAuthorizer({ issuer: issuer.issuer, audience: ['mpu-test'] });
    const token = await issuer.mint({ sub: 'a' });
    const results = await Promise.all(Array.from({ length: 10 }, () => decide(token, hook)));
    expect(results.every((r) => r.isAuthorized)).toBe(true);
    expect(hook.jwks.fetches).toBe(1);
  });

  test('rotation: a new key works once the cache expires (not before); the old one while published', async () => {
    const own = await startLocalIssuer({ audience: 'mpu-test' });
    let now = Date.now();
    const hook = jwtAuthorizer({ issuer: own.issuer, audience: ['mpu-test'], jwksCacheSeconds: 60, now: () => now });
    try {
      const before = await own.mint({ sub: 'a' });
      expect(await outcome(before, hook)).toBe('accepted');
      await own.rotate();
      const after = await own.mint({ sub: 'a' });
      // Not refetched on an unknown kid: refused until the cache expires, the worst case on AWS.
      expect(await outcome(after, hook)).toBe('the token kid does not match any key of the issuer');
      now += 61_000;
      expect(await outcome(after, hook)).toBe('accepted');
      expect(await outcome(before, hook)).toBe('accepted');
      await own.rotate({ retireOld: true });
      now += 61_000;
      expect(await outcome(before, hook)).toBe('the token kid does not match any key of the issuer');
      expect(own.publishedKids).toHaveLength(1);
      expect(hook.jwks.fetches).toBe(3);
    } finally {
      await own.close();
    }
  });

  test('an unreachable issuer throws JwksUnavailable (the gateway answers 500), and is retried next time', async () => {
    const gone = await startLocalIssuer();
    const url = gone.issuer;
    const token = await gone.mint({ sub: 'a' });
    await gone.close();
    const hook = jwtAuthorizer({ issuer: url, audience: ['mpu-local'] });
    await expect(decide(token, hook)).rejects.toBeInstanceOf(JwksUnavailable);
    await expect(decide(token, hook)).rejects.toBeInstanceOf(JwksUnavailable);
    expect(hook.jwks.fetches).toBe(2);
  });

  test('the discovery document names the JWKS; keys are RSA signing keys with kid and alg', async () => {
    const doc = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri });
    const jwks = (await (await fetch(issuer.jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.map((k) => k.kid)).toEqual(issuer.publishedKids);
    for (const k of jwks.keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(k).not.toHaveProperty('d');
    }
  });
});

describe('gateway environment', () => {
  test('round trip; nothing set means no JWT authorizer', () => {
    const env = jwtGatewayEnv({ issuer: 'http://127.0.0.1:1', audience: ['a', 'b'], jwksCacheSeconds: 5 });
    expect(jwtAuthFromEnv(env)).toEqual({ issuer: 'http://127.0.0.1:1', audience: ['a', 'b'], jwksCacheSeconds: 5 });
    expect(jwtAuthFromEnv({})).toBeUndefined();
    expect(jwtGatewayEnv(undefined)).toEqual({});
    expect(() => jwtAuthFromEnv({ MPU_GATEWAY_JWT_ISSUER: 'http://x' })).toThrow(/AUDIENCE/);
  });
});

describe('in the local gateway', () => {
  test('401 {"message":"Unauthorized"} with www-authenticate; a valid token reaches the route as authorizer.jwt', async () => {
    const echo = async (e: APIGatewayProxyEventV2) => ({ statusCode: 200, body: JSON.stringify(e.requestContext) });
    const m = async () => ({ handler: echo });
    const gw = await startGatewayServer({ router: createRouter({ init: m, parts: m, status: m, complete: m, abort: m }), authorize });
    const get = (authorization: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = request(`${gw.url}/upload/${SID}/status`, { headers: { authorization } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const bad = await get(`Bearer ${await issuer.mint({ sub: 'a', aud: 'nope' })}`);
      expect(bad.status).toBe(401);
      expect(JSON.parse(bad.body)).toEqual({ message: 'Unauthorized' });
      expect(bad.headers['www-authenticate']).toBe('Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"');
      const ok = await get(`Bearer ${await issuer.mint({ sub: 'bob' })}`);
      expect(ok.status).toBe(200);
      const rc = JSON.parse(ok.body) as { authorizer: { jwt: { claims: Record<string, string>; scopes: unknown }; lambda?: unknown } };
      expect(rc.authorizer.jwt.claims.sub).toBe('bob');
      expect(rc.authorizer.jwt.scopes).toBeNull();
      expect(rc.authorizer.lambda).toBeUndefined();
    } finally {
      await gw.close();
    }
  });
});

describe('issuer port', () => {
  test('the preferred port is stable per seed and below the ephemeral range; a taken one falls back to a free port', async () => {
    const p = preferredIssuerPort('/some/project');
    expect(p).toBe(preferredIssuerPort('/some/project'));
    expect(p).toBeGreaterThanOrEqual(20_000);
    expect(p).toBeLessThan(30_000);
    const taken = Number(new URL(issuer.issuer).port);
    await expect(startLocalIssuer({ port: taken })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const other = await startLocalIssuer({ port: taken, portFallback: true });
    try {
      expect(other.issuer).not.toBe(issuer.issuer);
      expect((await fetch(`${other.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('behind authorizedRouter (the Function URL entry point shape)', () => {
  test('a refusal carries www-authenticate; a valid token dispatches with authorizer.jwt only', async () => {
    const seen: APIGatewayProxyEventV2[] = [];
    const echo = async (e: APIGatewayProxyEventV2) => {
      seen.push(e);
      return { statusCode: 200, body: 'ok' };
    };
    const m = async () => ({ handler: echo });
    const entry = authorizedRouter(createRouter({ init: m, parts: m, status: m, complete: m, abort: m }), authorize);
    const refused = (await entry(eventWith(`Bearer ${await issuer.mint({ sub: 'a', expiresIn: -1 })}`), undefined as never)) as {
      statusCode: number;
      headers: Record<string, string>;
    };
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error_description="the token has expired"');
    expect(seen).toHaveLength(0);
    const forged = eventWith(`Bearer ${await issuer.mint({ sub: 'carol' })}`);
    (forged.requestContext as unknown as { authorizer: unknown }).authorizer = { lambda: { owner: 'mallory' } };
    expect(((await entry(forged, undefined as never)) as { statusCode: number }).statusCode).toBe(200);
    expect((seen[0]!.requestContext as unknown as { authorizer: unknown }).authorizer).toEqual({
      jwt: { claims: expect.objectContaining({ sub: 'carol' }), scopes: null },
    });
  });
});
