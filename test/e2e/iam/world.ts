/**
 * A private corner of the shared local cloud for IAM tests: a fresh bucket, fresh sessions and
 * tokens tables, and the synthesized functions bound to them (their policies name these, not the
 * shared ones). `enforce()` provisions fresh RGW users, the bucket policy and a DynamoDB front for
 * a (possibly mutated) set of functions, and builds each function's use-case dependencies the way
 * its handler does, signing with that function's own credentials. The shared bucket, tables and
 * users are never touched, so the rest of the suite runs on unaffected.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SessionStore } from '../../../lambdas/aws/session-store.js';
import { UploadStorage } from '../../../lambdas/aws/storage.js';
import { loadConfig } from '../../../lambdas/config.js';
import { newSessionId } from '../../../lambdas/core/ids.js';
import { ENV } from '../../../lambdas/env.js';
import type { Deps } from '../../../lambdas/service/deps.js';
import { S3_LIMITS } from '../../../contract/limits.js';
import { LOCAL_STACK_NAME, localSettings } from '../../../local/cloud.js';
import { provisionIam, type IamEnforcement } from '../../../local/iam/provision.js';
import { ensureSessionTable, ensureTokensTable, localS3Client } from '../../../local/resources.js';
import { synthesize } from '../../../local/synth.js';
import { LOCAL_ACCOUNT_ID, type DeployedFunction } from '../../../local/template.js';
import { readDeployedStack } from '../../../local/template-reader.js';
import { e2eTarget, type E2ETarget } from '../helpers/cloud.js';

export interface IamWorld {
  target: E2ETarget & { s3Endpoint: string; dynamodbEndpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  bucket: string;
  table: string;
  tokensTable: string;
  /** The synthesized functions, bound to this world's bucket and tables. */
  functions: DeployedFunction[];
  adminS3: S3Client;
  adminDb: DynamoDBClient;
  destroy(): Promise<void>;
}

/** The local cloud's S3 client settings (path-style, no flexible checksums), under the tests' name. */
export { localS3Client as localS3 };

export async function createWorld(): Promise<IamWorld> {
  const t = e2eTarget();
  if (t.kind !== 'local' || !t.s3Endpoint || !t.dynamodbEndpoint || !t.credentials) {
    throw new Error('IAM tests need the local cloud (RGW users and the DynamoDB front are local enforcement)');
  }
  const target = t as IamWorld['target'];
  const suffix = randomBytes(4).toString('hex');
  const bucket = `iam-${suffix}`;
  const table = `iam-${suffix}-sessions`;
  const tokensTable = `iam-${suffix}-tokens`;
  const adminS3 = localS3Client(target.s3Endpoint, target.region, target.credentials);
  const adminDb = new DynamoDBClient({ endpoint: target.dynamodbEndpoint, region: target.region, credentials: target.credentials });
  const synth = await synthesize({ stackName: LOCAL_STACK_NAME, settings: localSettings({}, S3_LIMITS.minPartSize) });
  const template = JSON.parse(readFileSync(synth.templateFile, 'utf8')) as Parameters<typeof readDeployedStack>[0];
  const stack = readDeployedStack(template, synth.dir, {
    region: target.region,
    accountId: LOCAL_ACCOUNT_ID,
    bucket,
    table,
    tokensTable,
    apiUrl: target.apiUrl,
    stackName: synth.stackName,
  });
  await Promise.all([adminS3.send(new CreateBucketCommand({ Bucket: bucket })), ensureSessionTable(adminDb, table), ensureTokensTable(adminDb, tokensTable)]);
  return {
    target,
    bucket,
    table,
    tokensTable,
    functions: Object.values(stack.functions),
    adminS3,
    adminDb,
    async destroy() {
      await emptyBucket(adminS3, bucket);
      await adminS3.send(new DeleteBucketCommand({ Bucket: bucket }));
      for (const name of [table, tokensTable]) await adminDb.send(new DeleteTableCommand({ TableName: name }));
      adminS3.destroy();
      adminDb.destroy();
    },
  };
}

async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
  const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const o of objects.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
}

/** An AWS error that is an authorization refusal: AccessDenied(Exception), or a 403 (HEAD has no body to name it). */
export function isAccessRefusal(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return err?.name === 'AccessDenied' || err?.name === 'AccessDeniedException' || err?.$metadata?.httpStatusCode === 403;
}

export interface FunctionKit {
  deps: (over?: { env?: Record<string, string>; now?: () => Date }) => Deps;
  s3: S3Client;
  db: DynamoDBDocumentClient;
}

export interface Enforced {
  iam: IamEnforcement;
  kit: (id: DeployedFunction['id']) => FunctionKit;
  /** Refusals any function's SDK client saw (name or status), by function. */
  refusals: { functionId: string; error: string }[];
  stop(): Promise<void>;
}

/** Provisions `functions` (fresh users, bucket policy, front) and each function's clients. */
export async function enforce(world: IamWorld, functions: readonly DeployedFunction[]): Promise<Enforced> {
  const iam = await provisionIam({
    functions,
    region: world.target.region,
    bucket: world.bucket,
    s3: { endpoint: world.target.s3Endpoint, ...world.target.credentials },
    dynamo: { endpoint: world.target.dynamodbEndpoint, adminAccessKeyIds: [world.target.credentials.accessKeyId] },
    uidPrefix: `iam${randomBytes(4).toString('hex')}`,
    removeUsersOnStop: true,
  });
  const refusals: Enforced['refusals'] = [];
  const clients: { destroy(): void }[] = [];
  const kits = new Map<string, FunctionKit>();
  const kit = (id: DeployedFunction['id']): FunctionKit => {
    const existing = kits.get(id);
    if (existing) return existing;
    const fn = functions.find((f) => f.id === id);
    const credentials = iam.credentials[id];
    if (!fn || !credentials) throw new Error(`no function ${id} in this world`);
    // Every refusal a function's SDK client sees, whatever the use case does with the error after.
    const watch = (e: unknown) => {
      if (isAccessRefusal(e)) refusals.push({ functionId: id, error: (e as Error).name });
    };
    const s3 = localS3Client(world.target.s3Endpoint, world.target.region, credentials);
    const base = new DynamoDBClient({ endpoint: iam.dynamoEndpoint, region: world.target.region, credentials });
    for (const c of [s3, base] as { middlewareStack: S3Client['middlewareStack'] }[]) {
      c.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (e) {
            watch(e);
            throw e;
          }
        },
        { step: 'initialize', name: 'iamRefusalWatch' },
      );
    }
    // As lambdas/aws/clients.ts builds them, with this function's credentials.
    const db = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
    clients.push(s3, db, base);
    const made: FunctionKit = {
      s3,
      db,
      deps: (over = {}) => {
        const config = loadConfig({
          ...fn.environment,
          [ENV.s3Endpoint]: world.target.s3Endpoint,
          [ENV.s3ForcePathStyle]: 'true',
          [ENV.dynamodbEndpoint]: iam.dynamoEndpoint,
          ...over.env,
        });
        return {
          config,
          store: new SessionStore(db, config.tableName),
          storage: new UploadStorage(s3, s3, config.bucketName),
          now: over.now ?? (() => new Date()),
          newId: newSessionId,
          events: () => undefined,
        };
      },
    };
    kits.set(id, made);
    return made;
  };
  return {
    iam,
    kit,
    refusals,
    async stop() {
      for (const c of clients) c.destroy();
      await iam.stop();
    },
  };
}

/** `functions` with `action` taken out of `functionId`'s statements (the grant removed from the template). */
export function withoutGrant(functions: readonly DeployedFunction[], functionId: string, action: string): DeployedFunction[] {
  let removed = 0;
  const out = functions.map((f) => {
    if (f.id !== functionId) return f;
    const policy = f.policy
      .map((s) => {
        const actions = s.actions.filter((a) => a !== action);
        removed += s.actions.length - actions.length;
        return { ...s, actions };
      })
      .filter((s) => s.actions.length > 0);
    return { ...f, policy };
  });
  if (removed === 0) throw new Error(`${functionId} is not granted ${action}: nothing to remove`);
  return out;
}

/** The S3 and DynamoDB actions a function is granted in the template (what the mutations remove). */
export function grantedDataActions(fn: DeployedFunction): string[] {
  return [...new Set(fn.policy.flatMap((s) => s.actions).filter((a) => /^(s3|dynamodb):/i.test(a)))].sort();
}
