/** Route selection as API Gateway does it, with fake handler modules. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTES, routePath, routeKey } from '../../contract/routes.js';
import { HANDLER_MODULES, createRouter, matchRoute, type HandlerLoaders, type RouteHandler } from '../../lambdas/http/router.js';

function event(method: string, rawPath: string, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    ...extra,
  };
}

/** Fakes that echo what they received, and count how often each module was loaded. */
function fakes() {
  const loads: Record<string, number> = {};
  const seen: APIGatewayProxyEventV2[] = [];
  const loaders = Object.fromEntries(
    ROUTES.map((r) => [
      r.id,
      async () => {
        loads[r.id] = (loads[r.id] ?? 0) + 1;
        const handler: RouteHandler = async (e) => {
          seen.push(e);
          return { statusCode: 200, body: JSON.stringify({ route: r.id, params: e.pathParameters ?? null }) };
        };
        return { handler };
      },
    ]),
  ) as HandlerLoaders;
  return { loaders, loads, seen };
}

const SID = 'AbCdEfGhIjKlMnOpQrStUv';

describe('matchRoute', () => {
  test.each([
    ['POST', '/upload/init', 'init', {}],
    ['POST', `/upload/${SID}/parts`, 'parts', { session_id: SID }],
    ['GET', `/upload/${SID}/status`, 'status', { session_id: SID }],
    ['POST', `/upload/${SID}/complete`, 'complete', { session_id: SID }],
    ['DELETE', `/upload/${SID}`, 'abort', { session_id: SID }],
  ])('%s %s -> %s', (method, path, id, params) => {
    const m = matchRoute(method, path);
    expect(m?.route.id).toBe(id);
    expect(m?.pathParameters).toEqual(params);
    expect(m?.routeKey).toBe(routeKey(m!.route));
  });

  test('every route matches the path routePath() builds for it', () => {
    for (const r of ROUTES) expect(matchRoute(r.method, routePath(r.id, { session_id: SID }))?.route.id).toBe(r.id);
  });

  test.each([
    ['GET', '/upload/init'], // known path, no route for the method
    ['POST', '/upload/init/'],
    ['POST', '/upload//parts'],
    ['GET', '/'],
    ['PUT', `/upload/${SID}`],
    ['POST', '/Upload/init'],
  ])('%s %s matches nothing', (method, path) => {
    expect(matchRoute(method, path)).toBeUndefined();
  });

  test('path parameters are percent-decoded; malformed encoding matches nothing', () => {
    expect(matchRoute('GET', '/upload/a%20b/status')?.pathParameters).toEqual({ session_id: 'a b' });
    expect(matchRoute('GET', '/upload/%E0%A4%A/status')).toBeUndefined();
  });

  test('method case does not matter', () => {
    expect(matchRoute('post', '/upload/init')?.route.id).toBe('init');
  });
});

describe('createRouter', () => {
  test('dispatches to the route handler with routeKey and pathParameters filled in', async () => {
    const { loaders, seen } = fakes();
    const router = createRouter(loaders);
    const res = await router(event('POST', `/upload/${SID}/parts`, { body: '{}' }));
    expect(res).toEqual({ statusCode: 200, body: JSON.stringify({ route: 'parts', params: { session_id: SID } }) });
    const e = seen[0]!;
    expect(e.routeKey).toBe('POST /upload/{session_id}/parts');
    expect(e.requestContext.routeKey).toBe('POST /upload/{session_id}/parts');
    expect(e.pathParameters).toEqual({ session_id: SID });
    expect(e.body).toBe('{}');
  });

  test('a route without parameters gets no pathParameters field', async () => {
    const { loaders, seen } = fakes();
    await createRouter(loaders)(event('POST', '/upload/init', { pathParameters: { stale: 'x' } }));
    expect('pathParameters' in seen[0]!).toBe(false);
  });

  test('unknown routes get API Gateway’s 404 and load no handler', async () => {
    const { loaders, loads } = fakes();
    const router = createRouter(loaders);
    for (const [m, p] of [
      ['GET', '/nope'],
      ['GET', '/upload/init'],
    ] as const) {
      expect(await router(event(m, p))).toEqual({
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: '{"message":"Not Found"}',
        isBase64Encoded: false,
      });
    }
    expect(loads).toEqual({});
  });

  test('modules load lazily, once per route', async () => {
    const { loaders, loads } = fakes();
    const router = createRouter(loaders);
    expect(loads).toEqual({});
    await router(event('GET', `/upload/${SID}/status`));
    await router(event('GET', `/upload/${SID}/status`));
    await router(event('DELETE', `/upload/${SID}`));
    expect(loads).toEqual({ status: 1, abort: 1 });
  });

  test('a failed module load is retried on the next request', async () => {
    let attempts = 0;
    const router = createRouter({
      init: async () => {
        attempts++;
        if (attempts === 1) throw new Error('boom');
        return { handler: async () => ({ statusCode: 201 }) };
      },
    });
    await expect(router(event('POST', '/upload/init'))).rejects.toThrow('boom');
    await expect(router(event('POST', '/upload/init'))).resolves.toEqual({ statusCode: 201 });
  });

  test('a route without a registered loader is an error, not a 404', async () => {
    await expect(createRouter({})(event('POST', '/upload/init'))).rejects.toThrow(/no handler registered for route 'init'/);
  });

  test('handler errors propagate (the gateway turns them into 500)', async () => {
    const router = createRouter({ init: async () => ({ handler: async () => Promise.reject(new Error('handler broke')) }) });
    await expect(router(event('POST', '/upload/init'))).rejects.toThrow('handler broke');
  });

  test('the context is passed through', async () => {
    let got: unknown;
    const router = createRouter({
      init: async () => ({
        handler: async (_e, ctx) => {
          got = ctx;
          return { statusCode: 200 };
        },
      }),
    });
    const ctx = { awsRequestId: 'abc' } as never;
    await router(event('POST', '/upload/init'), ctx);
    expect(got).toBe(ctx);
  });
});

test('the real handler map covers every route', () => {
  expect(Object.keys(HANDLER_MODULES).sort()).toEqual(ROUTES.map((r) => r.id).sort());
});
