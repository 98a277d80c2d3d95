/**
 * The issuer's public keys, as API Gateway's JWT authorizer finds and keeps them: the OIDC
 * discovery document at `<issuer>/.well-known/openid-configuration` names the `jwks_uri`, whose
 * keys are used for `cacheSeconds`. The guide: "API Gateway can cache public keys for two hours.
 * As a best practice, when you rotate keys, allow a grace period during which both the old and
 * new keys are valid." It does not say that an unknown `kid` makes API Gateway fetch again, so we
 * do not: a token signed by a key published after our fetch is refused until the cache expires,
 * which is the worst case on AWS too.
 */
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { JwtRefusal, type RsaAlgorithm } from './rules.js';

/** API Gateway's documented upper bound for keeping an issuer's keys. */
export const DEFAULT_JWKS_CACHE_SECONDS = 2 * 60 * 60;

/** The issuer's keys could not be fetched: a configuration or availability problem, not a bad token. */
export class JwksUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailable';
  }
}

export interface JwksOptions {
  issuer: string;
  cacheSeconds?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Per HTTP request. */
  timeoutMs?: number;
}

/** The verification key for a token's `kid` and `alg`. */
export type KeyLookup = (kid: string, alg: RsaAlgorithm) => Promise<CryptoKey | Uint8Array>;

/** The discovery document URL of an issuer (OpenID Connect Discovery 1.0, section 4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Signing keys of a JWK Set that an RSA algorithm can use; others (enc keys, EC, oct) are ignored. */
export function rsaSigningKeys(jwks: unknown): Map<string, JWK> {
  const keys = new Map<string, JWK>();
  const list = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new JwksUnavailable('the JWKS has no "keys" array');
  for (const k of list as JWK[]) {
    if (typeof k !== 'object' || k === null || k.kty !== 'RSA' || typeof k.kid !== 'string') continue;
    if (k.use !== undefined && k.use !== 'sig') continue;
    keys.set(k.kid, k);
  }
  return keys;
}

export interface JwksCache {
  keyFor: KeyLookup;
  /** Fetches made so far (discovery + JWKS count as one), for tests and logs. */
  readonly fetches: number;
}

/** A key lookup backed by the issuer's discovery document and JWKS, cached like API Gateway. */
export function jwksCache(opts: JwksOptions): JwksCache {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const ttlMs = (opts.cacheSeconds ?? DEFAULT_JWKS_CACHE_SECONDS) * 1000;
  const timeoutMs = opts.timeoutMs ?? 5000;
  let cached: { keys: Map<string, JWK>; imported: Map<string, Promise<CryptoKey | Uint8Array>>; until: number } | undefined;
  let inflight: Promise<NonNullable<typeof cached>> | undefined;
  let fetches = 0;

  const getJson = async (url: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new JwksUnavailable(`cannot fetch ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (!res.ok) throw new JwksUnavailable(`${url} answered ${res.status}`);
    try {
      return await res.json();
    } catch (e) {
      throw new JwksUnavailable(`${url} is not JSON`, { cause: e });
    }
  };

  const load = async () => {
    fetches++;
    const discovery = (await getJson(discoveryUrl(opts.issuer))) as { jwks_uri?: unknown } | null;
    if (typeof discovery?.jwks_uri !== 'string') throw new JwksUnavailable(`${discoveryUrl(opts.issuer)} names no jwks_uri`);
    const keys = rsaSigningKeys(await getJson(discovery.jwks_uri));
    return { keys, imported: new Map<string, Promise<CryptoKey | Uint8Array>>(), until: now() + ttlMs };
  };

  const current = async () => {
    if (cached && cached.until > now()) return cached;
    // Concurrent requests share one fetch; a failed fetch is not cached, so the next request retries.
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    cached = await inflight;
    return cached;
  };

  return {
    get fetches() {
      return fetches;
    },
    async keyFor(kid, alg) {
      const set = await current();
      const jwk = set.keys.get(kid);
      if (!jwk) throw new JwtRefusal('kid', 'the token kid does not match any key of the issuer');
      // A key that names its algorithm is for that algorithm only (RFC 7517, section 4.4).
      if (jwk.alg !== undefined && jwk.alg !== alg) throw new JwtRefusal('algorithm', `signing method ${alg} is invalid for key ${kid}`);
      const id = `${kid}\u0000${alg}`;
      let key = set.imported.get(id);
      if (!key) {
        key = importJWK(jwk, alg).catch((e: unknown) => {
          throw new JwksUnavailable(`key ${kid} of the JWKS cannot be imported for ${alg}`, { cause: e });
        });
        set.imported.set(id, key);
      }
      return key;
    },
  };
}
