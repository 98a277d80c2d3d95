/**
 * The rules API Gateway's JWT authorizer (HTTP API) applies to a request, as pure functions.
 * Signature verification and the key fetch are elsewhere (verify.ts, jwks.ts); everything here is
 * decided from the header value, the decoded token and the clock, so unit tests pin it.
 *
 * Source: "Control access to HTTP APIs with JWT authorizers in API Gateway" (AWS developer guide):
 * 1. the identity source holds the token, alone or prefixed with `Bearer `;
 * 2. the token is decoded;
 * 3. algorithm and signature are checked with the public key from the issuer's `jwks_uri`
 *    ("only RSA-based algorithms are supported");
 * 4. claims: `kid` must match a key of the `jwks_uri`; `iss` must match the configured issuer;
 *    `aud` or `client_id` must match one of the configured audiences (`client_id` only when there
 *    is no `aud`); `exp` after now; `nbf` and `iat` before now; `scope` or `scp` must include at
 *    least one of the route's authorization scopes, if the route has any.
 * Any failure refuses the request: 401 `{"message":"Unauthorized"}` with a `www-authenticate`
 * header ("Troubleshooting issues with HTTP API JWT authorizers"). Where the guide is silent we
 * choose the stricter reading, so what passes here passes on AWS; each such place says so.
 */

/** Why a token was refused; `description` goes into `www-authenticate` (see wwwAuthenticate()). */
export type JwtRefusalReason =
  | 'malformed'
  | 'algorithm'
  | 'kid'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'scope';

/** A token API Gateway's JWT authorizer would refuse. A typed error: callers branch on `reason`. */
export class JwtRefusal extends Error {
  constructor(
    readonly reason: JwtRefusalReason,
    readonly description: string,
  ) {
    super(description);
    this.name = 'JwtRefusal';
  }

  /** Insufficient scope is a valid token the route does not accept: 403, as RFC 6750 says. */
  get status(): 401 | 403 {
    return this.reason === 'scope' ? 403 : 401;
  }
}

/**
 * "Only RSA-based algorithms are supported." We accept RS256/384/512 only: whether the RSA-PSS
 * algorithms (PS*) pass on AWS is not documented, and accepting them here could pass a token AWS
 * refuses.
 */
export const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512'] as const;
export type RsaAlgorithm = (typeof RSA_ALGORITHMS)[number];

/**
 * The token in an identity source value: the whole value, or what follows `Bearer `. The prefix is
 * matched exactly (capital B, one space): the guide names no other spelling.
 */
export function tokenFromIdentity(value: string): string {
  return value.startsWith('Bearer ') ? value.slice('Bearer '.length) : value;
}

/** The protected header fields the rules look at. */
export interface JwtHeader {
  alg: RsaAlgorithm;
  kid: string;
}

/** Checks the decoded protected header: an RSA algorithm and a `kid` (looked up in the JWKS). */
export function checkHeader(header: Record<string, unknown>): JwtHeader {
  const alg = header.alg;
  if (typeof alg !== 'string' || !(RSA_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new JwtRefusal('algorithm', `signing method ${typeof alg === 'string' ? alg : 'none'} is invalid`);
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') throw new JwtRefusal('kid', 'the token has no kid header');
  return { alg: alg as RsaAlgorithm, kid };
}

/** What the authorizer is configured with (AWS::ApiGatewayV2::Authorizer JwtConfiguration). */
export interface JwtRules {
  issuer: string;
  audience: readonly string[];
}

/** The route's authorization scopes; empty or undefined: the route requires none. */
export type RouteScopes = readonly string[] | undefined;

/** The token's scopes: `scope` (space-separated, RFC 8693) or else `scp` (array or string). */
export function tokenScopes(claims: Record<string, unknown>): string[] {
  const raw = claims.scope !== undefined ? claims.scope : claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

function numericDate(claims: Record<string, unknown>, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new JwtRefusal('malformed', `the token's ${name} is not a number`);
  return v;
}

/**
 * Checks the claims of a token whose signature was verified, at `nowSeconds`. Returns the scopes
 * the route sees (`requestContext.authorizer.jwt.scopes`): the token's when the route requires
 * scopes, else null.
 *
 * Stricter than the guide where it is silent: `exp` is required (it "must be after the current
 * time", which a missing `exp` is not); `nbf` and `iat` are checked when present. No clock leeway.
 */
export function checkClaims(
  claims: Record<string, unknown>,
  rules: JwtRules,
  nowSeconds: number,
  routeScopes?: RouteScopes,
): string[] | null {
  if (claims.iss !== rules.issuer) throw new JwtRefusal('issuer', 'the token does not have a valid issuer');

  // The one error_description the guide quotes verbatim is this one.
  const badAudience = () => new JwtRefusal('audience', 'the token does not have a valid audience');
  if (claims.aud !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => typeof a === 'string' && rules.audience.includes(a))) throw badAudience();
  } else if (typeof claims.client_id !== 'string' || !rules.audience.includes(claims.client_id)) {
    throw badAudience();
  }

  const exp = numericDate(claims, 'exp');
  if (exp === undefined) throw new JwtRefusal('expired', 'the token has no exp claim');
  if (exp <= nowSeconds) throw new JwtRefusal('expired', 'the token has expired');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > nowSeconds) throw new JwtRefusal('not_yet_valid', 'the token is not valid yet');
  const iat = numericDate(claims, 'iat');
  if (iat !== undefined && iat > nowSeconds) throw new JwtRefusal('issued_in_future', 'the token was issued in the future');

  if (!routeScopes || routeScopes.length === 0) return null;
  const scopes = tokenScopes(claims);
  if (!scopes.some((s) => routeScopes.includes(s))) {
    throw new JwtRefusal('scope', `the token does not have any of the required scopes: ${routeScopes.join(' ')}`);
  }
  return scopes;
}

/**
 * The `www-authenticate` header of a refusal, in the form the guide shows:
 * `Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"`.
 * Only that audience wording is documented; our other descriptions follow its style, so no
 * client should parse them.
 */
export function wwwAuthenticate(refusal: JwtRefusal, routeScopes?: RouteScopes): string {
  const quote = (s: string) => s.replace(/["\\]/g, '');
  const error = refusal.reason === 'scope' ? 'insufficient_scope' : 'invalid_token';
  return `Bearer scope="${quote((routeScopes ?? []).join(' '))}" error="${error}" error_description="${quote(refusal.description)}"`;
}

/**
 * Claim values as the route receives them in `requestContext.authorizer.jwt.claims`: strings.
 * Observed on AWS (events posted in aws-lambda-go#317, awsdocs#113, DefinitelyTyped#75458): strings
 * as they are, numbers as their digits (`"exp": "1612061676"`), arrays of strings as `[a b]`. That
 * is Go's fmt rendering of the decoded JSON, so booleans (`true`), nulls (`<nil>`) and objects
 * (`map[k:v]`, keys sorted) are rendered the same way here; those three are not confirmed.
 */
export function renderClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) out[name] = renderClaim(value);
  return out;
}

export function renderClaim(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(renderClaim).join(' ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${entries.map(([k, v]) => `${k}:${renderClaim(v)}`).join(' ')}]`;
}
