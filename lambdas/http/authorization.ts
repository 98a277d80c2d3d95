/**
 * What API Gateway (HTTP API) does around a Lambda authorizer, for the two places that have no
 * API Gateway in front of the handlers: the local gateway (local/gateway.ts) and the Function URL
 * router (lambdas/handlers/router.ts). Both call the SAME authorizer handler the HTTP API calls.
 *
 * Copied behaviour (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html):
 * - it runs after route selection (an unknown route is 404 without authorization)
 * - identity source `$request.header.Authorization`: missing or empty -> 401
 *   `{"message":"Unauthorized"}`, the authorizer is not invoked
 * - the authorizer gets a payload 2.0 REQUEST event: `identitySource` (the values), `routeArn`,
 *   `routeKey`, headers, path parameters, the request context
 * - simple response: `isAuthorized: false` -> 403 `{"message":"Forbidden"}`; true -> the route
 *   runs with `requestContext.authorizer.lambda` = the returned `context`
 * - an authorizer that throws or returns something malformed -> 500 (never a pass)
 * - answers (allow and deny) are cached per identity source value for the TTL; errors are not
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { notFound, withRoute, type RouteHandler, type RouteMatch, type Router } from './router.js';
import { headerOf } from './request.js';

/** The identity source of the authorizer, in API Gateway's syntax (the CDK stack uses it too). */
export const IDENTITY_SOURCE = ['$request.header.Authorization'] as const;

/** API Gateway's default authorizer result TTL; also the stack's default (lib/settings.ts). */
export const DEFAULT_AUTH_CACHE_TTL_SECONDS = 300;

/**
 * Decision of a Lambda authorizer in its "simple response" form, plus 401 for a missing or
 * unusable identity (API Gateway answers that without calling the authorizer).
 */
export type AuthorizeDecision =
  | { isAuthorized: true; context?: Record<string, unknown>; jwt?: JwtAuthorizerContext }
  | { isAuthorized: false; status?: 401 | 403; wwwAuthenticate?: string };

/**
 * What a JWT authorizer hands the route as `requestContext.authorizer.jwt` (ownerOf() reads
 * `claims.sub`): claim values as API Gateway renders them (strings), and the token's scopes when
 * the route requires scopes (else null, as API Gateway sends). The JWT authorizer itself runs only
 * in API Gateway and, locally, in local/jwt/authorizer.ts.
 */
export interface JwtAuthorizerContext {
  claims: Record<string, string>;
  scopes: string[] | null;
}

/** Runs for matched routes only; `context` lands in `requestContext.authorizer.lambda`. */
export type AuthorizeHook = (event: APIGatewayProxyEventV2, match: RouteMatch) => Promise<AuthorizeDecision>;

/** A Lambda authorizer handler (e.g. lambdas/handlers/authorizer.ts). */
export type AuthorizerFunction = (event: APIGatewayRequestAuthorizerEventV2, context?: Context) => Promise<unknown>;

/** The values of the identity sources, or undefined when any is missing or empty (-> 401). */
export function identitySourceValues(
  event: APIGatewayProxyEventV2,
  sources: readonly string[] = IDENTITY_SOURCE,
): string[] | undefined {
  const values: string[] = [];
  for (const source of sources) {
    let value: string | undefined;
    const header = /^\$request\.header\.(.+)$/.exec(source);
    const query = /^\$request\.querystring\.(.+)$/.exec(source);
    if (header) {
      value = headerOf(event.headers, header[1]!);
    } else if (query) {
      value = event.queryStringParameters?.[query[1]!];
    } else {
      throw new Error(`unsupported identity source ${source}`);
    }
    if (value === undefined || value === '') return undefined;
    values.push(value);
  }
  return values;
}

/** The payload 2.0 REQUEST event API Gateway sends a Lambda authorizer for this request. */
export function authorizerEvent(
  event: APIGatewayProxyEventV2,
  match: RouteMatch,
  identitySource: string[],
  region: string,
): APIGatewayRequestAuthorizerEventV2 {
  const routed = withRoute(event, match);
  const rc = routed.requestContext;
  const routeArn = `arn:aws:execute-api:${region}:${rc.accountId}:${rc.apiId}/${rc.stage}/${rc.http.method}${routed.rawPath}`;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn,
    identitySource,
    routeKey: routed.routeKey,
    rawPath: routed.rawPath,
    rawQueryString: routed.rawQueryString,
    cookies: routed.cookies ?? [],
    headers: { ...routed.headers },
    ...(routed.queryStringParameters ? { queryStringParameters: { ...routed.queryStringParameters } } : {}),
    requestContext: rc,
    ...(routed.pathParameters ? { pathParameters: { ...routed.pathParameters } } : {}),
    ...(routed.stageVariables ? { stageVariables: { ...routed.stageVariables } } : {}),
  };
}

/** A simple response as API Gateway reads it; anything else is an authorizer failure (500). */
export function simpleDecision(result: unknown): AuthorizeDecision {
  if (typeof result !== 'object' || result === null || typeof (result as { isAuthorized?: unknown }).isAuthorized !== 'boolean') {
    throw new Error('authorizer returned no boolean isAuthorized (not a simple response)');
  }
  const r = result as { isAuthorized: boolean; context?: unknown };
  if (!r.isAuthorized) return { isAuthorized: false, status: 403 };
  if (r.context !== undefined && (typeof r.context !== 'object' || r.context === null || Array.isArray(r.context))) {
    throw new Error('authorizer context must be an object');
  }
  return { isAuthorized: true, context: { ...((r.context as Record<string, unknown> | undefined) ?? {}) } };
}

/**
 * Authorizer answers by identity source, for `ttlSeconds` (0: no caching). Keys are SHA-256
 * digests, so no token sits in memory as a key; the size is bounded so random tokens cannot
 * grow it without limit (the oldest entry goes first).
 */
export class AuthorizerCache {
  private readonly entries = new Map<string, { decision: AuthorizeDecision; expiresAt: number }>();

  constructor(
    readonly ttlSeconds: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  static key(identitySource: readonly string[]): string {
    return createHash('sha256').update(JSON.stringify(identitySource)).digest('base64url');
  }

  get(key: string): AuthorizeDecision | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.decision;
  }

  set(key: string, decision: AuthorizeDecision): void {
    if (this.ttlSeconds <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { decision, expiresAt: this.now() + this.ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface LambdaAuthorizerOptions {
  authorizer: AuthorizerFunction;
  /** Result cache TTL; API Gateway allows 0 (off) to 3600. */
  cacheTtlSeconds: number;
  identitySource?: readonly string[];
  region?: string;
  /** The Lambda context the authorizer is invoked with. */
  context?: () => Context | undefined;
  now?: () => number;
  maxCacheEntries?: number;
}

export interface LambdaAuthorizer extends AuthorizeHook {
  readonly cache: AuthorizerCache;
  /** Counters for tests and measurements. */
  readonly stats: { invocations: number; cacheHits: number; missingIdentity: number };
}

/** An AuthorizeHook that behaves like API Gateway in front of a Lambda authorizer. */
export function lambdaAuthorizer(opts: LambdaAuthorizerOptions): LambdaAuthorizer {
  const sources = opts.identitySource ?? IDENTITY_SOURCE;
  const cache = new AuthorizerCache(opts.cacheTtlSeconds, opts.maxCacheEntries, opts.now);
  const stats = { invocations: 0, cacheHits: 0, missingIdentity: 0 };
  const hook = (async (event, match) => {
    const identity = identitySourceValues(event, sources);
    if (!identity) {
      stats.missingIdentity++;
      return { isAuthorized: false, status: 401 };
    }
    const key = AuthorizerCache.key(identity);
    const hit = cache.get(key);
    if (hit) {
      stats.cacheHits++;
      return hit;
    }
    stats.invocations++;
    const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
    const decision = simpleDecision(await opts.authorizer(authorizerEvent(event, match, identity, region), opts.context?.()));
    cache.set(key, decision);
    return decision;
  }) as LambdaAuthorizer;
  Object.assign(hook, { cache, stats });
  return hook;
}

/**
 * The event as the route receives it after authorization. `authorizer` is replaced, never
 * merged: whatever the request carried there is not the caller's identity.
 */
export function withAuthorizerContext(
  event: APIGatewayProxyEventV2,
  context: Record<string, unknown> = {},
  jwt?: JwtAuthorizerContext,
): APIGatewayProxyEventV2 {
  const authorizer = jwt
    ? { jwt: { claims: { ...jwt.claims }, scopes: jwt.scopes ? [...jwt.scopes] : null } }
    : { lambda: { ...context } };
  return { ...event, requestContext: { ...event.requestContext, authorizer } } as APIGatewayProxyEventV2;
}

/** API Gateway's own answers around authorization. */
export const AUTH_RESPONSES = {
  unauthorized: () => gatewayJson(401, 'Unauthorized'),
  forbidden: () => gatewayJson(403, 'Forbidden'),
  internal: () => gatewayJson(500, 'Internal Server Error'),
} as const;

function gatewayJson(statusCode: number, message: string) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }), isBase64Encoded: false };
}

/**
 * A single entry point that does what API Gateway + authorizer + route integration do together
 * (the Function URL variant): match the route (404), authorize (401/403/500), dispatch.
 */
export function authorizedRouter(
  router: Router,
  authorize: AuthorizeHook,
  log: (message: string, error: unknown) => void = () => undefined,
): RouteHandler {
  return async (event, context) => {
    const match = router.match(event.requestContext?.http?.method ?? '', event.rawPath);
    if (!match) return notFound();
    let decision: AuthorizeDecision;
    try {
      decision = await authorize(event, match);
    } catch (e) {
      log('authorizer failed', e);
      return AUTH_RESPONSES.internal();
    }
    if (!decision.isAuthorized) {
      const refusal = decision.status === 401 ? AUTH_RESPONSES.unauthorized() : AUTH_RESPONSES.forbidden();
      return decision.wwwAuthenticate ? { ...refusal, headers: { ...refusal.headers, 'www-authenticate': decision.wwwAuthenticate } } : refusal;
    }
    return router.dispatch(withAuthorizerContext(event, decision.context, decision.jwt), match, context);
  };
}
