/**
 * The local cloud: real S3 (Ceph RGW), real DynamoDB (DynamoDB Local) and an API Gateway
 * stand-in running the Lambda handlers, all on 127.0.0.1, with the bucket and table created.
 *
 * `startLocalCloud()` is the programmatic entry (tests, scripts); local/main.ts wraps it for
 * `npm run local`. Everything started lives in one run dir and is stopped by `stop()`; see
 * procs.ts for how nothing survives a crash of this process either.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TokenStore } from '../lambdas/aws/token-store.js';
import { ENV } from '../lambdas/env.js';
import { S3_LIMITS } from '../contract/limits.js';
import { newToken, tokenRecord, type TokenRecord } from '../lambdas/core/tokens.js';
import { startCeph, type CephCluster } from './ceph.js';
import { checkDependencies, formatProblems } from './deps.js';
import { startDynamo, type DynamoLocal } from './dynamodb.js';
import { defaultEndpointsFile, removeEndpointsFile, writeEndpointsFile, type LocalEndpoints } from './endpoints.js';
import { startGatewayProcess, type GatewayProcess } from './gateway.js';
import { GATEWAY_LOG_FILE } from './gateway-log.js';
import { jwtGatewayEnv, type LocalJwtAuth } from './jwt/gateway-env.js';
import { claimRunDir, freePort, reapStale, releaseRunDir, runRoot, watchdog } from './procs.js';
import { ensureBucket, ensureSessionTable, ensureTokensTable, localDynamoClient, localS3Client } from './resources.js';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LocalCloudOptions {
  /** S3 multipart minimum part size, given to RGW and to the handlers (MIN_PART_SIZE). Default 5 MiB. */
  minPartSize?: number;
  /** Memstore cap of the Ceph OSD. Default 8 GiB. */
  memstoreBytes?: number;
  /** DynamoDB Local keeps its tables here (survives restartDynamo()); default in memory. */
  dynamoDataDir?: string;
  region?: string;
  bucket?: string;
  table?: string;
  tokensTable?: string;
  /** Owner of the token written into the endpoints file. Default `local-user`. */
  defaultOwner?: string;
  /**
   * Seconds the gateway caches authorizer answers. Default 0 (none), so a revoked token is
   * refused at once and tests are deterministic; API Gateway's default is 300.
   */
  authCacheTtlSeconds?: number;
  /**
   * Protect the API with a JWT authorizer (as `-c jwtIssuer -c jwtAudience` deploy it) instead of
   * the token authorizer; local/jwt/issuer.ts is a local issuer for it.
   */
  jwtAuth?: LocalJwtAuth;
  /** Port for the API; default a free one. It stays the same across restartGateway(). */
  gatewayPort?: number;
  integrationTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Extra handler environment, e.g. `{ URL_EXPIRY_SECONDS: '5' }`. Wins over the defaults. */
  handlerEnv?: Record<string, string>;
  /**
   * Use an S3 that is already running (e.g. the shared cloud's RGW) instead of starting Ceph:
   * a test can then start its own DynamoDB and gateway in a few seconds.
   */
  externalS3?: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** Where to write endpoints.json; `false` for nowhere. Default `<project>/.local/endpoints.json`. */
  endpointsFile?: string | false;
  /** Skip the dependency check (the caller already did it). */
  skipDependencyCheck?: boolean;
  log?: (line: string) => void;
}

export interface LocalCloud {
  readonly endpoints: LocalEndpoints;
  /** The endpoints file written, if any. */
  readonly endpointsFile: string | undefined;
  /** Run dir with all logs (gateway.log, ceph-*, dynamodb-*). */
  readonly dir: string;
  /** Environment the handlers run with (as the Lambda functions would). */
  readonly handlerEnv: Readonly<Record<string, string>>;
  readonly timings: Readonly<Record<string, number>>;
  /** Kill the gateway (SIGTERM, or SIGKILL for a crash); S3 and DynamoDB stay up. */
  stopGateway(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Start the gateway again on the same port. */
  startGateway(): Promise<void>;
  restartGateway(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  stopDynamo(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Start DynamoDB Local again on the same port (with its data if `dynamoDataDir` is set; the table is recreated if missing). */
  startDynamo(): Promise<void>;
  restartDynamo(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  stop(): Promise<void>;
}

export const CLOUD_DEFAULTS = {
  region: 'us-east-1',
  bucket: 'mpu-local-uploads',
  table: 'mpu-local-sessions',
  tokensTable: 'mpu-local-tokens',
  defaultOwner: 'local-user',
  authCacheTtlSeconds: 0,
} as const;

/** The handlers' environment: lambdas/config.ts names plus the AWS SDK's own variables. */
export function handlerEnvironment(e: LocalEndpoints, minPartSize: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [ENV.tableName]: e.table,
    [ENV.bucketName]: e.bucket,
    [ENV.s3Endpoint]: e.s3_endpoint,
    [ENV.s3ForcePathStyle]: 'true',
    [ENV.dynamodbEndpoint]: e.dynamodb_endpoint,
    [ENV.tokensTableName]: e.tokens_table,
    [ENV.minPartSize]: String(minPartSize),
    AWS_REGION: e.region,
    AWS_DEFAULT_REGION: e.region,
    AWS_ACCESS_KEY_ID: e.access_key_id,
    AWS_SECRET_ACCESS_KEY: e.secret_access_key,
    // Static credentials are set; never let the SDK look for instance metadata (non-loopback).
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

/** The parent's environment minus anything that could point the handlers' SDK at real AWS. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || (Object.values(ENV) as string[]).includes(k)) continue;
    env[k] = v;
  }
  return env;
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const log = options.log ?? (() => undefined);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  if (!options.skipDependencyCheck) {
    const problems = await checkDependencies({ needCeph: !options.externalS3 });
    if (problems.length) throw new Error(formatProblems(problems));
  }
  const region = options.region ?? CLOUD_DEFAULTS.region;
  const bucket = options.bucket ?? CLOUD_DEFAULTS.bucket;
  const table = options.table ?? CLOUD_DEFAULTS.table;
  const tokensTable = options.tokensTable ?? CLOUD_DEFAULTS.tokensTable;
  const defaultOwner = options.defaultOwner ?? CLOUD_DEFAULTS.defaultOwner;
  const minPartSize = options.minPartSize ?? S3_LIMITS.minPartSize;

  const root = runRoot();
  reapStale(root).forEach((d) => log(`reaped stale local cloud ${d}`));
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'cloud-'));
  claimRunDir(dir);

  let ceph: CephCluster | undefined;
  let dynamo: DynamoLocal | undefined;
  let gateway: GatewayProcess | undefined;
  const stopAll = async () => {
    await gateway?.stop();
    gateway = undefined;
    await Promise.all([dynamo?.stop(), ceph?.stop()]);
    dynamo = undefined;
    ceph = undefined;
  };

  try {
    // Ceph and DynamoDB Local start in parallel: they are independent and each takes seconds.
    // allSettled, not all: on a failure we must wait for the other start to finish to stop it.
    const [s3Result, ddbResult] = await Promise.allSettled([
      options.externalS3
        ? Promise.resolve(options.externalS3)
        : startCeph({
            parentDir: dir,
            multipartMinPartSize: minPartSize,
            ...(options.memstoreBytes ? { memstoreBytes: options.memstoreBytes } : {}),
            log,
          }).then((c) => {
            ceph = c;
            timings.ceph = c.startMs;
            return c;
          }),
      startDynamo({ parentDir: dir, ...(options.dynamoDataDir ? { dataDir: options.dynamoDataDir } : {}), log }).then((d) => {
        dynamo = d;
        timings.dynamodb = d.startMs;
        return d;
      }),
    ]);
    if (s3Result.status === 'rejected') throw s3Result.reason;
    if (ddbResult.status === 'rejected') throw ddbResult.reason;
    const s3 = s3Result.value;
    const ddb = ddbResult.value;
    const gatewayPort = options.gatewayPort ?? (await freePort());
    const endpoints: LocalEndpoints = {
      api_url: `http://127.0.0.1:${gatewayPort}`,
      region,
      bucket,
      table,
      s3_endpoint: s3.endpoint,
      dynamodb_endpoint: ddb.endpoint,
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
      tokens_table: tokensTable,
    };
    const credentials = { accessKeyId: endpoints.access_key_id, secretAccessKey: endpoints.secret_access_key };
    const s3Client = localS3Client(endpoints.s3_endpoint, region, credentials);
    const dbClient = localDynamoClient(endpoints.dynamodb_endpoint, region, credentials);
    const handlerEnv = handlerEnvironment(endpoints, minPartSize, options.handlerEnv);
    const startGw = async () => {
      const t1 = Date.now();
      gateway = await startGatewayProcess({
        port: gatewayPort,
        env: { ...baseEnv(), ...handlerEnv, ...jwtGatewayEnv(options.jwtAuth) },
        logFile: join(dir, GATEWAY_LOG_FILE),
        pidDir: dir,
        ...(options.integrationTimeoutMs ? { integrationTimeoutMs: options.integrationTimeoutMs } : {}),
        ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
        authCacheTtlSeconds: options.authCacheTtlSeconds ?? CLOUD_DEFAULTS.authCacheTtlSeconds,
      });
      timings.gateway = Date.now() - t1;
      log(`gateway: ready at ${gateway.url} in ${timings.gateway} ms`);
    };

    // The default owner's token, made the way `mpu-admin token create` makes one (only its hash is
    // stored); kept so a DynamoDB Local restart without a data dir can put the row back.
    const tokens = new TokenStore(DynamoDBDocumentClient.from(dbClient), tokensTable);
    const created = newToken();
    const defaultToken: TokenRecord = tokenRecord(created, defaultOwner, new Date(), { description: 'local cloud default token' });
    endpoints.token = created.token;

    // The gateway process boots while the bucket and tables are created.
    const t = Date.now();
    const settled = await Promise.allSettled([
      Promise.all([
        ensureBucket(s3Client, bucket),
        ensureSessionTable(dbClient, table),
        ensureTokensTable(dbClient, tokensTable).then(() => tokens.create(defaultToken)),
      ]).then(() => {
        timings.resources = Date.now() - t;
      }),
      startGw(),
    ]);
    s3Client.destroy();
    for (const r of settled) {
      if (r.status === 'rejected') {
        dbClient.destroy();
        throw r.reason;
      }
    }

    const endpointsFile = options.endpointsFile === false ? undefined : (options.endpointsFile ?? defaultEndpointsFile(PROJECT_ROOT));
    if (endpointsFile) {
      writeEndpointsFile(endpointsFile, endpoints);
      // A stale file would send the next test run to dead ports: the watchdog deletes it if we crash.
      watchdog.track('dir', endpointsFile);
    }
    timings.total = Date.now() - t0;
    log(`API token ${created.tokenId} for owner ${defaultOwner} (the token itself is in the endpoints file)`);
    log(`local cloud ready in ${timings.total} ms`);

    const stopDynamo = async ({ signal }: { signal?: NodeJS.Signals } = {}) => {
      await dynamo?.stop(signal ? { signal } : {});
      dynamo = undefined;
    };
    const startDynamoAgain = async () => {
      if (dynamo) return;
      dynamo = await startDynamo({ parentDir: dir, port: ddb.port, ...(options.dynamoDataDir ? { dataDir: options.dynamoDataDir } : {}), log });
      await ensureSessionTable(dbClient, table);
      await ensureTokensTable(dbClient, tokensTable);
      // Back if the data went with the restart; an existing row (maybe revoked since) is kept.
      await tokens.create(defaultToken).catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      });
    };
    const stopGateway = async ({ signal }: { signal?: NodeJS.Signals } = {}) => {
      await gateway?.stop(signal ? { signal } : {});
      gateway = undefined;
    };
    const startGateway = async () => {
      if (!gateway) await startGw();
    };
    let stopped = false;
    return {
      endpoints,
      endpointsFile,
      dir,
      handlerEnv,
      timings,
      stopGateway,
      startGateway,
      restartGateway: async (o) => {
        await stopGateway(o);
        await startGateway();
      },
      stopDynamo,
      startDynamo: startDynamoAgain,
      restartDynamo: async (o) => {
        await stopDynamo(o);
        await startDynamoAgain();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        const t2 = Date.now();
        await stopAll();
        dbClient.destroy();
        if (endpointsFile) {
          removeEndpointsFile(endpointsFile);
          watchdog.untrack('dir', endpointsFile);
        }
        releaseRunDir(dir);
        log(`local cloud stopped in ${Date.now() - t2} ms`);
      },
    };
  } catch (e) {
    await stopAll();
    releaseRunDir(dir);
    throw e;
  }
}
