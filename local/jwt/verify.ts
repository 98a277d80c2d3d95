/**
 * Verifies one JWT the way API Gateway's JWT authorizer does (rules.ts has the rules and their
 * sources): decode, RSA algorithm and `kid`, signature with the issuer's key, then the claims.
 * Pure apart from the key lookup, which the caller injects (jwks.ts fetches them).
 */
import { compactVerify, decodeProtectedHeader, errors } from 'jose';
import { checkClaims, checkHeader, JwtRefusal, type JwtRules, type RouteScopes } from './rules.js';
import type { KeyLookup } from './jwks.js';

export interface VerifyOptions extends JwtRules {
  keyFor: KeyLookup;
  /** Seconds since the epoch; default the wall clock. */
  nowSeconds?: number;
  routeScopes?: RouteScopes;
}

export interface VerifiedJwt {
  /** The payload as decoded JSON (rendering for the route is renderClaims()'s job). */
  claims: Record<string, unknown>;
  /** `requestContext.authorizer.jwt.scopes`: the token's scopes if the route requires any, else null. */
  scopes: string[] | null;
}

const malformed = (why: string) => new JwtRefusal('malformed', `the token is malformed: ${why}`);

/** The token's claims, or a JwtRefusal saying why API Gateway would refuse it. */
export async function verifyJwt(token: string, opts: VerifyOptions): Promise<VerifiedJwt> {
  // Compact JWS only: three base64url parts. A JWE (five parts) or anything else is refused.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw malformed('not a compact JWS');
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    throw malformed('the header is not base64url JSON');
  }
  const { alg, kid } = checkHeader(header);
  const key = await opts.keyFor(kid, alg);

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch (e) {
    if (e instanceof errors.JWSSignatureVerificationFailed) throw new JwtRefusal('signature', 'the token signature is invalid');
    // jose refuses e.g. an unknown `crit` header or a signature of the wrong length.
    throw malformed(e instanceof Error ? e.message : String(e));
  }

  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw malformed('the payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw malformed('the payload is not a JSON object');
  const record = claims as Record<string, unknown>;
  const nowSeconds = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const scopes = checkClaims(record, opts, nowSeconds, opts.routeScopes);
  return { claims: record, scopes };
}
