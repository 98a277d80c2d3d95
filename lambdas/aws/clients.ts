/** AWS SDK clients built from Config. Created once per Lambda container and reused. */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.js';
import { traceClient } from '../tracing.js';

/**
 * `WHEN_REQUIRED`: SDK >= 3.729 otherwise adds CRC32 checksum parameters, which would be signed
 * into presigned URLs for a body the SDK never saw; S3-compatible stores reject those.
 */
function s3Client(endpoint: string | undefined, forcePathStyle: boolean, useAccelerateEndpoint = false): S3Client {
  return traceClient(
    new S3Client({
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle,
      ...(useAccelerateEndpoint ? { useAccelerateEndpoint } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  );
}

export interface AwsClients {
  s3: S3Client;
  /**
   * Signs part URLs for the origin clients reach: `s3` itself, unless clients reach storage by
   * another address (S3_PUBLIC_ENDPOINT: LocalStack, a proxy, a CDN) or through Transfer
   * Acceleration's edge endpoint. Only URLs go there: the handlers' own calls stay regional.
   */
  presignS3: S3Client;
  dynamo: DynamoDBDocumentClient;
}

/** DynamoDB with plain JS values; `endpoint` only for local implementations (DynamoDB Local). */
export function documentClient(endpoint?: string, config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(traceClient(new DynamoDBClient({ ...config, ...(endpoint ? { endpoint } : {}) })), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createClients(config: Config): AwsClients {
  const s3 = s3Client(config.s3Endpoint, config.s3ForcePathStyle);
  const presignS3 = config.s3PublicEndpoint
    ? s3Client(config.s3PublicEndpoint, config.s3ForcePathStyle)
    : config.s3UseAccelerateEndpoint
      ? s3Client(config.s3Endpoint, false, true)
      : s3;
  const dynamo = documentClient(config.dynamodbEndpoint);
  return { s3, presignS3, dynamo };
}
