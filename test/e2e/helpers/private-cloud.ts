/**
 * A private API for one test file: its own DynamoDB Local and its own gateway (so a test may
 * kill, restart or reconfigure them, e.g. a stack with a 3 s session TTL), on the shared cloud's
 * Ceph RGW, which would take far longer to start again. Optionally its own bucket, so a test can
 * count every multipart upload in it without seeing the other test files' uploads.
 *
 * Local target only: a deployed stack has no processes to kill and no handler environment to
 * change. Fails loudly when the shared cloud (or its endpoints file) is not there.
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../../local/cloud.js';
import type { SynthSettings } from '../../../local/synth.js';
import type { LocalEndpoints } from '../../../local/endpoints.js';
import { e2eTarget, s3Client, type E2ETarget } from './cloud.js';
import { listUploads } from './storage.js';

export interface PrivateCloud {
  cloud: LocalCloud;
  /** The private API as an e2e target (its table and DynamoDB, the shared S3, the private token). */
  target: E2ETarget;
  /** Stops the private gateway and DynamoDB; with a private bucket, empties and deletes it. */
  stop(): Promise<void>;
}

export interface PrivateCloudOptions {
  /**
   * Stack settings (lib/settings.ts), e.g. `{ sessionTtlSeconds: 3 }`: synthesized into the
   * template the private gateway runs, so they reach the functions as on AWS.
   */
  settings?: SynthSettings;
  /** Where the functions reach S3 (e.g. a fault proxy); default the shared RGW. */
  functionS3Endpoint?: string;
  /** Keep DynamoDB Local's data here (survives restartDynamo()). */
  dynamoDataDir?: string;
  /** A fresh bucket of its own (`mpu-e2e-<name>-<random>`), deleted by stop(). */
  privateBucket?: string;
  /** Further startLocalCloud options (e.g. the authorizer's result cache TTL). */
  cloud?: Partial<LocalCloudOptions> & Record<string, unknown>;
  log?: (line: string) => void;
}

/**
 * `describe` for tests that need the local cloud's processes (a private gateway or DynamoDB,
 * a handler environment of their own). Against a deployed stack (MPU_E2E_TARGET=outputs) they
 * do not apply and are reported as skipped; against the local cloud they always run, and fail
 * loudly when it is not there.
 */
export const describeLocalCloud: typeof describe = process.env.MPU_E2E_TARGET === 'outputs' ? describe.skip : describe;

/** The shared local cloud's target, or a clear error when the e2e target is not a local cloud. */
export function sharedLocalTarget(): E2ETarget {
  const shared = e2eTarget();
  if (shared.kind !== 'local' || !shared.s3Endpoint || !shared.credentials) {
    throw new Error(
      `this test needs the local cloud (its own gateway and DynamoDB on the shared RGW); the e2e target is ${shared.kind} (${shared.endpointsFile})`,
    );
  }
  return shared;
}

export async function startPrivateCloud(opts: PrivateCloudOptions = {}): Promise<PrivateCloud> {
  const shared = sharedLocalTarget();
  const bucket = opts.privateBucket ? `mpu-e2e-${opts.privateBucket}-${randomBytes(4).toString('hex')}` : shared.bucket;
  const options: LocalCloudOptions = {
    // IAM enforced where it cannot disturb the shared cloud: a bucket of the test's own.
    iam: opts.privateBucket !== undefined,
    ...opts.cloud,
    externalS3: { endpoint: shared.s3Endpoint!, ...shared.credentials! },
    region: shared.region,
    bucket,
    endpointsFile: false,
    skipDependencyCheck: true,
    ...(opts.settings ? { settings: opts.settings } : {}),
    ...(opts.functionS3Endpoint ? { functionS3Endpoint: opts.functionS3Endpoint } : {}),
    ...(opts.dynamoDataDir ? { dynamoDataDir: opts.dynamoDataDir } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  };
  const cloud = await startLocalCloud(options);
  const target = targetOf(cloud.endpoints, '(private cloud)');
  return {
    cloud,
    target,
    async stop() {
      try {
        if (opts.privateBucket) await deleteBucket(target);
      } finally {
        await cloud.stop();
      }
    },
  };
}

/** Aborts every upload, deletes every object, then the bucket itself. Bounded: 100 pages at most. */
async function deleteBucket(t: E2ETarget): Promise<void> {
  const s3 = s3Client(t);
  try {
    for (const u of await listUploads(s3, t.bucket)) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: u.key, UploadId: u.uploadId })).catch(() => undefined);
    }
    for (let page = 0; page < 100; page++) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: t.bucket, MaxKeys: 1000 }));
      const keys = (out.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: t.bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: t.bucket }));
  } finally {
    s3.destroy();
  }
}

/** The e2e view of a local cloud's endpoints (`endpointsFile` names where they came from). */
export function targetOf(e: LocalEndpoints, endpointsFile: string): E2ETarget {
  return {
    kind: 'local',
    endpointsFile,
    apiUrl: e.api_url,
    region: e.region,
    bucket: e.bucket,
    table: e.table,
    s3Endpoint: e.s3_endpoint,
    dynamodbEndpoint: e.dynamodb_endpoint,
    credentials: { accessKeyId: e.access_key_id, secretAccessKey: e.secret_access_key },
    ...(e.token ? { token: e.token } : {}),
    tokensTable: e.tokens_table,
  };
}
