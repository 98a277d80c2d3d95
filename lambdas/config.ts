/**
 * Runtime configuration of the handlers, read from environment variables.
 * ENV names the variables once; the CDK stack and the local cloud set them through this map.
 */
import { z } from 'zod';
import { DEFAULTS, S3_LIMITS } from './core/limits.js';

export const ENV = {
  tableName: 'TABLE_NAME',
  bucketName: 'BUCKET_NAME',
  objectKeyPrefix: 'OBJECT_KEY_PREFIX',
  sessionTtlSeconds: 'SESSION_TTL_SECONDS',
  urlExpirySeconds: 'URL_EXPIRY_SECONDS',
  maxFileSize: 'MAX_FILE_SIZE',
  minPartSize: 'MIN_PART_SIZE',
  maxOpenSessionsPerOwner: 'MAX_OPEN_SESSIONS_PER_OWNER',
  /** S3 endpoint for API calls (local S3 implementations). Unset on AWS. */
  s3Endpoint: 'S3_ENDPOINT',
  /** Endpoint written into presigned URLs when clients reach S3 by another address than Lambda does. */
  s3PublicEndpoint: 'S3_PUBLIC_ENDPOINT',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  /** The API tokens table; read by the authorizer (and the Function URL router) only. */
  tokensTableName: 'TOKENS_TABLE_NAME',
  /** Seconds the Function URL router caches authorizer answers (API Gateway caches them itself). */
  authCacheTtlSeconds: 'AUTH_CACHE_TTL_SECONDS',
} as const;

const intFrom = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const configSchema = z.object({
  tableName: z.string().min(1),
  bucketName: z.string().min(1),
  objectKeyPrefix: z.string().default('uploads/'),
  sessionTtlSeconds: intFrom(DEFAULTS.sessionTtlSeconds),
  urlExpirySeconds: intFrom(DEFAULTS.urlExpirySeconds).pipe(z.number().max(7 * 24 * 3600)),
  maxFileSize: intFrom(S3_LIMITS.maxObjectSize).pipe(z.number().max(S3_LIMITS.maxObjectSize)),
  /** Only a test cluster lowers this (Ceph's `rgw multipart min part size`); AWS S3 enforces 5 MiB. */
  minPartSize: intFrom(S3_LIMITS.minPartSize),
  /** Open (unfinished, unexpired) sessions one owner may hold; more is a 429. */
  maxOpenSessionsPerOwner: intFrom(DEFAULTS.maxOpenSessionsPerOwner),
  s3Endpoint: z.string().url().optional(),
  s3PublicEndpoint: z.string().url().optional(),
  s3ForcePathStyle: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1'),
  dynamodbEndpoint: z.string().url().optional(),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    raw[key] = v === '' ? undefined : v;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${ENV[i.path[0] as keyof typeof ENV] ?? i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
