/**
 * The gateway's side of the deployed artifacts: routes, integrations and the authorizer as the
 * synthesized template declares them (template-reader.ts), dispatched to the functions' bundles
 * in the local Lambda service (runtime.ts). Replaces the route table and the in-process handler
 * modules of the `--from-source` path.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteDef } from '../contract/routes.js';
import { matchPath } from '../contract/routes.js';
import type { FunctionId } from '../lib/access.js';
import { lambdaAuthorizer, type AuthorizeHook, type LambdaAuthorizer } from '../lambdas/http/authorization.js';
import { notFound, withRoute, type RouteMatch, type Router } from '../lambdas/http/router.js';
import type { LambdaRuntime } from './runtime.js';
import type { DeployedAuthorizer, DeployedRoute, DeployedStack } from './template.js';
import { TemplateError } from './template-resolve.js';

/** What gateway-main.ts needs to run the artifacts: written by cloud.ts into the run dir. */
export interface GatewaySpec {
  region: string;
  stackName: string;
  stack: DeployedStack;
  /** Per function: the local Lambda service's variables (credentials, endpoints). */
  serviceEnv: Partial<Record<FunctionId, Record<string, string>>>;
}

const ROUTE_METHODS = new Set(['GET', 'POST', 'DELETE']);

interface TemplateRoute {
  def: RouteDef;
  functionId: FunctionId;
}

function parseRoute(r: DeployedRoute): TemplateRoute {
  const m = /^([A-Z]+) (\/\S*)$/.exec(r.routeKey);
  if (!m || !ROUTE_METHODS.has(m[1]!)) throw new TemplateError(`route key ${r.routeKey}: not METHOD /path with GET, POST or DELETE`);
  if (r.payloadFormatVersion !== '2.0') throw new TemplateError(`route ${r.routeKey}: payload format ${r.payloadFormatVersion}, the gateway builds 2.0 events`);
  // RouteMatch carries a RouteDef; in the HTTP API variant each route's function id is its route id.
  const def = { id: r.functionId, method: m[1], path: m[2], description: r.routeKey } as unknown as RouteDef;
  return { def, functionId: r.functionId };
}

/** A Router over the template's routes that invokes each route's function in `runtime`. */
export function templateRouter(routes: DeployedRoute[], runtime: LambdaRuntime): Router {
  const table = routes.map(parseRoute);
  const match = (method: string, rawPath: string): RouteMatch | undefined => {
    const want = method.toUpperCase();
    for (const r of table) {
      if (r.def.method !== want) continue;
      let params: Record<string, string> | undefined;
      try {
        params = matchPath(r.def.path, rawPath);
      } catch {
        return undefined; // malformed percent-encoding: no route matches, as in API Gateway
      }
      if (params) return { route: r.def, routeKey: `${r.def.method} ${r.def.path}`, pathParameters: params };
    }
    return undefined;
  };
  const byDef = new Map(table.map((r) => [r.def, r.functionId]));
  const dispatch: Router['dispatch'] = async (event, m) => {
    const fid = byDef.get(m.route);
    if (!fid) throw new Error(`route ${m.routeKey} is not a route of the template`);
    return (await runtime.invoke(fid, withRoute(event, m), { requestId: event.requestContext.requestId })) as APIGatewayProxyResultV2<unknown>;
  };
  const router = (async (event: APIGatewayProxyEventV2) => {
    const m = match(event.requestContext?.http?.method ?? '', event.rawPath);
    return m ? dispatch(event, m) : notFound();
  }) as Router;
  router.match = match as Router['match'];
  router.dispatch = dispatch;
  return router;
}

/** The API's authorizer as deployed; `ttlOverride` only for the gateway's own tests. */
export function templateAuthorizer(
  authorizer: DeployedAuthorizer | undefined,
  runtime: LambdaRuntime,
  region: string,
  jwt?: (a: Extract<DeployedAuthorizer, { kind: 'jwt' }>) => AuthorizeHook,
): AuthorizeHook | LambdaAuthorizer | undefined {
  if (!authorizer) return undefined;
  if (authorizer.kind === 'jwt') {
    if (!jwt) throw new TemplateError('the template has a JWT authorizer, and no local JWT verifier (local/jwt/) is available');
    return jwt(authorizer);
  }
  if (!authorizer.enableSimpleResponses) throw new TemplateError('the Lambda authorizer uses IAM policy responses; the local gateway supports simple responses');
  return lambdaAuthorizer({
    authorizer: (event) => runtime.invoke(authorizer.functionId, event),
    cacheTtlSeconds: authorizer.resultTtlSeconds,
    identitySource: authorizer.identitySource,
    region,
  });
}
