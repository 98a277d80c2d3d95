/**
 * Names of the environment variables that configure the handlers: the CDK stack and the local
 * cloud set them through this map, lambdas/config.ts parses them. No imports, so any module (the
 * authorizer, the stack) can name a variable without pulling in the parser.
 */
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
  /** 'true': part URLs are presigned for S3 Transfer Acceleration (`<bucket>.s3-accelerate.amazonaws.com`). */
  s3UseAccelerateEndpoint: 'S3_USE_ACCELERATE_ENDPOINT',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  /** The API tokens table; read by the authorizer (and the Function URL router) only. */
  tokensTableName: 'TOKENS_TABLE_NAME',
  /** Seconds the Function URL router caches authorizer answers (API Gateway caches them itself). */
  authCacheTtlSeconds: 'AUTH_CACHE_TTL_SECONDS',
  /**
   * 'true': X-Ray tracing through Powertools Tracer (lambdas/tracing.ts). Fixed when the stack
   * bundles a function: esbuild replaces `process.env.MPU_TRACING` with the setting.
   */
  tracing: 'MPU_TRACING',
} as const;
