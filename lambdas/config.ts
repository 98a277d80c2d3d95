/**
 * Runtime configuration of the handlers, read from environment variables.
 * ENV names the variables once; the CDK stack and the local cloud set them through this map.
 */
import * as z from 'zod';
import { DEFAULTS, S3_LIMITS } from '../contract/limits.js';
import { ENV } from './env.js';

/** The variables' names live in env.ts (no zod there: the authorizer needs the names, not this parser). */
export { ENV };

const intFrom = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

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
  s3ForcePathStyle: flag,
  /** Presign part URLs for Transfer Acceleration; the handlers' own S3 calls stay regional. */
  s3UseAccelerateEndpoint: flag,
  dynamodbEndpoint: z.string().url().optional(),
})
  // The accelerate endpoint is virtual-hosted only, and it is an origin of its own.
  .refine((c) => !(c.s3UseAccelerateEndpoint && (c.s3ForcePathStyle || c.s3PublicEndpoint !== undefined)), {
    path: ['s3UseAccelerateEndpoint'],
    message: `Transfer Acceleration cannot be combined with ${ENV.s3ForcePathStyle} or ${ENV.s3PublicEndpoint}`,
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
