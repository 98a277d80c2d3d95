/**
 * The whole product in one stack: bucket, sessions table, one Lambda per route plus the sweeper,
 * the API in front of them, and the alarms and dashboard that watch them.
 */
import { Aws, CfnOutput, CliCredentialsStackSynthesizer, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '../lambdas/env.js';
import { ROUTES, type RouteId } from '../contract/routes.js';
import { ACCESS, type FunctionId } from './access.js';
import { FunctionUrlApi } from './constructs/function-url-api.js';
import { HandlerFunction } from './constructs/handler-function.js';
import { UploadHttpApi, type HttpApiAuth } from './constructs/http-api.js';
import { Monitoring } from './constructs/monitoring.js';
import { OUTPUT_KEYS } from '../contract/outputs.js';
import { SessionsTable } from './constructs/sessions-table.js';
import { TokensTable } from './constructs/tokens-table.js';
import { UploadBucket } from './constructs/upload-bucket.js';
import { REASONS, acknowledgeLogBucket, acknowledgeRoleWildcards } from './nag.js';
import { LOCALSTACK_ASSETS_BUCKET, resolveSettings, type MpuSettings } from './settings.js';

export interface MpuStackProps extends StackProps {
  readonly settings?: Partial<MpuSettings>;
}

export { OUTPUT_KEYS } from '../contract/outputs.js';

/**
 * Memory buys CPU on Lambda: 512 MB starts the ~1 MB bundles quickly and presigns hundreds of
 * URLs per call without waiting. Timeouts stay under API Gateway's 30 s integration limit;
 * complete gets the most, as CompleteMultipartUpload of thousands of parts takes seconds.
 */
const SIZING: Record<FunctionId, { memorySize: number; timeoutSeconds: number }> = {
  init: { memorySize: 512, timeoutSeconds: 10 },
  parts: { memorySize: 512, timeoutSeconds: 10 },
  status: { memorySize: 512, timeoutSeconds: 10 },
  complete: { memorySize: 512, timeoutSeconds: 29 },
  abort: { memorySize: 512, timeoutSeconds: 10 },
  router: { memorySize: 512, timeoutSeconds: 29 },
  // One GetItem per uncached Authorization value; API Gateway waits at most 10 s for an authorizer.
  authorizer: { memorySize: 512, timeoutSeconds: 5 },
  // One sweep pages through the expired sessions of all shards; it must end before the next run.
  sweep: { memorySize: 512, timeoutSeconds: 300 },
};

export class MpuStack extends Stack {
  readonly settings: MpuSettings;
  readonly functions: Partial<Record<FunctionId, HandlerFunction>> = {};
  readonly apiUrl: string;
  readonly uploads: UploadBucket;
  readonly sessions: SessionsTable;
  /** Undefined with a JWT authorizer. */
  readonly tokens?: TokensTable;
  readonly monitoring?: Monitoring;
  readonly httpApi?: UploadHttpApi;
  readonly functionUrlApi?: FunctionUrlApi;

  constructor(scope: Construct, id: string, props: MpuStackProps = {}) {
    const settings = resolveSettings(props.settings);
    super(scope, id, {
      description: 'mpu: resumable multipart uploads straight into S3',
      // AWS::CDK::Metadata is not a resource type of LocalStack's free plan.
      analyticsReporting: !settings.localstack,
      ...(settings.localstack
        ? {
            // Assets go straight to one bucket with the deploying credentials: no bootstrap stack.
            synthesizer: new CliCredentialsStackSynthesizer({ fileAssetsBucketName: LOCALSTACK_ASSETS_BUCKET, bucketPrefix: `${id}/` }),
          }
        : {}),
      ...props,
    });
    this.settings = settings;
    const s = settings;
    const removalPolicy = s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // LocalStack's free plan has no CloudWatch Logs resources; Lambda creates its groups itself.
    const logRetention = s.localstack ? undefined : retentionDays(s.logRetentionDays);

    this.uploads = new UploadBucket(this, 'Storage', {
      ...(s.bucketName ? { bucketName: s.bucketName } : {}),
      corsAllowedOrigins: s.corsAllowedOrigins,
      accessLogRetentionDays: s.accessLogRetentionDays,
      removalPolicy,
      sessionTtlSeconds: s.sessionTtlSeconds,
      transferAcceleration: s.transferAcceleration,
    });
    acknowledgeLogBucket(this.uploads.logBucket);

    this.sessions = new SessionsTable(this, 'Sessions', {
      ...(s.tableName ? { tableName: s.tableName } : {}),
      removalPolicy,
      protect: s.retainData,
    });

    // API tokens, unless a JWT authorizer replaces them.
    const tokenAuth = !s.jwtAuth;
    if (tokenAuth) {
      this.tokens = new TokensTable(this, 'Tokens', {
        ...(s.tokensTableName ? { tableName: s.tokensTableName } : {}),
        removalPolicy,
        protect: s.retainData,
      });
    }
    const tokensTable = this.tokens?.table;

    // Handler configuration, only under the names of lambdas/config.ts (ENV).
    const environment: Record<string, string> = {
      [ENV.tableName]: this.sessions.table.tableName,
      [ENV.bucketName]: this.uploads.bucket.bucketName,
      [ENV.objectKeyPrefix]: s.objectKeyPrefix,
      [ENV.sessionTtlSeconds]: String(s.sessionTtlSeconds),
      [ENV.urlExpirySeconds]: String(s.urlExpirySeconds),
      [ENV.maxFileSize]: String(s.maxFileSize),
      ...(s.s3PublicEndpoint
        ? // Lambdas reach LocalStack at another address than the client does: sign for the client's.
          { [ENV.s3PublicEndpoint]: s.s3PublicEndpoint, [ENV.s3ForcePathStyle]: 'true' }
        : {}),
      // Part URLs for the bucket's accelerate endpoint (resolveSettings() refused it with the above).
      ...(s.transferAcceleration ? { [ENV.s3UseAccelerateEndpoint]: 'true' } : {}),
      ...(s.minPartSize !== undefined ? { [ENV.minPartSize]: String(s.minPartSize) } : {}),
      ...(s.maxOpenSessionsPerOwner !== undefined ? { [ENV.maxOpenSessionsPerOwner]: String(s.maxOpenSessionsPerOwner) } : {}),
      // Not configuration but a Node flag: stack traces map through the bundled source maps.
      NODE_OPTIONS: '--enable-source-maps',
    };

    const handler = (
      fid: FunctionId,
      description: string,
      env: Record<string, string> = environment,
      reservedConcurrentExecutions?: number,
    ): IFunction => {
      const f = new HandlerFunction(this, `${pascal(fid)}Handler`, {
        id: fid,
        description,
        memorySize: SIZING[fid].memorySize,
        timeout: Duration.seconds(SIZING[fid].timeoutSeconds),
        environment: env,
        access: ACCESS[fid],
        table: this.sessions.table,
        ...(tokensTable ? { tokensTable } : {}),
        bucket: this.uploads.bucket,
        objectKeyPrefix: s.objectKeyPrefix,
        ...(logRetention !== undefined ? { logRetention } : {}),
        removalPolicy,
        tracing: s.tracing,
        ...(reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions } : {}),
      });
      acknowledgeRoleWildcards(f.role, { UploadObjects: REASONS.objectPrefix, Logs: REASONS.logStreams, XRay: REASONS.xray });
      this.functions[fid] = f;
      return f.fn;
    };

    let httpApi: UploadHttpApi | undefined;
    let router: IFunction | undefined;
    if (s.api === 'http-api') {
      const handlers = Object.fromEntries(ROUTES.map((r) => [r.id, handler(r.id, `mpu ${r.method} ${r.path}: ${r.description}`)])) as Record<
        RouteId,
        IFunction
      >;
      const auth: HttpApiAuth = s.jwtAuth
        ? { kind: 'jwt', jwt: s.jwtAuth }
        : {
            kind: 'token',
            // The authorizer needs the tokens table and nothing else: not even the sessions table's name.
            authorizer: handler('authorizer', 'mpu API token authorizer: Bearer tokens against the tokens table', {
              [ENV.tokensTableName]: tokensTable!.tableName,
              NODE_OPTIONS: environment.NODE_OPTIONS!,
            }),
            resultsCacheTtl: Duration.seconds(s.authCacheTtlSeconds),
          };
      httpApi = new UploadHttpApi(this, 'Http', {
        handlers,
        corsAllowedOrigins: s.corsAllowedOrigins,
        throttleRateLimit: s.throttleRateLimit,
        throttleBurstLimit: s.throttleBurstLimit,
        logRetention: retentionDays(s.logRetentionDays),
        removalPolicy,
        auth,
      });
      this.httpApi = httpApi;
      this.apiUrl = httpApi.url;
    } else {
      // No API Gateway in front: the router runs the token authorizer itself (lambdas/handlers/router.ts).
      // On AWS anyone may call the URL (the router refuses them, but each refusal is an invocation):
      // reserved concurrency caps what strangers can run; beyond it callers get 429. LocalStack
      // publishes its port on 127.0.0.1 only, and a cap there would only throttle the e2e suite.
      router = handler(
        'router',
        'mpu API router: token authorization, then every route of the route table behind one Function URL',
        { ...environment, [ENV.tokensTableName]: tokensTable!.tableName, [ENV.authCacheTtlSeconds]: String(s.authCacheTtlSeconds) },
        s.localstack ? undefined : s.functionUrlConcurrency,
      );
      this.functionUrlApi = new FunctionUrlApi(this, 'FunctionUrl', { router, corsAllowedOrigins: s.corsAllowedOrigins });
      this.apiUrl = this.functionUrlApi.url;
    }

    // One run at a time: a run that outlasts the interval is not joined by the next one.
    const sweeper = handler('sweep', 'mpu sweeper: expires abandoned sessions and aborts their multipart uploads', environment, 1);
    const sweepInterval = Duration.minutes(s.sweepIntervalMinutes);
    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the mpu sweeper',
      schedule: events.Schedule.rate(sweepInterval),
      // A failed sweep is retried briefly; after that the next scheduled run picks up the work.
      targets: [new targets.LambdaFunction(sweeper, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });

    if (!s.localstack) {
      this.monitoring = new Monitoring(this, 'Monitoring', {
        functions: Object.fromEntries(
          Object.entries(this.functions).map(([k, f]) => [k, { fn: f.fn, timeout: Duration.seconds(SIZING[k as FunctionId].timeoutSeconds) }]),
        ),
        sweeperId: 'sweep',
        sweepInterval,
        tables: { Sessions: this.sessions.table, ...(tokensTable ? { Tokens: tokensTable } : {}) },
        ...(httpApi ? { httpApi: { stage: httpApi.stage, accessLogs: httpApi.accessLogs } } : {}),
        ...(router ? { router } : {}),
        dashboard: s.dashboard,
        ...(s.alarmTopicArn ? { alarmTopicArn: s.alarmTopicArn } : {}),
        ...(s.alarmEmail ? { alarmEmail: s.alarmEmail } : {}),
      });
    }

    new CfnOutput(this, OUTPUT_KEYS.apiUrl, { value: this.apiUrl, description: 'Base URL of the upload API (mpu --api)' });
    new CfnOutput(this, OUTPUT_KEYS.bucketName, { value: this.uploads.bucket.bucketName, description: 'Bucket uploads land in' });
    new CfnOutput(this, OUTPUT_KEYS.tableName, { value: this.sessions.table.tableName, description: 'Upload sessions table' });
    if (tokensTable) {
      new CfnOutput(this, OUTPUT_KEYS.tokensTableName, {
        value: tokensTable.tableName,
        description: 'API tokens table (mpu-admin token create|list|revoke --outputs <this file>)',
      });
    }
    if (this.monitoring) {
      new CfnOutput(this, OUTPUT_KEYS.alarmTopicArn, {
        value: this.monitoring.topic.topicArn,
        description: 'SNS topic every alarm notifies (subscribe to it, or deploy with -c alarmEmail=...)',
      });
    }
    new CfnOutput(this, OUTPUT_KEYS.region, { value: Aws.REGION, description: 'Region of the stack' });
  }
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** CloudWatch Logs accepts only certain retention values; take the smallest one that is long enough. */
export function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((v): v is logs.RetentionDays => typeof v === 'number' && v > 0)
    .sort((a, b) => a - b);
  return allowed.find((v) => v >= days) ?? logs.RetentionDays.INFINITE;
}
