/**
 * Pure dispatch of an API Gateway HTTP API (payload 2.0) event to the handler of its route.
 *
 * Used by the local gateway and by the single Lambda behind a Function URL
 * (lambdas/handlers/router.ts, which authorizes first): both deliver events whose `routeKey` is
 * `$default`, so the router does what API Gateway's route selection does: match method + path
 * against ROUTES, fill `routeKey` (event and requestContext) and `pathParameters`, and answer 404
 * `{"message":"Not Found"}` for anything unmatched (HTTP APIs answer a known path with an
 * unrouted method the same way). It never authorizes: see authorization.ts.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import * as abortModule from '../handlers/abort.js';
import * as completeModule from '../handlers/complete.js';
import * as initModule from '../handlers/init.js';
import * as partsModule from '../handlers/parts.js';
import * as statusModule from '../handlers/status.js';
import { ROUTES, matchPath, routeKey, type RouteDef, type RouteId } from '../../contract/routes.js';

export type RouteHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyResultV2<unknown>>;
export interface HandlerModule {
  handler: RouteHandler;
}
/** Gives a route's handler module (tests pass fakes). */
export type HandlerLoaders = Record<RouteId, () => Promise<HandlerModule>>;

/**
 * The real handler modules, imported statically: behind a dynamic import() esbuild wraps the
 * whole module graph (AWS SDK included) in lazy initialisers and stops tree-shaking it, which
 * made the router's bundle 81 KiB larger and its cold import slower, not faster (125 ms against
 * 105; docs/benchmarks.md).
 */
export const HANDLER_MODULES: HandlerLoaders = {
  init: async () => initModule,
  parts: async () => partsModule,
  status: async () => statusModule,
  complete: async () => completeModule,
  abort: async () => abortModule,
};

export interface RouteMatch {
  route: RouteDef;
  /** e.g. `POST /upload/{session_id}/parts` */
  routeKey: string;
  pathParameters: Record<string, string>;
}

/** API Gateway's answer when no route matches. */
export const NOT_FOUND = {
  statusCode: 404,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: 'Not Found' }),
  isBase64Encoded: false,
} as const;

export function notFound() {
  return { ...NOT_FOUND, headers: { ...NOT_FOUND.headers } };
}

/** Finds the route for a method and raw (still percent-encoded) path. */
export function matchRoute(method: string, rawPath: string): RouteMatch | undefined {
  const m = method.toUpperCase();
  for (const route of ROUTES) {
    if (route.method !== m) continue;
    let params: Record<string, string> | undefined;
    try {
      params = matchPath(route.path, rawPath);
    } catch {
      // Malformed percent-encoding in a path segment: no route can match it.
      return undefined;
    }
    if (params) return { route, routeKey: routeKey(route), pathParameters: params };
  }
  return undefined;
}

/** The event as API Gateway would deliver it to the route's integration. */
export function withRoute(event: APIGatewayProxyEventV2, match: RouteMatch): APIGatewayProxyEventV2 {
  const hasParams = Object.keys(match.pathParameters).length > 0;
  const routed: APIGatewayProxyEventV2 = {
    ...event,
    routeKey: match.routeKey,
    requestContext: { ...event.requestContext, routeKey: match.routeKey },
  };
  if (hasParams) routed.pathParameters = { ...match.pathParameters };
  else delete routed.pathParameters;
  return routed;
}

export interface Router {
  /** Matches and dispatches; 404 if nothing matches. */
  (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyResultV2<unknown>>;
  match: typeof matchRoute;
  /** Calls the handler of an already matched route (e.g. after an authorizer ran). */
  dispatch(event: APIGatewayProxyEventV2, match: RouteMatch, context?: Context): Promise<APIGatewayProxyResultV2<unknown>>;
}

/**
 * Builds a router over `loaders` (default: the real handler modules). Unit tests pass fakes;
 * a loaded module is cached, as a warm Lambda keeps it.
 */
export function createRouter(loaders: Partial<HandlerLoaders> = HANDLER_MODULES): Router {
  const cache = new Map<RouteId, Promise<HandlerModule>>();
  const load = (id: RouteId): Promise<HandlerModule> => {
    let p = cache.get(id);
    if (!p) {
      const loader = loaders[id];
      if (!loader) return Promise.reject(new Error(`no handler registered for route '${id}'`));
      p = loader();
      // A failed import is not cached: the next request retries (as a new Lambda init would).
      p.catch(() => cache.delete(id));
      cache.set(id, p);
    }
    return p;
  };

  const dispatch: Router['dispatch'] = async (event, match, context) => {
    const mod = await load(match.route.id);
    if (typeof mod.handler !== 'function') throw new Error(`handler module for route '${match.route.id}' has no handler export`);
    return mod.handler(withRoute(event, match), context);
  };

  const router = (async (event: APIGatewayProxyEventV2, context?: Context) => {
    const match = matchRoute(event.requestContext?.http?.method ?? '', event.rawPath);
    if (!match) return notFound();
    return dispatch(event, match, context);
  }) as Router;
  router.match = matchRoute;
  router.dispatch = dispatch;
  return router;
}
