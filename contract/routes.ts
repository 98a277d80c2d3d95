/**
 * The route table: the one list of HTTP routes. The CDK stack creates one Lambda and one
 * API route per entry; the local gateway serves the same entries with the same handler modules;
 * the client builds its request paths from it (routePath).
 */
export interface RouteDef {
  /** Stable id; also the handler module name in lambdas/handlers/. */
  readonly id: 'init' | 'parts' | 'status' | 'complete' | 'abort';
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway route path, `{name}` for path parameters. */
  readonly path: string;
  readonly description: string;
}

export const ROUTES: readonly RouteDef[] = [
  { id: 'init', method: 'POST', path: '/upload/init', description: 'Start an upload session' },
  { id: 'parts', method: 'POST', path: '/upload/{session_id}/parts', description: 'Presign part URLs' },
  { id: 'status', method: 'GET', path: '/upload/{session_id}/status', description: 'Session status from storage' },
  { id: 'complete', method: 'POST', path: '/upload/{session_id}/complete', description: 'Assemble the object' },
  { id: 'abort', method: 'DELETE', path: '/upload/{session_id}', description: 'Abort the upload' },
];

export type RouteId = RouteDef['id'];

/** `routeKey` as API Gateway HTTP APIs write it, e.g. `POST /upload/init`. */
export function routeKey(route: RouteDef): string {
  return `${route.method} ${route.path}`;
}

/** Matches a concrete path against a route path; returns the path parameters or undefined. */
export function matchPath(routePath: string, path: string): Record<string, string> | undefined {
  const want = routePath.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      params[w.slice(1, -1)] = decodeURIComponent(g);
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/** Client-side: the concrete path of a route. */
export function routePath(id: RouteId, params: Record<string, string> = {}): string {
  const route = ROUTES.find((r) => r.id === id);
  if (!route) throw new Error(`unknown route ${id}`);
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(v);
  });
}
