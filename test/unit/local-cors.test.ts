/**
 * The local cloud's CORS (local/cors.ts) from the stack's own definitions: API Gateway's preflight
 * answer and response headers from an ApiCors, and the bucket rule in PutBucketCors's shape.
 */
import { apiCors } from '../../lib/constructs/api-cors.js';
import { bucketCors } from '../../lib/constructs/bucket-cors.js';
import { corsFromOrigins, corsResponseHeaders, parseGatewayCors, preflightAnswer, toS3CorsRules } from '../../local/cors.js';

const PAGE = 'http://localhost:8080';
const cors = apiCors([PAGE])!;
const pre = (h: Record<string, string>) => preflightAnswer(cors, 'OPTIONS', h);

test('a preflight from the allowed origin for a route method and the allowed headers gets them all', () => {
  const r = pre({ origin: PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'Authorization, Content-Type, Idempotency-Key' });
  expect(r?.statusCode).toBe(204);
  expect(Object.fromEntries(r!.headers)).toEqual({
    'access-control-allow-origin': PAGE,
    'access-control-allow-methods': 'POST,GET,DELETE',
    'access-control-allow-headers': 'authorization,content-type,idempotency-key',
    'access-control-max-age': '3600',
    vary: 'Origin',
  });
});

test.each([
  ['another origin', { origin: 'http://evil.example', 'access-control-request-method': 'POST' }],
  ['a method no route has', { origin: PAGE, 'access-control-request-method': 'PUT' }],
  ['a header not allowed', { origin: PAGE, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-amz-date' }],
])('a preflight with %s is answered without CORS headers (the browser refuses)', (_what, h) => {
  expect(pre(h)).toEqual({ statusCode: 204, headers: [] });
});

test('no preflight without CORS configuration or without Access-Control-Request-Method: the routes answer', () => {
  expect(preflightAnswer(undefined, 'OPTIONS', { origin: PAGE, 'access-control-request-method': 'POST' })).toBeUndefined();
  expect(preflightAnswer(cors, 'OPTIONS', { origin: PAGE })).toBeUndefined();
  expect(preflightAnswer(cors, 'GET', { origin: PAGE, 'access-control-request-method': 'GET' })).toBeUndefined();
});

test('answers to an allowed origin expose Retry-After; other origins get no CORS header', () => {
  expect(Object.fromEntries(corsResponseHeaders(cors, PAGE))).toEqual({ 'access-control-allow-origin': PAGE, 'access-control-expose-headers': 'retry-after', vary: 'Origin' });
  expect(corsResponseHeaders(cors, 'http://evil.example')).toEqual([]);
  expect(corsResponseHeaders(cors, undefined)).toEqual([]);
  expect(corsResponseHeaders(undefined, PAGE)).toEqual([]);
});

test('the bucket rule reaches RGW as the stack declares it: PUT from the origins, ETag exposed', () => {
  expect(toS3CorsRules(bucketCors([PAGE])!)).toEqual([
    { AllowedMethods: ['PUT'], AllowedOrigins: [PAGE], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 },
  ]);
  expect(corsFromOrigins([])).toEqual({ api: undefined, bucket: undefined });
});

test('the gateway process reads its CORS from the environment and refuses a malformed one', () => {
  expect(parseGatewayCors(JSON.stringify(cors))).toEqual(cors);
  expect(parseGatewayCors(undefined)).toBeUndefined();
  expect(() => parseGatewayCors('{"allowOrigins": "x"}')).toThrow(/not an ApiCors/);
});
