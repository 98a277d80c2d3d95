/**
 * IAM for the local cloud, set up at cloud start from the synthesized functions: the runtime
 * (H1) calls `provisionIam()` once the S3 and DynamoDB pieces run and passes each function its
 * own credentials and the DynamoDB front's endpoint.
 *
 * - S3: one RGW user per function and one bucket policy on the upload bucket from all their
 *   statements (bucket-policy.ts): RGW enforces it, for SDK calls and presigned URLs alike.
 * - DynamoDB: a policy front before DynamoDB Local (dynamo-front.ts).
 * - Calls: the front records DynamoDB calls as they happen; S3 calls are read from RGW's log
 *   (s3-calls.ts) on `flush()`/`stop()`. Both go to `callLogFile` (JSON lines) for the
 *   least-privilege report (report.ts) written after the e2e suite.
 */
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeleteBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import type { DeployedFunction } from '../template.js';
import { bucketPolicy, type BucketPolicyDocument } from './bucket-policy.js';
import { startDynamoFront, type DynamoCallRecord, type DynamoFront } from './dynamo-front.js';
import { makeIdentities, type FunctionCredentials, type FunctionIdentity } from './identities.js';
import { createRgwUsers, removeRgwUsers, uidOfAccessKey, type RgwAdmin } from './rgw-users.js';
import { s3CallsFromLog, type S3CallRecord } from './s3-calls.js';

export type CallRecord = DynamoCallRecord | S3CallRecord;

/** One line of the call log: each function's grants first, then its calls as they are seen. */
export type CallLogEntry =
  | { type: 'function'; functionId: string; logicalId: string; policy: DeployedFunction['policy'] }
  | ({ type: 'call' } & CallRecord);

/** Where the call log of a cloud described by `endpointsFile` goes: next to it, one per cloud. */
export function callLogFileFor(endpointsFile: string): string {
  return `${endpointsFile.replace(/\.json$/, '')}.iam-calls.jsonl`;
}

/** RGW's log is read this often for S3 calls, so a report on a cloud that keeps running is current. */
const S3_FLUSH_INTERVAL_MS = 5000;

export interface ProvisionIamOptions {
  functions: readonly Pick<DeployedFunction, 'id' | 'logicalId' | 'policy'>[];
  region: string;
  /** The upload bucket (exists, owned by the admin). */
  bucket: string;
  /** RGW and its administrator (the cloud's own keys; they need the `users=*` cap, see ceph.ts). */
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** RGW's log file (CephCluster.rgwLogFile); without it S3 calls are not recorded. */
  rgwLogFile?: string;
  /** DynamoDB Local, and the administrator keys that pass the front unchecked. */
  dynamo: { endpoint: string; adminAccessKeyIds: readonly string[] };
  /** RGW uid prefix; several provisionings can share one RGW (mutation tests). Default `fn`. */
  uidPrefix?: string;
  /** JSON lines of every call of a function (DynamoDB live, S3 on flush). */
  callLogFile?: string;
  /** Delete the RGW users on stop (a test's fresh users on the shared cloud). Default false. */
  removeUsersOnStop?: boolean;
  log?: (line: string) => void;
}

export interface IamEnforcement {
  /** By FunctionId: the keys the function's code must sign with (AWS_ACCESS_KEY_ID/…). */
  readonly credentials: Readonly<Record<string, FunctionCredentials>>;
  /** What the functions use as their DynamoDB endpoint. */
  readonly dynamoEndpoint: string;
  readonly identities: readonly FunctionIdentity[];
  readonly bucketPolicy: BucketPolicyDocument | undefined;
  readonly timings: Readonly<Record<string, number>>;
  /** The DynamoDB calls so far; kept in memory only when there is no call log file. */
  dynamoCalls(): readonly DynamoCallRecord[];
  /** The S3 calls so far (reads what is new in RGW's log now); in memory only without a call log file. */
  s3Calls(): S3CallRecord[];
  /** Appends the S3 calls not yet written to the call log. */
  flush(): void;
  /** flush(), then stops the front (and removes the users if asked). */
  stop(): Promise<void>;
}

/** The bucket policy is the admin's to set; an action RGW does not know fails here, loudly. */
async function applyBucketPolicy(o: ProvisionIamOptions, policy: BucketPolicyDocument | undefined): Promise<void> {
  const s3 = new S3Client({
    endpoint: o.s3.endpoint,
    region: o.region,
    forcePathStyle: true,
    credentials: { accessKeyId: o.s3.accessKeyId, secretAccessKey: o.s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    if (policy) await s3.send(new PutBucketPolicyCommand({ Bucket: o.bucket, Policy: JSON.stringify(policy) }));
    else await s3.send(new DeleteBucketPolicyCommand({ Bucket: o.bucket }));
  } catch (e) {
    throw new Error(`RGW refused the bucket policy derived from the functions' roles (${e instanceof Error ? e.name : String(e)}): ${JSON.stringify(policy)}`, { cause: e });
  } finally {
    s3.destroy();
  }
}

export async function provisionIam(o: ProvisionIamOptions): Promise<IamEnforcement> {
  const timings: Record<string, number> = {};
  const identities = makeIdentities(o.functions, o.uidPrefix);
  // Validated before anything is created: an inexpressible grant stops the start.
  bucketPolicy(identities, o.bucket, 'owner');
  const admin: RgwAdmin = { ...o.s3, region: o.region };
  const policy = bucketPolicy(identities, o.bucket, await uidOfAccessKey(admin, o.s3.accessKeyId));
  const log = o.log ?? (() => undefined);
  const writeEntries = (entries: CallLogEntry[]) => {
    if (o.callLogFile && entries.length > 0) appendFileSync(o.callLogFile, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  };
  const writeCall = (r: CallRecord) => writeEntries([{ type: 'call', ...r }]);
  if (o.callLogFile) {
    mkdirSync(dirname(o.callLogFile), { recursive: true });
    // A new cloud, a new log: the report is about this cloud's run only.
    writeFileSync(o.callLogFile, '');
    writeEntries(identities.map((i) => ({ type: 'function' as const, functionId: i.functionId, logicalId: i.logicalId, policy: [...i.policy] })));
  }

  let t = Date.now();
  await createRgwUsers(admin, identities);
  timings.rgwUsers = Date.now() - t;
  t = Date.now();
  try {
    await applyBucketPolicy(o, policy);
  } catch (e) {
    if (o.removeUsersOnStop) await removeRgwUsers(admin, identities).catch(() => undefined);
    throw e;
  }
  timings.bucketPolicy = Date.now() - t;

  const dynamoCalls: DynamoCallRecord[] = [];
  t = Date.now();
  let front: DynamoFront;
  try {
    front = await startDynamoFront({
      upstream: o.dynamo.endpoint,
      region: o.region,
      identities,
      adminAccessKeyIds: o.dynamo.adminAccessKeyIds,
      onCall: (r) => {
        // In memory only without a call log: a long-running cloud (benchmarks) would grow forever.
        if (o.callLogFile) writeCall(r);
        else dynamoCalls.push(r);
      },
      log,
    });
  } catch (e) {
    if (o.removeUsersOnStop) await removeRgwUsers(admin, identities).catch(() => undefined);
    throw e;
  }
  timings.dynamoFront = Date.now() - t;
  log(`iam: ${identities.length} function identities, RGW users + bucket policy (${policy?.Statement.length ?? 0} statements), DynamoDB front at ${front.endpoint}`);

  const users = new Map(identities.map((i) => [i.rgwUid, i.functionId]));
  // RGW's log only grows while it runs: read what is new since the last read (a large-file test
  // writes one line per part), up to the last complete line.
  const s3Seen: S3CallRecord[] = [];
  let offset = 0;
  const readNewS3Calls = (): S3CallRecord[] => {
    if (!o.rgwLogFile) return [];
    let fd: number;
    try {
      fd = openSync(o.rgwLogFile, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= offset) return [];
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      const end = buf.subarray(0, n).lastIndexOf(0x0a);
      if (end < 0) return [];
      offset += end + 1;
      const fresh = s3CallsFromLog(buf.subarray(0, end).toString('utf8'), users);
      if (!o.callLogFile) s3Seen.push(...fresh);
      return fresh;
    } finally {
      closeSync(fd);
    }
  };
  const flush = () => {
    for (const r of readNewS3Calls()) writeCall(r);
  };
  const timer = o.callLogFile && o.rgwLogFile ? setInterval(flush, S3_FLUSH_INTERVAL_MS) : undefined;
  timer?.unref();
  let stopped = false;
  return {
    credentials: Object.fromEntries(identities.map((i) => [i.functionId, { accessKeyId: i.accessKeyId, secretAccessKey: i.secretAccessKey }])),
    dynamoEndpoint: front.endpoint,
    identities,
    bucketPolicy: policy,
    timings,
    dynamoCalls: () => dynamoCalls,
    s3Calls: () => {
      flush();
      return [...s3Seen];
    },
    flush,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      flush();
      await front.stop();
      if (o.removeUsersOnStop) await removeRgwUsers(admin, identities);
    },
  };
}
