/**
 * What an operator chooses about one deployment, and how `cdk -c key=value` spells it.
 * The stack reads only MpuSettings; bin/app.ts turns CDK context into settings with
 * settingsFromContext(), so every knob is documented and validated in one place.
 */
import * as z from 'zod';
import { DEFAULTS, S3_LIMITS } from '../contract/limits.js';
import { DEFAULT_AUTH_CACHE_TTL_SECONDS } from '../lambdas/http/authorization.js';

/**
 * How clients reach the handlers.
 * - `http-api`: API Gateway HTTP API, one route and one Lambda per entry of the route table.
 * - `function-url`: one router Lambda behind a Lambda Function URL. The same handler modules,
 *   dispatched by the same route table; for LocalStack's free plan, which has no API Gateway v2.
 */
export type ApiVariant = 'http-api' | 'function-url';

export interface JwtAuthSettings {
  /** OIDC issuer URL, e.g. a Cognito user pool or any OIDC provider. */
  readonly issuer: string;
  /** Accepted `aud` values. */
  readonly audience: readonly string[];
}

export interface MpuSettings {
  readonly api: ApiVariant;
  /**
   * The stack only uses resource types LocalStack's free plan offers (no CloudWatch alarms,
   * dashboard or log groups) and signs part URLs for the host-reachable S3 endpoint.
   */
  readonly localstack: boolean;
  /** Physical names; undefined lets CloudFormation generate unique ones (recommended). */
  readonly bucketName?: string;
  readonly tableName?: string;
  readonly tokensTableName?: string;
  /** Object keys of uploads start with this; IAM object permissions are scoped to it. */
  readonly objectKeyPrefix: string;
  readonly maxFileSize: number;
  readonly sessionTtlSeconds: number;
  readonly urlExpirySeconds: number;
  /**
   * Browser origins allowed to call the API and PUT parts (scheme://host[:port]). Empty, the
   * default: no CORS configuration at all, so no browser page may read an answer; the CLI needs
   * none. A web app names its own origin here (docs/security.md, "Browsers and CORS").
   */
  readonly corsAllowedOrigins: readonly string[];
  /**
   * Reserved concurrency of the Function URL variant's router (`api=function-url`) on AWS: the
   * URL is open to anyone (the router refuses requests without a valid token, but each refusal is
   * an invocation), so this caps what strangers can make it cost; beyond it callers get 429.
   * Not applied on LocalStack, whose port only this machine reaches.
   */
  readonly functionUrlConcurrency: number;
  /** Steady-state requests per second and burst for the whole API (HTTP API stage throttling). */
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** Days CloudWatch keeps Lambda and API access logs. */
  readonly logRetentionDays: number;
  /** Days S3 server access logs are kept in the log bucket. */
  readonly accessLogRetentionDays: number;
  /** Keep the bucket, table and logs when the stack is deleted (and protect the table). */
  readonly retainData: boolean;
  /** Minutes between two sweeper runs. */
  readonly sweepIntervalMinutes: number;
  readonly dashboard: boolean;
  /** An existing SNS topic for the alarms; none: the stack creates its own (output AlarmTopicArn). */
  readonly alarmTopicArn?: string;
  /** Subscribes this address to the alarm topic (AWS sends a confirmation e-mail first). */
  readonly alarmEmail?: string;
  /** AWS X-Ray: active tracing of every function, with Powertools Tracer subsegments for AWS calls. */
  readonly tracing: boolean;
  /**
   * Seconds an authorizer answer is cached per `Authorization` value (API Gateway's result cache,
   * and the Function URL router's own): the longest a revoked token keeps working. 0: no cache.
   */
  readonly authCacheTtlSeconds: number;
  /**
   * Protect the HTTP API with a JWT authorizer INSTEAD of the API token authorizer (the default);
   * the handlers then scope sessions to the JWT's `sub`, and no tokens table is created.
   */
  readonly jwtAuth?: JwtAuthSettings;
  /**
   * Origin written into presigned part URLs instead of S3's own: what clients reach storage by
   * (LocalStack's host-reachable address, a proxy or a CDN in front of the bucket). Signed
   * path-style, as such a front forwards the Host it was sent.
   */
  readonly s3PublicEndpoint?: string;
  /**
   * S3 Transfer Acceleration: the bucket gets an accelerate configuration and part URLs are
   * presigned for `<bucket>.s3-accelerate.amazonaws.com`, so clients far from the bucket's region
   * send parts to the nearest edge location (billed per GB on top of S3; docs/deploy.md).
   * Virtual-hosted only: not with s3PublicEndpoint (path-style) or LocalStack.
   */
  readonly transferAcceleration: boolean;
  /**
   * Multipart minimum part size the handlers enforce (MIN_PART_SIZE). Unset: S3's 5 MiB. Only a
   * test cluster that lowers its own minimum (the local cloud's RGW) sets it, so its template
   * carries it like every other handler setting.
   */
  readonly minPartSize?: number;
  /** Open sessions one owner may hold (MAX_OPEN_SESSIONS_PER_OWNER); unset: the handlers' default. */
  readonly maxOpenSessionsPerOwner?: number;
}

/** LocalStack's S3 endpoint as seen from the host; its wildcard DNS resolves to 127.0.0.1. */
export const LOCALSTACK_S3_PUBLIC_ENDPOINT = 'http://s3.localhost.localstack.cloud:4566';

export const DEFAULT_SETTINGS: MpuSettings = {
  api: 'http-api',
  localstack: false,
  objectKeyPrefix: 'uploads/',
  maxFileSize: S3_LIMITS.maxObjectSize,
  sessionTtlSeconds: DEFAULTS.sessionTtlSeconds,
  urlExpirySeconds: DEFAULTS.urlExpirySeconds,
  corsAllowedOrigins: [],
  functionUrlConcurrency: 10,
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  logRetentionDays: 30,
  accessLogRetentionDays: 90,
  retainData: true,
  sweepIntervalMinutes: 15,
  dashboard: true,
  tracing: false,
  authCacheTtlSeconds: DEFAULT_AUTH_CACHE_TTL_SECONDS,
  transferAcceleration: false,
};

/**
 * Longest sweeper interval: the "sweeper not running" alarm watches 3 periods of twice the
 * interval, and CloudWatch evaluates at most one day (3 x 2 x 240 min = 24 h).
 */
export const MAX_SWEEP_INTERVAL_MINUTES = 240;

/**
 * Where `cdk deploy` uploads the Lambda bundles on LocalStack. The LocalStack variant uses the
 * CliCredentialsStackSynthesizer: no `cdk bootstrap` (its stack needs ECR, SSM and deploy roles),
 * just this bucket, which scripts/localstack-deploy.ts creates.
 */
export const LOCALSTACK_ASSETS_BUCKET = 'mpu-localstack-cdk-assets';

/** The defaults for LocalStack: free-plan resources only, throwaway data. */
export const LOCALSTACK_SETTINGS: Partial<MpuSettings> = {
  api: 'function-url',
  localstack: true,
  retainData: false,
  dashboard: false,
  s3PublicEndpoint: LOCALSTACK_S3_PUBLIC_ENDPOINT,
};

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A comma-separated context string or a JSON array (cdk.json). */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));

/** CDK context keys (`-c key=value` or cdk.json "context") and what each one sets. */
const contextSchema = z.object({
  localstack: bool.optional(),
  api: z.enum(['http-api', 'function-url']).optional(),
  bucketName: z.string().min(3).max(63).optional(),
  tableName: z.string().min(3).max(255).optional(),
  tokensTableName: z.string().min(3).max(255).optional(),
  objectKeyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9!_.()'-]+(\/[A-Za-z0-9!_.()'-]+)*\/$/, 'a key prefix like "uploads/": safe characters, ends with "/"')
    .optional(),
  maxFileSize: int(1, S3_LIMITS.maxObjectSize).optional(),
  sessionTtlSeconds: int(60, 7 * 24 * 3600).optional(),
  // SigV4 presigned URLs live at most 7 days.
  urlExpirySeconds: int(60, 7 * 24 * 3600).optional(),
  corsAllowedOrigins: list.optional(),
  functionUrlConcurrency: int(1, 1000).optional(),
  throttleRateLimit: int(1, 10_000).optional(),
  throttleBurstLimit: int(1, 5_000).optional(),
  logRetentionDays: int(1, 3653).optional(),
  accessLogRetentionDays: int(1, 3653).optional(),
  retainData: bool.optional(),
  sweepIntervalMinutes: int(1, MAX_SWEEP_INTERVAL_MINUTES).optional(),
  dashboard: bool.optional(),
  tracing: bool.optional(),
  // API Gateway accepts 0 to 3600 s for authorizer result caching.
  authCacheTtlSeconds: int(0, 3600).optional(),
  alarmTopicArn: z.string().startsWith('arn:').optional(),
  alarmEmail: z.email().optional(),
  jwtIssuer: z.string().url().optional(),
  jwtAudience: list.optional(),
  s3PublicEndpoint: z.string().url().optional(),
  transferAcceleration: bool.optional(),
  minPartSize: int(1, S3_LIMITS.minPartSize).optional(),
  maxOpenSessionsPerOwner: int(1, 1_000_000).optional(),
});

export type ContextValues = Record<string, unknown>;

/** Settings from CDK context values (tryGetContext per key); throws on the first invalid one. */
export function settingsFromContext(get: (key: string) => unknown): MpuSettings {
  const raw: ContextValues = {};
  for (const key of Object.keys(contextSchema.shape)) {
    const v = get(key);
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `-c ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid CDK context: ${problems.join('; ')}`);
  }
  const { jwtIssuer, jwtAudience, localstack, ...rest } = parsed.data;
  if ((jwtIssuer === undefined) !== (jwtAudience === undefined)) {
    throw new Error('invalid CDK context: -c jwtIssuer and -c jwtAudience go together');
  }
  const base = localstack ? { ...DEFAULT_SETTINGS, ...LOCALSTACK_SETTINGS } : DEFAULT_SETTINGS;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<MpuSettings>;
  return resolveSettings({
    ...base,
    ...defined,
    ...(jwtIssuer && jwtAudience ? { jwtAuth: { issuer: jwtIssuer, audience: jwtAudience } } : {}),
  });
}

/** Checks combinations that no single field can: the stack trusts its settings after this. */
export function resolveSettings(partial: Partial<MpuSettings> = {}): MpuSettings {
  const s: MpuSettings = { ...DEFAULT_SETTINGS, ...partial };
  if (s.localstack && s.api !== 'function-url') {
    throw new Error('LocalStack (free plan) has no API Gateway v2: use api=function-url');
  }
  if (s.jwtAuth && s.api !== 'http-api') {
    throw new Error('jwtAuth needs the HTTP API (api=http-api)');
  }
  if (s.localstack && s.tracing) {
    throw new Error('tracing: X-Ray is not part of LocalStack\'s free plan; deploy to AWS for traces');
  }
  if (s.throttleBurstLimit < 1 || s.throttleRateLimit < 1) throw new Error('throttle limits must be positive');
  if (!Number.isInteger(s.sweepIntervalMinutes) || s.sweepIntervalMinutes < 1 || s.sweepIntervalMinutes > MAX_SWEEP_INTERVAL_MINUTES) {
    throw new Error(`sweepIntervalMinutes must be 1..${MAX_SWEEP_INTERVAL_MINUTES}`);
  }
  if (!Number.isInteger(s.functionUrlConcurrency) || s.functionUrlConcurrency < 1) throw new Error('functionUrlConcurrency must be a positive integer');
  if (!Number.isInteger(s.authCacheTtlSeconds) || s.authCacheTtlSeconds < 0 || s.authCacheTtlSeconds > 3600) {
    throw new Error('authCacheTtlSeconds must be 0..3600');
  }
  if (s.minPartSize !== undefined && (!Number.isInteger(s.minPartSize) || s.minPartSize < 1 || s.minPartSize > S3_LIMITS.minPartSize)) {
    throw new Error(`minPartSize must be 1..${S3_LIMITS.minPartSize} (S3's own minimum is the default)`);
  }
  if (s.maxOpenSessionsPerOwner !== undefined && (!Number.isInteger(s.maxOpenSessionsPerOwner) || s.maxOpenSessionsPerOwner < 1)) {
    throw new Error('maxOpenSessionsPerOwner must be a positive integer');
  }
  checkTransferAcceleration(s);
  if (!s.objectKeyPrefix.endsWith('/')) throw new Error('objectKeyPrefix must end with "/"');
  if (s.corsAllowedOrigins.some((o) => o !== '*' && !/^https?:\/\/[^/]+$/.test(o))) {
    throw new Error('corsAllowedOrigins: each origin is "*" or scheme://host[:port] without a path');
  }
  return s;
}

/**
 * Transfer Acceleration is reached only virtual-hosted (`<bucket>.s3-accelerate.amazonaws.com`):
 * S3 refuses it for bucket names with periods, and a URL for another origin (path-style, the way
 * s3PublicEndpoint and LocalStack are signed) cannot be accelerated. Refused here, at synth, rather
 * than as part URLs that fail on the first PUT.
 */
function checkTransferAcceleration(s: MpuSettings): void {
  if (!s.transferAcceleration) return;
  if (s.localstack) throw new Error('transferAcceleration: LocalStack has no accelerate endpoint; deploy to AWS for it');
  if (s.s3PublicEndpoint !== undefined) {
    throw new Error('transferAcceleration and s3PublicEndpoint exclude each other: part URLs go to the accelerate endpoint or to that origin, not both');
  }
  if (s.bucketName?.includes('.')) {
    throw new Error(`transferAcceleration: the bucket name must not contain periods (S3 refuses acceleration for ${s.bucketName})`);
  }
}
