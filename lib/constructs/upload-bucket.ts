/**
 * The bucket uploads land in, and the bucket its server access logs land in.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bucketCors } from './bucket-cors.js';

export interface UploadBucketProps {
  readonly bucketName?: string;
  readonly corsAllowedOrigins: readonly string[];
  readonly accessLogRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
  /** How long a session may stay open: the lifecycle backstop must never cut an open session's parts. */
  readonly sessionTtlSeconds: number;
  /**
   * S3 Transfer Acceleration (AccelerateConfiguration Enabled). CloudFormation sets it with the
   * deploying identity; the functions only presign for the accelerate endpoint, so no role changes.
   */
  readonly transferAcceleration?: boolean;
}

/**
 * Days after which S3's lifecycle rule aborts an incomplete multipart upload: at least the longest
 * a session may stay open (S3 counts whole days, rounded up to the next midnight UTC, so the rule
 * never fires before then), and at least 1, the smallest value S3 accepts.
 */
export function abortIncompleteUploadsAfterDays(sessionTtlSeconds: number): number {
  return Math.max(1, Math.ceil(sessionTtlSeconds / 86_400));
}

/** Shared by both buckets: private, encrypted, TLS 1.2+ only, ACLs off. */
const SECURE_BUCKET: s3.BucketProps = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  // SSE-S3: no key to pay for or to grant, and the only encryption S3 server access logs accept.
  encryption: s3.BucketEncryption.S3_MANAGED,
  // A bucket policy denying every request without TLS (aws:SecureTransport=false) or below TLS 1.2.
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
};

export class UploadBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: UploadBucketProps) {
    super(scope, id);

    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      ...SECURE_BUCKET,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays) }],
    });

    this.bucket = new s3.Bucket(this, 'Uploads', {
      ...SECURE_BUCKET,
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
      removalPolicy: props.removalPolicy,
      ...(props.transferAcceleration ? { transferAcceleration: true } : {}),
      // Who wrote and read what, for audits; delivered by the S3 logging service (bucket policy grant).
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'uploads/',
      lifecycleRules: [
        {
          // Parts of an upload nobody completes or aborts cost storage but are invisible in
          // listings; S3 deletes them once no session can still be open, even if the sweeper never ran.
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(abortIncompleteUploadsAfterDays(props.sessionTtlSeconds)),
        },
      ],
      cors: bucketCors(props.corsAllowedOrigins)?.map((r) => ({
        allowedMethods: r.allowedMethods.map((m) => s3.HttpMethods[m]),
        allowedOrigins: r.allowedOrigins,
        allowedHeaders: r.allowedHeaders,
        exposedHeaders: r.exposedHeaders,
        maxAge: r.maxAgeSeconds,
      })),
    });
  }
}
