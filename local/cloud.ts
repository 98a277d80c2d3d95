/**
 * The local cloud: real S3 (Ceph RGW), real DynamoDB (DynamoDB Local) and an API Gateway
 * stand-in running the Lambda functions, all on 127.0.0.1, with the bucket and table created.
 *
 * By default it runs what would deploy: the stack is synthesized (synth.ts, cached by content)
 * with the local settings, and the gateway runs the template's routes and authorizer and each
 * function from its bundle with the template's environment (template-reader.ts, runtime.ts).
 * `fromSource` keeps the older fast path: the handler modules in the gateway process.
 *
 * `startLocalCloud()` is the programmatic entry (tests, scripts); local/main.ts wraps it for
 * `npm run local`. Everything started lives in one run dir and is stopped by `stop()`; see
 * procs.ts for how nothing survives a crash of this process either.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import type { FunctionId } from '../lib/access.js';
import type { GatewaySpec } from './gateway-artifacts.js';
import type { InvokeAnswer } from './gateway-control.js';
import { startGatewayProcess, type GatewayProcess } from './gateway.js';
import { functionEnvironment } from './runtime.js';
import { keepEntryAlive, synthesize, type SynthResult, type SynthSettings } from './synth.js';
import { LOCAL_ACCOUNT_ID, type DeployedStack, type LocalResources } from './template.js';
import { readDeployedStack, type CfnTemplate } from './template-reader.js';
import { localFunctionName } from './template-resolve.js';
import { GATEWAY_LOG_FILE } from './gateway-log.js';
import { applyBucketCors, corsFromOrigins, corsGatewayEnv } from './cors.js';
import { callLogFileFor, provisionIam, type IamEnforcement } from './iam/provision.js';
import { jwtGatewayEnv, type LocalJwtAuth } from './jwt/gateway-env.js';
import { claimRunDir, freePort, reapStale, releaseRunDir, runRoot, watchdog } from './procs.js';
import { ensureBucket, ensureSessionTable, ensureTokensTable, localDynamoClient, localS3Client } from './resources.js';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LocalCloudOptions {
  /**
   * Run the handler modules from source in the gateway process (today's fast path for
   * development) instead of the synthesized stack's bundles. Default false.
   */
  fromSource?: boolean;
  /**
   * Stack settings (lib/settings.ts) to synthesize with, e.g. `{ urlExpirySeconds: 2 }`: they
   * reach the functions through the template, as on AWS. Ignored with `fromSource`.
   */
  settings?: SynthSettings;
  /** Browser origins for the API's and the bucket's CORS (settings corsAllowedOrigins). */
  corsAllowedOrigins?: string[];
  /** Where the functions reach S3 (e.g. a fault proxy in front of RGW); default RGW itself. */
  functionS3Endpoint?: string;
  /**
   * Where clients reach S3 (a proxy or CDN in front of RGW): part URLs are presigned for this
   * origin (the stack setting s3PublicEndpoint, `npm run local -- --s3-public-endpoint`). Default
   * RGW's own address.
   */
  s3PublicEndpoint?: string;
  /**
   * Mutation tests only: changes the synthesized template (a copy; the cache is untouched)
   * before the cloud reads it, e.g. to misspell a function's environment variable.
   */
  transformTemplate?: (template: CfnTemplate) => CfnTemplate;
  /**
   * Enforce the template's IAM (local/iam/): an RGW user per function with one bucket policy from
   * all roles' statements, and DynamoDB behind a policy-checking front; each function signs with
   * its own keys. Default: on when this cloud runs its own Ceph. On another cloud's RGW it is
   * opt-in, for a bucket of its own only: the bucket policy it sets replaces the bucket's policy.
   */
  iam?: boolean;
  /**
   * With `iam`: JSON lines of every call a function made (the least-privilege report reads them).
   * Default: next to the endpoints file (local/iam callLogFileFor), none without one.
   */
  iamCallLogFile?: string;
  /** S3 multipart minimum part size, given to RGW and to the handlers (settings minPartSize). Default 5 MiB. */
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
  /**
   * From source only: extra handler environment. The artifacts get theirs from the template:
   * use `settings` there.
   */
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
  /**
   * Environment the handlers run with: the sweeper's complete environment (template variables
   * plus the local Lambda service's) with the artifacts, the gateway's handler environment from source.
   */
  readonly handlerEnv: Readonly<Record<string, string>>;
  /** The synthesized stack as the local cloud runs it; undefined from source. */
  readonly stack: DeployedStack | undefined;
  readonly synth: SynthResult | undefined;
  /**
   * Invokes a function of the stack directly, as EventBridge invokes the sweeper (artifacts only):
   * the function's result, or a FunctionInvokeError carrying its error type and message.
   */
  invoke(functionId: FunctionId, event?: unknown): Promise<unknown>;
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

export class FunctionInvokeError extends Error {
  override readonly name = 'FunctionInvokeError';
  constructor(
    readonly functionId: string,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** The stack name the local cloud synthesizes (function names are `<stack>-<id>`). */
export const LOCAL_STACK_NAME = 'MpuLocal';

/**
 * Settings of the local stack: the caller's, over what the local cloud itself needs. Only what
 * changes the functions, the API or the bucket matters; alarms and dashboards are never run.
 */
export function localSettings(o: LocalCloudOptions, minPartSize: number): SynthSettings {
  if (o.settings?.transferAcceleration) {
    throw new Error('transferAcceleration: RGW has no accelerate endpoint, the local cloud cannot run it (docs/local-fidelity.md)');
  }
  return {
    // Every answer checked at once: a revoked token is refused at once and tests are deterministic.
    authCacheTtlSeconds: o.authCacheTtlSeconds ?? CLOUD_DEFAULTS.authCacheTtlSeconds,
    ...(minPartSize !== S3_LIMITS.minPartSize ? { minPartSize } : {}),
    ...(o.corsAllowedOrigins?.length ? { corsAllowedOrigins: o.corsAllowedOrigins } : {}),
    ...(o.jwtAuth ? { jwtAuth: { issuer: o.jwtAuth.issuer, audience: [...o.jwtAuth.audience] } } : {}),
    ...(o.s3PublicEndpoint ? { s3PublicEndpoint: o.s3PublicEndpoint } : {}),
    ...o.settings,
  };
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
  const fromSource = options.fromSource ?? false;
  if (!fromSource && options.handlerEnv) throw new Error('handlerEnv applies to fromSource only: the artifacts take their environment from the template (use settings)');

  const root = runRoot();
  reapStale(root).forEach((d) => log(`reaped stale local cloud ${d}`));
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'cloud-'));
  claimRunDir(dir);

  let ceph: CephCluster | undefined;
  let dynamo: DynamoLocal | undefined;
  let gateway: GatewayProcess | undefined;
  let iam: IamEnforcement | undefined;
  let releaseSynth: (() => void) | undefined;
  const stopAll = async () => {
    releaseSynth?.();
    await gateway?.stop();
    gateway = undefined;
    await iam?.stop();
    iam = undefined;
    await Promise.all([dynamo?.stop(), ceph?.stop()]);
    dynamo = undefined;
    ceph = undefined;
  };

  // The synth (a cache hit, or a child process bundling for tens of seconds) runs while Ceph and
  // DynamoDB Local start.
  const synthP = fromSource ? undefined : synthesize({ stackName: LOCAL_STACK_NAME, settings: localSettings(options, minPartSize) }, { log });
  synthP?.catch(() => undefined);

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
    const synth = await synthP;
    if (synth) {
      timings.synth = synth.ms;
      releaseSynth = keepEntryAlive(synth.dir);
    }
    const stack = synth ? readStack(synth, endpoints, options.transformTemplate) : undefined;
    const endpointsFile = options.endpointsFile === false ? undefined : (options.endpointsFile ?? defaultEndpointsFile(PROJECT_ROOT));
    const iamCallLogFile = options.iamCallLogFile ?? (endpointsFile ? callLogFileFor(endpointsFile) : undefined);
    const enforceIam = stack !== undefined && (options.iam ?? !options.externalS3);
    const specFile = stack ? join(dir, 'gateway-spec.json') : undefined;
    // Filled once the resources (and IAM) exist, before the gateway starts.
    let artifacts: { spec: GatewaySpec; sweeperEnv: Record<string, string> } | undefined;
    // From source the public origin is a handler variable, as the stack would set it.
    const sourceEnv = { ...(options.s3PublicEndpoint ? { [ENV.s3PublicEndpoint]: options.s3PublicEndpoint } : {}), ...options.handlerEnv };
    let handlerEnv: Record<string, string> = stack ? {} : handlerEnvironment(endpoints, minPartSize, sourceEnv);
    const controlPort = stack ? await freePort() : undefined;
    const fromSourceCors = corsFromOrigins(options.corsAllowedOrigins ?? []);
    const startGw = async () => {
      const t1 = Date.now();
      gateway = await startGatewayProcess({
        port: gatewayPort,
        // With the artifacts the gateway process needs no handler environment: each function gets its own.
        env: { ...baseEnv(), ...(stack ? { AWS_REGION: region } : handlerEnv), ...jwtGatewayEnv(options.jwtAuth), ...corsGatewayEnv(fromSourceCors.api) },
        ...(specFile ? { specFile } : {}),
        ...(controlPort !== undefined ? { controlPort } : {}),
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

    // From source the gateway process boots while the bucket and tables are created; the artifacts
    // wait for them: IAM provisioning needs the bucket, and the gateway's spec needs IAM's keys.
    const t = Date.now();
    const resources = Promise.all([
      // The bucket's CORS as the stack declares it (template, or from source the same rule).
      ensureBucket(s3Client, bucket).then(() => applyBucketCors(s3Client, bucket, stack ? stack.bucketCors : fromSourceCors.bucket)),
      ensureSessionTable(dbClient, table),
      ensureTokensTable(dbClient, tokensTable).then(() => tokens.create(defaultToken)),
    ]).then(() => {
      timings.resources = Date.now() - t;
    });
    const artifactsReady = async () => {
      await resources;
      if (!stack || !specFile) return;
      if (enforceIam) {
        const ti = Date.now();
        iam = await provisionIam({
          functions: Object.values(stack.functions),
          region,
          bucket,
          s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
          ...(ceph ? { rgwLogFile: ceph.rgwLogFile } : {}),
          dynamo: { endpoint: ddb.endpoint, adminAccessKeyIds: [s3.accessKeyId] },
          // Users of a cloud on another's RGW must not collide with (or outlive) that cloud's.
          ...(options.externalS3 ? { uidPrefix: `fn${randomBytes(3).toString('hex')}`, removeUsersOnStop: true } : {}),
          ...(iamCallLogFile ? { callLogFile: iamCallLogFile } : {}),
          log,
        });
        timings.iam = Date.now() - ti;
      }
      artifacts = gatewaySpec(stack, synth!.stackName, endpoints, serviceEnvFor(endpoints, options.functionS3Endpoint, iam));
      handlerEnv = artifacts.sweeperEnv;
      // It carries the functions' credentials.
      writeFileSync(specFile, JSON.stringify(artifacts.spec), { mode: 0o600 });
    };
    const settled = await Promise.allSettled([resources, stack ? artifactsReady().then(startGw) : startGw()]);
    s3Client.destroy();
    for (const r of settled) {
      if (r.status === 'rejected') {
        dbClient.destroy();
        throw r.reason;
      }
    }

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
      stack,
      synth,
      timings,
      invoke: (functionId, event = {}) => {
        if (controlPort === undefined) return Promise.reject(new Error('invoke needs the artifacts (the cloud runs from source)'));
        return invokeFunction(controlPort, functionId, event);
      },
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

/** The synthesized stack as this cloud runs it: the template (maybe transformed) read against the local names. */
function readStack(synth: SynthResult, e: LocalEndpoints, transform: ((t: CfnTemplate) => CfnTemplate) | undefined): DeployedStack {
  const read = JSON.parse(readFileSync(synth.templateFile, 'utf8')) as CfnTemplate;
  return readDeployedStack(transform ? transform(read) : read, synth.dir, localResources(e, synth.stackName));
}

function localResources(e: LocalEndpoints, stackName: string): LocalResources {
  return {
    region: e.region,
    accountId: LOCAL_ACCOUNT_ID,
    bucket: e.bucket,
    table: e.table,
    tokensTable: e.tokens_table ?? CLOUD_DEFAULTS.tokensTable,
    apiUrl: e.api_url,
    stackName,
  };
}

/**
 * What the local Lambda service gives a function besides the template: its credentials (its own
 * RGW user and DynamoDB identity with IAM enforced, else the cloud's one identity) and where S3
 * and DynamoDB are (the stack's own endpoint variables, unset on AWS; DynamoDB through IAM's front).
 */
function serviceEnvFor(e: LocalEndpoints, functionS3Endpoint: string | undefined, iam: IamEnforcement | undefined): (id: FunctionId) => Record<string, string> {
  return (id) => {
    const own = iam?.credentials[id];
    if (iam && !own) throw new Error(`IAM provisioning gave no credentials for function ${id}`);
    return {
      AWS_ACCESS_KEY_ID: own?.accessKeyId ?? e.access_key_id,
      AWS_SECRET_ACCESS_KEY: own?.secretAccessKey ?? e.secret_access_key,
      [ENV.s3Endpoint]: functionS3Endpoint ?? e.s3_endpoint,
      [ENV.s3ForcePathStyle]: 'true',
      [ENV.dynamodbEndpoint]: iam?.dynamoEndpoint ?? e.dynamodb_endpoint,
    };
  };
}

/** The gateway's spec, and the sweeper's complete environment (tests run the sweeper with it). */
function gatewaySpec(
  stack: DeployedStack,
  stackName: string,
  e: LocalEndpoints,
  serviceEnv: (id: FunctionId) => Record<string, string>,
): { spec: GatewaySpec; sweeperEnv: Record<string, string> } {
  const env: GatewaySpec['serviceEnv'] = {};
  for (const fn of Object.values(stack.functions)) env[fn.id] = serviceEnv(fn.id);
  const sweep = stack.functions.sweep;
  if (!sweep) throw new Error('the synthesized stack has no sweep function');
  const sweeperEnv = functionEnvironment(sweep, localFunctionName(localResources(e, stackName), 'sweep'), e.region, env.sweep!);
  return { spec: { region: e.region, stackName, stack, serviceEnv: env }, sweeperEnv };
}

async function invokeFunction(controlPort: number, functionId: FunctionId, event: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${controlPort}/invoke/${functionId}`, { method: 'POST', body: JSON.stringify(event) });
  const answer = (await res.json()) as InvokeAnswer;
  if (res.status === 200) return answer.result;
  throw new FunctionInvokeError(functionId, answer.errorType ?? `HTTP ${res.status}`, answer.errorMessage ?? 'invoke failed');
}
