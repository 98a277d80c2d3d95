/**
 * The local API Gateway: the payload 2.0 event it builds, how it turns results into responses,
 * and its quotas (10 MB body -> 413, 30 s integration timeout -> 503), through a real HTTP server
 * on 127.0.0.1 with fake handlers.
 */
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createRouter, type HandlerLoaders, type RouteHandler } from '../../lambdas/http/router.js';
import { startGatewayServer, type AuthorizeHook, type GatewayServer } from '../../local/gateway.js';
import {
  foldHeaders,
  formatRequestTime,
  isTextContentType,
  parseQuery,
  toEvent,
  toHttpResponse,
} from '../../local/gateway-event.js';

const SID = 'AbCdEfGhIjKlMnOpQrStUv';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: Buffer;
}

/** A raw HTTP request: header pairs in order (repeats allowed), body as given. */
function send(
  gw: GatewayServer,
  method: string,
  path: string,
  opts: { headers?: Array<[string, string]>; body?: Buffer | string; chunked?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // Array headers keep repeats and order; Node then adds no Host of its own.
    const flat = [['Host', `127.0.0.1:${gw.port}`], ...(opts.headers ?? [])].flat();
    const req = request({ host: '127.0.0.1', port: gw.port, method, path, headers: flat }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) {
      if (opts.chunked) {
        // Without Content-Length, in several writes: the limit must hold while streaming.
        const b = Buffer.from(opts.body);
        const step = 64 * 1024;
        for (let off = 0; off < b.length; off += step) req.write(b.subarray(off, off + step));
      } else {
        req.write(opts.body);
      }
    }
    req.end();
  });
}

/** Every route answers with the event it got, so tests can look at it. */
function echoRouter(onEvent: (e: APIGatewayProxyEventV2, ctx?: Context) => unknown = () => undefined) {
  const echo: RouteHandler = async (e, ctx) => {
    const r = onEvent(e, ctx);
    if (r !== undefined) return r as never;
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(e) };
  };
  const loaders = { init: async () => ({ handler: echo }), parts: async () => ({ handler: echo }), status: async () => ({ handler: echo }), complete: async () => ({ handler: echo }), abort: async () => ({ handler: echo }) } satisfies HandlerLoaders;
  return createRouter(loaders);
}

const servers: GatewayServer[] = [];
async function gateway(opts: Parameters<typeof startGatewayServer>[0] = {}): Promise<GatewayServer> {
  const gw = await startGatewayServer({ router: echoRouter(), ...opts });
  servers.push(gw);
  return gw;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('pure translation helpers', () => {
  test('text content types are the ones API Gateway passes as text', () => {
    for (const t of ['application/json', 'application/json; charset=utf-8', 'text/plain', 'TEXT/CSV', 'application/xml', 'application/javascript']) {
      expect(isTextContentType(t)).toBe(true);
    }
    for (const t of [undefined, '', 'application/octet-stream', 'application/x-www-form-urlencoded', 'image/png', 'multipart/form-data; boundary=x']) {
      expect(isTextContentType(t)).toBe(false);
    }
  });

  test('headers are lower-cased, repeats joined with commas, cookies split out', () => {
    expect(foldHeaders(['X-A', '1', 'x-a', '2', 'Accept', '*/*', 'Cookie', 'a=1; b=2', 'cookie', 'c=3'])).toEqual({
      headers: { 'x-a': '1,2', accept: '*/*' },
      cookies: ['a=1', 'b=2', 'c=3'],
    });
  });

  test('query parameters are decoded and repeats joined with commas', () => {
    expect(parseQuery('')).toBeUndefined();
    expect(parseQuery('a=1&a=2&b=x%20y&flag&c=')).toEqual({ a: '1,2', b: 'x y', flag: '', c: '' });
  });

  test('request time has API Gateway’s format', () => {
    expect(formatRequestTime(new Date(Date.UTC(2020, 2, 12, 19, 3, 58)))).toBe('12/Mar/2020:19:03:58 +0000');
  });

  test('toEvent builds a complete $default event', () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const e = toEvent(
      {
        method: 'post',
        url: '/upload/init?x=1&x=2',
        httpVersion: '1.1',
        rawHeaders: ['Host', 'localhost:8080', 'Content-Type', 'application/json', 'User-Agent', 'ua/1'],
        remoteAddress: '::ffff:127.0.0.1',
        localPort: 8080,
        body: Buffer.from('{"a":1}'),
      },
      { now, requestId: 'RID' },
    );
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/upload/init',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'mpulocal',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: { method: 'POST', path: '/upload/init', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'ua/1' },
        requestId: 'RID',
        routeKey: '$default',
        stage: '$default',
        time: '02/Jan/2026:03:04:05 +0000',
        timeEpoch: now.getTime(),
      },
    });
    expect(e.headers).toMatchObject({ host: 'localhost:8080', 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-port': '8080', 'x-forwarded-proto': 'http' });
    expect(e.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    // Absent, not empty: no cookies, no path parameters yet.
    expect('cookies' in e).toBe(false);
    expect('pathParameters' in e).toBe(false);
  });

  test('a request without a body has no body field', () => {
    const e = toEvent({ method: 'GET', url: '/x', httpVersion: '1.1', rawHeaders: [], body: Buffer.alloc(0) });
    expect('body' in e).toBe(false);
    expect(e.isBase64Encoded).toBe(false);
    expect('queryStringParameters' in e).toBe(false);
  });

  describe('toHttpResponse', () => {
    test('structured results: status, headers, cookies, base64 bodies', () => {
      const r = toHttpResponse({
        statusCode: 201,
        headers: { 'X-Num': 5, 'X-Bool': true, 'Content-Type': 'application/octet-stream' },
        cookies: ['a=1; Path=/', 'b=2'],
        body: Buffer.from([0, 1, 2, 255]).toString('base64'),
        isBase64Encoded: true,
      });
      expect(r.statusCode).toBe(201);
      expect(r.headers).toEqual([
        ['x-num', '5'],
        ['x-bool', 'true'],
        ['content-type', 'application/octet-stream'],
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2'],
      ]);
      expect([...r.body]).toEqual([0, 1, 2, 255]);
    });

    test('a result without statusCode is inferred as API Gateway does', () => {
      expect(toHttpResponse({ hello: 'world' })).toEqual({ statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"hello":"world"}') });
      expect(toHttpResponse('plain').body.toString()).toBe('plain');
      expect(toHttpResponse([1, 2]).body.toString()).toBe('[1,2]');
      expect(toHttpResponse(undefined).body.toString()).toBe('null');
    });

    test('a malformed structured result is a 500', () => {
      for (const bad of [{ statusCode: 'x' }, { statusCode: 99 }, { statusCode: 600 }, { statusCode: 200.5 }, { statusCode: 200, body: { a: 1 } }]) {
        const r = toHttpResponse(bad);
        expect(r.statusCode).toBe(500);
        expect(JSON.parse(r.body.toString())).toEqual({ message: 'Internal Server Error' });
      }
    });
  });
});

describe('the gateway server', () => {
  test('delivers a real payload 2.0 event with route key and path parameters', async () => {
    const gw = await gateway();
    const res = await send(gw, 'POST', `/upload/${SID}/parts?a=1&a=2`, {
      headers: [
        ['Content-Type', 'application/json'],
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
        ['Cookie', 'k1=v1; k2=v2'],
        ['User-Agent', 'unit-test'],
      ],
      body: '{"parts":[{"part_number":1}]}',
    });
    expect(res.status).toBe(200);
    const e = JSON.parse(res.body.toString()) as APIGatewayProxyEventV2;
    expect(e.routeKey).toBe('POST /upload/{session_id}/parts');
    expect(e.requestContext.routeKey).toBe('POST /upload/{session_id}/parts');
    expect(e.pathParameters).toEqual({ session_id: SID });
    expect(e.rawPath).toBe(`/upload/${SID}/parts`);
    expect(e.rawQueryString).toBe('a=1&a=2');
    expect(e.queryStringParameters).toEqual({ a: '1,2' });
    expect(e.headers['x-multi']).toBe('one,two');
    expect(e.headers['content-type']).toBe('application/json');
    expect(e.headers.host).toBe(`127.0.0.1:${gw.port}`);
    expect(e.headers.cookie).toBeUndefined();
    expect(e.cookies).toEqual(['k1=v1', 'k2=v2']);
    expect(e.body).toBe('{"parts":[{"part_number":1}]}');
    expect(e.isBase64Encoded).toBe(false);
    expect(e.requestContext.http).toEqual({ method: 'POST', path: `/upload/${SID}/parts`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'unit-test' });
    expect(e.requestContext.stage).toBe('$default');
    expect(e.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(res.headers['apigw-requestid']).toBe(e.requestContext.requestId);
  });

  test('non-text bodies arrive base64-encoded, byte for byte', async () => {
    const gw = await gateway();
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x7f, 10, 13]);
    for (const headers of [[['Content-Type', 'application/octet-stream']], [['Content-Type', 'application/x-www-form-urlencoded']], []] as Array<Array<[string, string]>>) {
      const res = await send(gw, 'POST', '/upload/init', { headers, body: bytes });
      const e = JSON.parse(res.body.toString()) as APIGatewayProxyEventV2;
      expect(e.isBase64Encoded).toBe(true);
      expect(Buffer.from(e.body!, 'base64').equals(bytes)).toBe(true);
    }
  });

  test('unknown routes get 404 {"message":"Not Found"} without reaching a handler', async () => {
    let called = false;
    const gw = await gateway({ router: echoRouter(() => (called = true)) });
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/upload/init'],
      ['POST', '/upload/init/extra'],
      ['PATCH', `/upload/${SID}`],
    ] as const) {
      const res = await send(gw, method, path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body.toString())).toEqual({ message: 'Not Found' });
    }
    expect(called).toBe(false);
  });

  test('a body over the limit gets 413, declared or streamed, and the handler never runs', async () => {
    let called = false;
    const gw = await gateway({ router: echoRouter(() => (called = true)), maxBodyBytes: 1000 });
    const declared = await send(gw, 'POST', '/upload/init', { headers: [['Content-Type', 'application/json']], body: Buffer.alloc(1001, 0x20) });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    const streamed = await send(gw, 'POST', '/upload/init', { body: Buffer.alloc(300_000, 0x20), chunked: true });
    expect(streamed.status).toBe(413);
    const atLimit = await send(gw, 'POST', '/upload/init', { headers: [['Content-Type', 'text/plain']], body: Buffer.alloc(1000, 0x20) });
    expect(atLimit.status).toBe(200);
    expect(called).toBe(true);
  });

  test('the default limit is API Gateway’s 10 MB', async () => {
    const gw = await gateway();
    const over = await send(gw, 'POST', '/upload/init', { body: Buffer.alloc(10 * 1024 * 1024 + 1) });
    expect(over.status).toBe(413);
    const at = await send(gw, 'POST', '/upload/init', { headers: [['Content-Type', 'text/plain']], body: Buffer.alloc(10 * 1024 * 1024, 0x61) });
    expect(at.status).toBe(200);
  });

  test('handler results are written back: status, headers, cookies, binary bodies', async () => {
    const gw = await gateway({
      router: echoRouter(() => ({
        statusCode: 202,
        headers: { 'content-type': 'application/octet-stream', 'x-custom': 7 },
        cookies: ['s=1; HttpOnly', 't=2'],
        body: Buffer.from([1, 2, 3, 250]).toString('base64'),
        isBase64Encoded: true,
      })),
    });
    const res = await send(gw, 'POST', '/upload/init');
    expect(res.status).toBe(202);
    expect(res.headers['x-custom']).toBe('7');
    expect(res.headers['set-cookie']).toEqual(['s=1; HttpOnly', 't=2']);
    expect([...res.body]).toEqual([1, 2, 3, 250]);
    expect(res.headers['content-length']).toBe('4');
  });

  test('a plain (non-structured) result is inferred as 200 application/json', async () => {
    const gw = await gateway({ router: echoRouter(() => ({ ok: true })) });
    const res = await send(gw, 'POST', '/upload/init');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.toString()).toBe('{"ok":true}');
  });

  test('a throwing handler is a 500 {"message":"Internal Server Error"}', async () => {
    const lines: string[] = [];
    const gw = await gateway({
      router: echoRouter(() => {
        throw new Error('kaboom');
      }),
      log: (l) => lines.push(l),
    });
    const res = await send(gw, 'POST', '/upload/init');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Internal Server Error' });
    expect(lines.join('\n')).toContain('kaboom');
  });

  test('a handler slower than the integration timeout is a 503', async () => {
    const gw = await gateway({ router: echoRouter(() => new Promise((r) => setTimeout(() => r({ statusCode: 200 }), 500))), integrationTimeoutMs: 100 });
    const res = await send(gw, 'POST', '/upload/init');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Service Unavailable' });
  });

  test('handlers get a Lambda context with a deadline', async () => {
    let ctx: Context | undefined;
    const gw = await gateway({
      router: echoRouter((_e, c) => {
        ctx = c;
        return { statusCode: 204 };
      }),
      integrationTimeoutMs: 5000,
    });
    await send(gw, 'GET', `/upload/${SID}/status`);
    expect(ctx?.functionName).toBe('mpu-local-status');
    expect(ctx?.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx!.getRemainingTimeInMillis()).toBeGreaterThan(4000);
    expect(ctx!.getRemainingTimeInMillis()).toBeLessThanOrEqual(5000);
  });

  describe('authorizer hook', () => {
    const authorize: AuthorizeHook = async (e) => {
      const h = e.headers.authorization;
      if (!h) return { isAuthorized: false, status: 401 };
      if (h !== 'Bearer good') return { isAuthorized: false };
      return { isAuthorized: true, context: { owner: 'alice' } };
    };

    test('no identity -> 401, wrong identity -> 403, good -> context in requestContext.authorizer.lambda', async () => {
      const gw = await gateway({ authorize });
      const none = await send(gw, 'POST', '/upload/init');
      expect(none.status).toBe(401);
      expect(JSON.parse(none.body.toString())).toEqual({ message: 'Unauthorized' });
      const wrong = await send(gw, 'POST', '/upload/init', { headers: [['Authorization', 'Bearer bad']] });
      expect(wrong.status).toBe(403);
      expect(JSON.parse(wrong.body.toString())).toEqual({ message: 'Forbidden' });
      const ok = await send(gw, 'POST', '/upload/init', { headers: [['Authorization', 'Bearer good']] });
      expect(ok.status).toBe(200);
      const e = JSON.parse(ok.body.toString()) as { requestContext: { authorizer?: { lambda?: unknown } } };
      expect(e.requestContext.authorizer?.lambda).toEqual({ owner: 'alice' });
    });

    test('unknown routes are 404 before any authorization', async () => {
      let asked = false;
      const gw = await gateway({
        authorize: async () => {
          asked = true;
          return { isAuthorized: false };
        },
      });
      expect((await send(gw, 'GET', '/nope')).status).toBe(404);
      expect(asked).toBe(false);
    });

    test('a failing authorizer is a 500', async () => {
      const gw = await gateway({ authorize: async () => Promise.reject(new Error('authorizer down')) });
      expect((await send(gw, 'POST', '/upload/init')).status).toBe(500);
    });
  });
});
