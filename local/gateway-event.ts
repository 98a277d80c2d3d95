/**
 * The two translations an API Gateway HTTP API does around a Lambda integration (payload 2.0):
 * HTTP request -> event, and handler result -> HTTP response. Pure, so unit tests pin the shape.
 *
 * Behaviour copied from API Gateway (documented, or observed where the docs are silent):
 * - header names lower-cased; repeated headers joined with ','; `cookie` headers move to `cookies`
 * - duplicate query parameters joined with ','; absent fields (`cookies`, `queryStringParameters`,
 *   `pathParameters`, `body`) are left out rather than empty
 * - the body is passed as text only for text/*, application/json, application/xml and
 *   application/javascript; anything else, a missing Content-Type and form posts included,
 *   arrives base64-encoded with `isBase64Encoded: true`
 * - a result without `statusCode` is inferred: 200, application/json, body = the result
 *   (a string as is, anything else JSON-encoded)
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomBytes } from 'node:crypto';

export interface RawRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/upload/abc/parts?x=1`. */
  url: string;
  /** e.g. `1.1` */
  httpVersion: string;
  /** Node's `rawHeaders`: name, value, name, value, ... in arrival order. */
  rawHeaders: readonly string[];
  remoteAddress?: string | undefined;
  /** The port the client connected to, for x-forwarded-port. */
  localPort?: number | undefined;
  body: Buffer;
}

export interface EventSettings {
  accountId?: string;
  apiId?: string;
  stage?: string;
  now?: Date;
  requestId?: string;
}

export const GATEWAY_DEFAULTS = {
  accountId: '000000000000',
  apiId: 'mpulocal',
  stage: '$default',
  /** API Gateway's request payload quota for HTTP APIs. */
  maxBodyBytes: 10 * 1024 * 1024,
  /** API Gateway's maximum integration timeout for HTTP APIs. */
  integrationTimeoutMs: 30_000,
} as const;

const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

/** True if API Gateway hands a body of this Content-Type to Lambda as text (not base64). */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  return base.startsWith('text/') || TEXT_TYPES.has(base);
}

/** Request ids look like API Gateway's: 16 characters of base64, e.g. `JKJaXmPLvHcESHA=`. */
export function newRequestId(): string {
  return randomBytes(11).toString('base64');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `requestContext.time` format: `12/Mar/2020:19:03:58 +0000`. */
export function formatRequestTime(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (!rawQueryString) return undefined;
  const out: Record<string, string> = {};
  for (const pair of rawQueryString.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
    out[key] = key in out ? `${out[key]},${value}` : value;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Lower-cased headers, repeats joined with ','; cookies split out as API Gateway does. */
export function foldHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'cookie') {
      for (const c of value.split(';')) {
        const t = c.trim();
        if (t) cookies.push(t);
      }
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies };
}

function traceId(now: Date): string {
  return `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

/** An HTTP request as the `$default`-routed payload 2.0 event API Gateway would build. */
export function toEvent(req: RawRequest, settings: EventSettings = {}): APIGatewayProxyEventV2 {
  const now = settings.now ?? new Date();
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : req.url.slice(q + 1);
  const { headers, cookies } = foldHeaders(req.rawHeaders);
  const sourceIp = (req.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

  // Headers API Gateway adds on the way in.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  if (req.localPort !== undefined) headers['x-forwarded-port'] ??= String(req.localPort);
  headers['x-amzn-trace-id'] ??= traceId(now);

  const host = headers.host ?? 'localhost';
  const domainName = host.replace(/:\d+$/, '');
  const stage = settings.stage ?? GATEWAY_DEFAULTS.stage;
  const queryStringParameters = parseQuery(rawQueryString);

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: settings.accountId ?? GATEWAY_DEFAULTS.accountId,
      apiId: settings.apiId ?? GATEWAY_DEFAULTS.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: {
        method: req.method.toUpperCase(),
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: settings.requestId ?? newRequestId(),
      routeKey: '$default',
      stage,
      time: formatRequestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length) event.cookies = cookies;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (req.body.length > 0) {
    if (isTextContentType(headers['content-type'])) {
      event.body = req.body.toString('utf8');
    } else {
      event.body = req.body.toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

export interface HttpResponse {
  statusCode: number;
  /** Name/value pairs; `set-cookie` may repeat. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** API Gateway's own error responses: `{"message": "..."}` JSON. */
export function gatewayError(statusCode: number, message: string): HttpResponse {
  return {
    statusCode,
    headers: [['content-type', 'application/json']],
    body: Buffer.from(JSON.stringify({ message })),
  };
}

export const GATEWAY_ERRORS = {
  notFound: () => gatewayError(404, 'Not Found'),
  unauthorized: () => gatewayError(401, 'Unauthorized'),
  forbidden: () => gatewayError(403, 'Forbidden'),
  tooLarge: () => gatewayError(413, 'Request Entity Too Large'),
  internal: () => gatewayError(500, 'Internal Server Error'),
  unavailable: () => gatewayError(503, 'Service Unavailable'),
} as const;

function isStructured(result: unknown): result is APIGatewayProxyStructuredResultV2 {
  return typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result;
}

/**
 * A handler's result as the HTTP response API Gateway sends. A malformed structured result
 * (bad status, non-string body) is a 500, as API Gateway treats a malformed Lambda response.
 */
export function toHttpResponse(result: unknown): HttpResponse {
  if (!isStructured(result)) {
    // Lambda serialises `undefined` as JSON null.
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
    return { statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from(body) };
  }
  const { statusCode, headers = {}, cookies = [], body, isBase64Encoded } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return GATEWAY_ERRORS.internal();
  if (body !== undefined && body !== null && typeof body !== 'string') return GATEWAY_ERRORS.internal();
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    out.push([name.toLowerCase(), String(value)]);
  }
  for (const c of cookies ?? []) out.push(['set-cookie', c]);
  const bytes = body ? (isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8')) : Buffer.alloc(0);
  return { statusCode, headers: out, body: bytes };
}
