/**
 * The gateway log format (issue 9, defect 10: load and bench each parsed it with their own regex):
 * what the gateway writes, local/gateway-log.ts reads back, field for field.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTES } from '../../contract/routes.js';
import { createRouter } from '../../lambdas/http/router.js';
import { startGatewayServer } from '../../local/gateway.js';
import { announces, formatRequest, listeningLine, parseLine, parseLog, stampLine, type GatewayRequest } from '../../local/gateway-log.js';

const route = (id: string) => ROUTES.find((r) => r.id === id)!;

test('request lines round-trip: formatted, stamped, parsed back with their route', () => {
  const at = new Date('2026-11-30T12:34:56.789Z');
  const reqs: GatewayRequest[] = [
    { method: 'POST', url: '/upload/init', status: 201, ms: 12, requestId: 'a1b2c3d4e5f6a7b8' },
    { method: 'GET', url: '/upload/AbCdEfGhIjKlMnOpQrStUv/status?verbose=1', status: 200, ms: 0, requestId: 'x' },
    { method: 'DELETE', url: '/upload/AbCdEfGhIjKlMnOpQrStUv', status: 410, ms: 30001, requestId: 'y' },
    { method: 'OPTIONS', url: '/upload/init', status: 404, ms: 1, requestId: 'z' },
    { method: 'GET', url: '/upload/%E0%A4%A/status', status: 404, ms: 1, requestId: 'bad-escape' },
  ];
  const text = [
    stampLine(listeningLine('http://127.0.0.1:4010', 'pid 1')),
    ...reqs.map((r) => stampLine(formatRequest(r), at)),
    stampLine('POST /upload/init: handler failed: Error: boom\n    at x (/a -> b (1 ms) c)'),
  ].join('');
  expect(parseLog(text)).toEqual([
    { ...reqs[0], at: at.toISOString(), route: route('init') },
    { ...reqs[1], at: at.toISOString(), route: route('status') },
    { ...reqs[2], at: at.toISOString(), route: route('abort') },
    { ...reqs[3], at: at.toISOString() },
    { ...reqs[4], at: at.toISOString() },
  ]);
  expect(parseLine('gateway stopping (SIGTERM)')).toBeUndefined();
});

test('the listening line tells which API a log belongs to', () => {
  const text = stampLine(listeningLine('http://127.0.0.1:4010', 'pid 7; token authorizer'));
  expect(announces(text, 'http://127.0.0.1:4010')).toBe(true);
  expect(announces(text, 'http://127.0.0.1:401')).toBe(false);
});

test('what the real gateway logs parses back: method, URL, status, request id, route', async () => {
  const echo = async (e: APIGatewayProxyEventV2) => ({ statusCode: e.rawPath.endsWith('/init') ? 201 : 200, body: '{}' });
  const m = async () => ({ handler: echo });
  const lines: string[] = [];
  const gw = await startGatewayServer({ router: createRouter({ init: m, parts: m, status: m, complete: m, abort: m }), log: (l) => lines.push(stampLine(l)) });
  try {
    const ids: string[] = [];
    for (const [method, path] of [['POST', '/upload/init'], ['GET', '/upload/AbCdEfGhIjKlMnOpQrStUv/status?x=1'], ['GET', '/nowhere']] as const) {
      const res = await fetch(`${gw.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      await res.arrayBuffer();
      ids.push(res.headers.get('apigw-requestid')!);
    }
    const entries = parseLog(lines.join(''));
    expect(entries.map(({ method, url, status, requestId, route: r }) => ({ method, url, status, requestId, route: r?.id }))).toEqual([
      { method: 'POST', url: '/upload/init', status: 201, requestId: ids[0], route: 'init' },
      { method: 'GET', url: '/upload/AbCdEfGhIjKlMnOpQrStUv/status?x=1', status: 200, requestId: ids[1], route: 'status' },
      { method: 'GET', url: '/nowhere', status: 404, requestId: ids[2], route: undefined },
    ]);
    for (const e of entries) expect(e.ms).toBeGreaterThanOrEqual(0);
  } finally {
    await gw.close();
  }
});
