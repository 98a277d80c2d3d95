/**
 * A local OpenID Connect issuer on 127.0.0.1, enough for API Gateway's JWT authorizer (and ours,
 * authorizer.ts) to verify its tokens: the discovery document
 * (`/.well-known/openid-configuration`) naming the JWKS (`/.well-known/jwks.json`), and RS256
 * keys made at start. `mint()` signs access tokens for tests and `npm run local -- --auth jwt`;
 * `rotate()` starts signing with a new key, keeping the old one published (the grace period the
 * AWS guide recommends) unless told to retire it.
 *
 * It is a test fixture, not an identity provider: no login, no token endpoint, keys in memory.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface LocalIssuerOptions {
  /** Default: a free port. */
  port?: number;
  /**
   * With `port`: take a free port instead when that one is in use. The issuer URL is baked into
   * the synthesized template (`jwtIssuer`), so a port that stays the same across runs lets the
   * local cloud reuse its cached synth (preferredIssuerPort()).
   */
  portFallback?: boolean;
  /** `aud` of minted tokens unless mint() names one. Default `mpu-local`. */
  audience?: string;
}

export interface MintOptions {
  sub: string;
  /** Default: the issuer's audience. `null` leaves `aud` out (a token identified by `client_id`). */
  aud?: string | string[] | null;
  /** Space-separated scopes (`scope` claim); none by default. */
  scope?: string;
  /** Seconds from now to `exp`; negative for an expired token. Default 3600. */
  expiresIn?: number;
  /** Seconds from now to `nbf`; none by default. */
  notBeforeIn?: number;
  /** `iat` offset from now in seconds (positive: issued in the future). Default 0. */
  issuedAtOffset?: number;
  /** Further claims; they win over the ones above (e.g. `iss` for a wrong-issuer token). */
  claims?: Record<string, unknown>;
  /** Sign with this published key instead of the current one. */
  kid?: string;
}

export interface LocalIssuer {
  /** The issuer identifier (`iss`), e.g. `http://127.0.0.1:43117`; what the authorizer is configured with. */
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  /** Key ids in the JWKS, oldest first. */
  readonly publishedKids: readonly string[];
  /** The key new tokens are signed with. */
  readonly signingKid: string;
  /** Requests served, for tests that check key caching. */
  readonly requests: { discovery: number; jwks: number };
  mint(o: MintOptions): Promise<string>;
  /** A new signing key (returns its kid); the old stays published unless `retireOld`. */
  rotate(o?: { retireOld?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/**
 * A port for the issuer that is the same on every run for the same `seed` (e.g. the project
 * directory), below Linux's ephemeral range so the system does not hand it out to others.
 */
export function preferredIssuerPort(seed: string): number {
  return 20_000 + (createHash('sha256').update(seed).digest().readUInt16BE(0) % 10_000);
}

interface IssuerKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(): Promise<IssuerKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint: a stable, unique kid without a counter to keep.
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

export async function startLocalIssuer(opts: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const audience = opts.audience ?? 'mpu-local';
  const keys: IssuerKey[] = [await newKey()];
  let signing = keys[0]!;
  const requests = { discovery: 0, jwks: 0 };
  let issuer = '';

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method !== 'GET') return json(405, { error: 'method not allowed' });
    if (path === '/.well-known/openid-configuration') {
      requests.discovery++;
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (path === '/.well-known/jwks.json') {
      requests.jwks++;
      return json(200, { keys: keys.map((k) => k.publicJwk) });
    }
    return json(404, { error: 'not found' });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(opts.port ?? 0);
  } catch (e) {
    if (!opts.portFallback || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    await listen(0);
  }
  // Never keeps a test or `npm run local` alive by itself.
  server.unref();
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    audience,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    get publishedKids() {
      return keys.map((k) => k.kid);
    },
    get signingKid() {
      return signing.kid;
    },
    requests,
    async mint(o) {
      const key = o.kid ? keys.find((k) => k.kid === o.kid) : signing;
      if (!key) throw new Error(`no published key ${o.kid}`);
      const now = Math.floor(Date.now() / 1000);
      const aud = o.aud === undefined ? audience : o.aud;
      const claims: Record<string, unknown> = {
        iss: issuer,
        sub: o.sub,
        ...(aud !== null ? { aud } : {}),
        iat: now + (o.issuedAtOffset ?? 0),
        exp: now + (o.expiresIn ?? 3600),
        ...(o.notBeforeIn !== undefined ? { nbf: now + o.notBeforeIn } : {}),
        ...(o.scope !== undefined ? { scope: o.scope } : {}),
        ...o.claims,
      };
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    async rotate({ retireOld = false } = {}) {
      const next = await newKey();
      if (retireOld) keys.splice(0, keys.length);
      keys.push(next);
      signing = next;
      return next.kid;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
