/**
 * CORS of the upload bucket, as plain data: the stack maps it to its CorsRule
 * (upload-bucket.ts) and the local cloud applies the same rule to Ceph RGW with PutBucketCors
 * (local/cors.ts), so there is one definition. Only for the origins an operator lists (settings
 * corsAllowedOrigins); with none, the bucket has no CORS and answers no preflight.
 */
export interface BucketCorsRule {
  readonly allowedMethods: 'PUT'[];
  readonly allowedOrigins: string[];
  readonly allowedHeaders: string[];
  readonly exposedHeaders: string[];
  readonly maxAgeSeconds: number;
}

export function bucketCors(origins: readonly string[]): BucketCorsRule[] | undefined {
  if (origins.length === 0) return undefined;
  return [
    {
      // Browsers PUT parts straight to S3 with presigned URLs, then need each part's ETag.
      allowedMethods: ['PUT'],
      allowedOrigins: [...origins],
      // Any request header: the signature, not CORS, decides which headers a PUT may carry.
      allowedHeaders: ['*'],
      exposedHeaders: ['ETag'],
      maxAgeSeconds: 3600,
    },
  ];
}
