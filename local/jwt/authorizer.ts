/**
 * API Gateway's JWT authorizer (HTTP API) as an AuthorizeHook for the local gateway: the same
 * place in the request as a Lambda authorizer (after route match, before the integration), but
 * nothing is invoked and nothing is cached per token: each request's JWT is verified (verify.ts)
 * against the issuer's keys (jwks.ts, cached like API Gateway caches them).
 *
 * - no identity source value (no or an empty `Authorization`): 401, like every HTTP API authorizer
 * - a refused token: 401 `{"message":"Unauthorized"}` with `www-authenticate` saying why
 *   (403 for a valid token without the route's scopes)
 * - a valid token: the route gets `requestContext.authorizer.jwt` = `{ claims, scopes }`,
 *   claims rendered as API Gateway renders them (rules.ts renderClaims)
 * - the issuer's keys cannot be fetched: the hook throws JwksUnavailable, which the gateway answers
 *   with 500 and logs (AWS's answer in that case is not documented; loud beats a silent 401 here)
 */
import {
  IDENTITY_SOURCE,
  identitySourceValues,
  type AuthorizeDecision,
  type AuthorizeHook,
} from '../../lambdas/http/authorization.js';
import type { RouteMatch } from '../../lambdas/http/router.js';
import { jwksCache, type JwksCache } from './jwks.js';
import { JwtRefusal, renderClaims, tokenFromIdentity, wwwAuthenticate, type RouteScopes } from './rules.js';
import { verifyJwt } from './verify.js';

export interface JwtAuthorizerConfig {
  /** The authorizer's JwtConfiguration.Issuer (lib/settings.ts JwtAuthSettings.issuer). */
  issuer: string;
  /** JwtConfiguration.Audience. */
  audience: readonly string[];
  /** Default `$request.header.Authorization`, the only one the stack uses. */
  identitySource?: readonly string[];
  /** A route's AuthorizationScopes; default none (the stack sets none). */
  routeScopes?: (match: RouteMatch) => RouteScopes;
  /** How long the issuer's keys are used before fetching again; default 2 h like API Gateway. */
  jwksCacheSeconds?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export interface JwtAuthorizer extends AuthorizeHook {
  readonly jwks: JwksCache;
  /** Counters for tests and logs: verified and refused tokens, requests without a token. */
  readonly stats: { allowed: number; refused: number; missingIdentity: number };
}

/** An AuthorizeHook that behaves like an API Gateway JWT authorizer with this configuration. */
export function jwtAuthorizer(config: JwtAuthorizerConfig): JwtAuthorizer {
  const now = config.now ?? Date.now;
  const sources = config.identitySource ?? IDENTITY_SOURCE;
  const jwks = jwksCache({
    issuer: config.issuer,
    now,
    ...(config.jwksCacheSeconds !== undefined ? { cacheSeconds: config.jwksCacheSeconds } : {}),
    ...(config.fetch ? { fetch: config.fetch } : {}),
  });
  const stats = { allowed: 0, refused: 0, missingIdentity: 0 };
  const hook = (async (event, match): Promise<AuthorizeDecision> => {
    const identity = identitySourceValues(event, sources);
    if (!identity) {
      stats.missingIdentity++;
      return { isAuthorized: false, status: 401 };
    }
    const routeScopes = config.routeScopes?.(match);
    try {
      const { claims, scopes } = await verifyJwt(tokenFromIdentity(identity[0]!), {
        issuer: config.issuer,
        audience: config.audience,
        keyFor: jwks.keyFor,
        nowSeconds: Math.floor(now() / 1000),
        routeScopes,
      });
      stats.allowed++;
      return { isAuthorized: true, jwt: { claims: renderClaims(claims), scopes } };
    } catch (e) {
      if (!(e instanceof JwtRefusal)) throw e;
      stats.refused++;
      return { isAuthorized: false, status: e.status, wwwAuthenticate: wwwAuthenticate(e, routeScopes) };
    }
  }) as JwtAuthorizer;
  Object.assign(hook, { jwks, stats });
  return hook;
}
