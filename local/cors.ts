/**
 * CORS of the local cloud, from the stack's own definitions (no second copy of the rules):
 * - the gateway's, from an ApiCors (lib/constructs/api-cors.ts: what the template's
 *   CorsConfiguration carries): API Gateway answers a preflight itself, before routes and the
 *   authorizer, and adds the CORS headers to every answer for an allowed origin;
 * - the bucket's, from lib/constructs/bucket-cors.ts, applied to Ceph RGW with PutBucketCors.
 * Pure functions, except applyBucketCors.
 */
import { PutBucketCorsCommand, type CORSRule, type S3Client } from '@aws-sdk/client-s3';
import { apiCors } from '../lib/constructs/api-cors.js';
import { bucketCors } from '../lib/constructs/bucket-cors.js';

/**
 * The API's CORS: what lib/constructs/api-cors.ts ApiCors gives, and what the synthesized
 * template's CorsConfiguration carries (template.ts DeployedApiCors) both fit.
 */
export interface ApiCorsLike {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}
type ApiCors = ApiCorsLike;

/** One bucket CORS rule: lib/constructs/bucket-cors.ts BucketCorsRule, or the template's. */
export interface BucketCorsRuleLike {
  readonly allowedMethods: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposedHeaders: readonly string[];
  readonly maxAgeSeconds?: number;
}
type BucketCorsRule = BucketCorsRuleLike;

/** Both rules from the settings' origins, as the stack derives them. */
export function corsFromOrigins(origins: readonly string[]): { api: ApiCors | undefined; bucket: BucketCorsRule[] | undefined } {
  return { api: apiCors(origins), bucket: bucketCors(origins) };
}

/** Lower-cased request headers (a Node IncomingHttpHeaders fits). */
export type RequestHeaders = Record<string, string | string[] | undefined>;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function originAllowed(cors: ApiCors, origin: string | undefined): origin is string {
  return origin !== undefined && (cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin));
}

/** A CORS preflight: OPTIONS with an Origin and Access-Control-Request-Method. */
export function isPreflight(method: string, headers: RequestHeaders): boolean {
  return method === 'OPTIONS' && one(headers.origin) !== undefined && one(headers['access-control-request-method']) !== undefined;
}

/**
 * API Gateway's answer to a preflight: 204, with the allowed methods and headers when the origin,
 * method and every requested header are allowed, and without any CORS header otherwise (the
 * browser then refuses the request). Undefined when the API has no CORS configuration (the
 * request goes to the routes like any other).
 */
export function preflightAnswer(cors: ApiCors | undefined, method: string, headers: RequestHeaders): { statusCode: number; headers: Array<[string, string]> } | undefined {
  if (!cors || !isPreflight(method, headers)) return undefined;
  const origin = one(headers.origin);
  const wanted = one(headers['access-control-request-method'])!.toUpperCase();
  const asked = (one(headers['access-control-request-headers']) ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const ok =
    originAllowed(cors, origin) &&
    cors.allowMethods.includes(wanted) &&
    asked.every((h) => cors.allowHeaders.includes('*') || cors.allowHeaders.includes(h));
  if (!ok) return { statusCode: 204, headers: [] };
  return {
    statusCode: 204,
    headers: [
      ['access-control-allow-origin', allowOriginValue(cors, origin!)],
      ['access-control-allow-methods', cors.allowMethods.join(',')],
      ['access-control-allow-headers', cors.allowHeaders.join(',')],
      ['access-control-max-age', String(cors.maxAgeSeconds)],
      ['vary', 'Origin'],
    ],
  };
}

/** Headers added to an actual answer for an allowed origin (Retry-After exposed to the page). */
export function corsResponseHeaders(cors: ApiCors | undefined, origin: string | undefined): Array<[string, string]> {
  if (!cors || !originAllowed(cors, origin)) return [];
  return [
    ['access-control-allow-origin', allowOriginValue(cors, origin)],
    ...(cors.exposeHeaders.length ? ([['access-control-expose-headers', cors.exposeHeaders.join(',')]] as Array<[string, string]>) : []),
    ['vary', 'Origin'],
  ];
}

function allowOriginValue(cors: ApiCors, origin: string): string {
  return cors.allowOrigins.includes('*') ? '*' : origin;
}

/** The bucket rule in S3's CORSConfiguration shape. */
export function toS3CorsRules(rules: readonly BucketCorsRule[]): CORSRule[] {
  return rules.map((r) => ({
    AllowedMethods: [...r.allowedMethods],
    AllowedOrigins: [...r.allowedOrigins],
    AllowedHeaders: [...r.allowedHeaders],
    ExposeHeaders: [...r.exposedHeaders],
    ...(r.maxAgeSeconds !== undefined ? { MaxAgeSeconds: r.maxAgeSeconds } : {}),
  }));
}

/**
 * Sets the bucket's CORS configuration on RGW. Without rules nothing is sent: a new bucket has
 * none, and a stack without origins declares none.
 */
export async function applyBucketCors(s3: S3Client, bucket: string, rules: readonly BucketCorsRule[] | undefined): Promise<void> {
  if (!rules || rules.length === 0) return;
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: toS3CorsRules(rules) } }));
}

/** The gateway child process gets its CORS configuration through this variable (JSON of an ApiCors). */
export const GATEWAY_CORS_ENV = 'MPU_GATEWAY_CORS';

/** The gateway process's environment for `cors` (none without). */
export function corsGatewayEnv(cors: ApiCorsLike | undefined): Record<string, string> {
  return cors ? { [GATEWAY_CORS_ENV]: JSON.stringify(cors) } : {};
}

export function parseGatewayCors(json: string | undefined): ApiCors | undefined {
  if (!json) return undefined;
  const c = JSON.parse(json) as ApiCors;
  if (!Array.isArray(c.allowOrigins) || !Array.isArray(c.allowMethods) || !Array.isArray(c.allowHeaders) || !Array.isArray(c.exposeHeaders)) {
    throw new Error(`${GATEWAY_CORS_ENV} is not an ApiCors: ${json}`);
  }
  return c;
}
