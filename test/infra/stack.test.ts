/**
 * The AWS variant (HTTP API), synthesized once with the defaults and once with every setting
 * changed: each property the issue asks for, asserted on the CloudFormation template.
 */
import { abortIncompleteUploadsAfterDays } from '../../lib/constructs/upload-bucket.js';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambdas/config.js';
import { TABLE, TOKENS_TABLE } from '../../lambdas/aws/table-definition.js';
import { ROUTES, routeKey } from '../../contract/routes.js';
import { METRICS, METRICS_NAMESPACE } from '../../lambdas/observability.js';
import type { FunctionId } from '../../lib/access.js';
import { REASONS } from '../../lib/nag.js';
import { asArray, roleStatements, synthesize, type Synthesized } from './synth.js';

const API_FUNCTIONS = ROUTES.map((r) => r.id);
/** The target for every Lambda bundle (it measured 970 KiB before). */
const MAX_BUNDLE_BYTES = 650 * 1024;
/** A string of the X-Ray SDK, which Powertools Tracer brings along. */
const XRAY_SDK_MARKER = /AWS_XRAY_CONTEXT_MISSING/;
const ALL_FUNCTIONS: FunctionId[] = [...API_FUNCTIONS, 'sweep', 'authorizer'];

/** Written out here, not imported from lib/access.ts: the test is the second opinion. */
const EXPECTED_ACCESS: Record<
  string,
  { table?: string[]; index?: string[]; tokens?: string[]; objects?: string[]; bucket?: string[] }
> = {
  // One transaction creates the session, counts it against the owner's cap and keeps the
  // Idempotency-Key; a replayed key reads its session.
  init: { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], objects: ['s3:AbortMultipartUpload', 's3:PutObject'] },
  parts: { table: ['dynamodb:GetItem'], objects: ['s3:PutObject'] },
  // A gone upload: HeadObject, and an object a lost complete answer left is recorded completed.
  status: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], objects: ['s3:GetObject', 's3:ListMultipartUploadParts'], bucket: ['s3:ListBucket'] },
  complete: {
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    objects: ['s3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
    bucket: ['s3:ListBucket'],
  },
  // HeadObject first: an object a lost complete answer left is recorded, never aborted.
  abort: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], objects: ['s3:AbortMultipartUpload', 's3:GetObject'], bucket: ['s3:ListBucket'] },
  // No GetItem: a failed condition answers the row itself (ALL_OLD).
  sweep: { table: ['dynamodb:UpdateItem'], index: ['dynamodb:Query'], objects: ['s3:AbortMultipartUpload', 's3:GetObject'], bucket: ['s3:ListBucket'] },
  // One token row by id: no sessions, no S3, no listing or writing tokens.
  authorizer: { tokens: ['dynamodb:GetItem'] },
};

let s: Synthesized;
let custom: Synthesized;
let ids: { bucket: string; logBucket: string; table: string; tokensTable: string };

beforeAll(() => {
  s = synthesize();
  custom = synthesize(
    {
      bucketName: 'acme-mpu-uploads',
      tableName: 'acme-mpu-sessions',
      objectKeyPrefix: 'incoming/',
      maxFileSize: 50 * 1024 ** 3,
      sessionTtlSeconds: 7200,
      urlExpirySeconds: 600,
      corsAllowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
      throttleRateLimit: 20,
      throttleBurstLimit: 40,
      logRetentionDays: 14,
      accessLogRetentionDays: 30,
      retainData: false,
      sweepIntervalMinutes: 60,
      dashboard: false,
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
      alarmEmail: 'ops@example.com',
      tracing: true,
      jwtAuth: { issuer: 'https://issuer.example.com', audience: ['mpu'] },
    },
    'MpuCustom',
  );
  ids = {
    bucket: s.logicalId(s.stack.uploads.bucket),
    logBucket: s.logicalId(s.stack.uploads.logBucket),
    table: s.logicalId(s.stack.sessions.table),
    tokensTable: s.logicalId(s.stack.tokens!.table),
  };
});

afterAll(() => {
  s?.cleanup();
  custom?.cleanup();
});

const fnId = (x: Synthesized, id: FunctionId) => x.logicalId(x.stack.functions[id]!.fn);
const roleId = (x: Synthesized, id: FunctionId) => x.logicalId(x.stack.functions[id]!.role);
const resource = (x: Synthesized, logicalId: string) =>
  x.template.toJSON().Resources[logicalId] as { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
/** Logical id of the one API Gateway authorizer. */
const authorizerId = (x: Synthesized) => Object.keys(x.template.findResources('AWS::ApiGatewayV2::Authorizer'))[0]!;

describe('Lambda functions', () => {
  test('one function per route plus the sweeper and the token authorizer, and nothing else', () => {
    s.template.resourceCountIs('AWS::Lambda::Function', ALL_FUNCTIONS.length);
    for (const id of ALL_FUNCTIONS) expect(s.stack.functions[id]).toBeDefined();
  });

  test.each(ALL_FUNCTIONS)('%s: Node 24 on arm64, own role, JSON logs into its own log group', (id) => {
    const fn = resource(s, fnId(s, id));
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Role: { 'Fn::GetAtt': [roleId(s, id), 'Arn'] },
      LoggingConfig: {
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'WARN',
        LogGroup: { Ref: s.logicalId(s.stack.functions[id]!.logGroup!) },
      },
    });
    expect(fn.Properties.Timeout).toBe(id === 'sweep' ? 300 : id === 'complete' ? 29 : id === 'authorizer' ? 5 : 10);
    // API Gateway gives up after 30 s: an API handler must finish before.
    if (id !== 'sweep') expect(fn.Properties.Timeout).toBeLessThan(30);
    expect(resource(s, s.logicalId(s.stack.functions[id]!.logGroup!)).Properties.RetentionInDays).toBe(30);
  });

  test.each(ALL_FUNCTIONS)('%s: configured only through the ENV names of lambdas/config.ts', (id) => {
    const env = resource(s, fnId(s, id)).Properties.Environment.Variables as Record<string, unknown>;
    const allowed = new Set<string>([...Object.values(ENV), 'NODE_OPTIONS']);
    expect(Object.keys(env).filter((k) => !allowed.has(k))).toEqual([]);
    if (id === 'authorizer') {
      // Only what it reads: the tokens table.
      expect(env).toEqual({ [ENV.tokensTableName]: { Ref: ids.tokensTable }, NODE_OPTIONS: '--enable-source-maps' });
      return;
    }
    expect(env).toEqual({
      [ENV.tableName]: { Ref: ids.table },
      [ENV.bucketName]: { Ref: ids.bucket },
      [ENV.objectKeyPrefix]: 'uploads/',
      [ENV.sessionTtlSeconds]: '86400',
      [ENV.urlExpirySeconds]: '900',
      [ENV.maxFileSize]: String(5 * 1024 ** 4),
      // Stack traces point into the TypeScript sources.
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  test('settings reach the handlers', () => {
    const env = resource(custom, fnId(custom, 'init')).Properties.Environment.Variables as Record<string, unknown>;
    expect(env).toMatchObject({
      [ENV.objectKeyPrefix]: 'incoming/',
      [ENV.sessionTtlSeconds]: '7200',
      [ENV.urlExpirySeconds]: '600',
      [ENV.maxFileSize]: String(50 * 1024 ** 3),
    });
    expect(env[ENV.s3PublicEndpoint]).toBeUndefined();
  });

  test.each([...API_FUNCTIONS, 'sweep' as const])('%s: one ESM bundle with the AWS SDK inside', (id) => {
    const code = resource(s, fnId(s, id)).Properties.Code as { S3Key: string };
    const dir = s.assetDir(code.S3Key);
    const bundle = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
    expect(bundle.startsWith("import { createRequire as __mpuCreateRequire } from 'node:module';")).toBe(true);
    // externalModules: [] -> the bundle never loads the runtime's copy of the SDK.
    expect(bundle).not.toMatch(/^import[^;]*from\s*["']@aws-sdk\//m);
    expect(bundle).not.toMatch(/__require\(\s*["']@aws-sdk\//);
    expect(bundle).toMatch(/AbortMultipartUpload/);
    expect(bundle).toMatch(/UpdateItem|PutItem|GetItem|Query/);
  });

  test('the authorizer bundle holds the token check and no S3 code', () => {
    const code = resource(s, fnId(s, 'authorizer')).Properties.Code as { S3Key: string };
    const bundle = readFileSync(path.join(s.assetDir(code.S3Key), 'index.mjs'), 'utf8');
    expect(bundle).toContain('token refused');
    expect(bundle).toMatch(/GetItem/);
    expect(bundle).not.toMatch(/AbortMultipartUpload|CreateMultipartUpload/);
  });
});

describe('Lambda sizing, concurrency and tracing', () => {
  const bundleOf = (x: Synthesized, id: FunctionId) => {
    const code = resource(x, fnId(x, id)).Properties.Code as { S3Key: string };
    return readFileSync(path.join(x.assetDir(code.S3Key), 'index.mjs'));
  };

  test.each(ALL_FUNCTIONS)('%s: bundle at most 650 KiB, without zod\'s locales', (id) => {
    const bundle = bundleOf(s, id);
    expect(bundle.length).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    // A string of zod's German locale: one of the 60-odd that `import { z } from 'zod'` drags in.
    expect({ zodLocales: bundle.includes('E-Mail-Adresse') }).toEqual({ zodLocales: false });
  });

  test('the authorizer bundle holds neither zod nor the S3 client', () => {
    const bundle = bundleOf(s, 'authorizer').toString('utf8');
    // Booleans, not the bundle: a failure should not print 400 KB of minified code.
    // (SigV4 itself can presign: the S3 markers are the client and its commands.)
    expect({ zod: bundle.includes('_zod'), s3: /S3Client|PutObjectCommand|ListParts|getSignedUrl/.test(bundle) }).toEqual({ zod: false, s3: false });
  });

  test('the sweeper runs one at a time (reserved concurrency 1); API functions scale freely', () => {
    expect(resource(s, fnId(s, 'sweep')).Properties.ReservedConcurrentExecutions).toBe(1);
    for (const id of [...API_FUNCTIONS, 'authorizer' as const]) {
      expect(resource(s, fnId(s, id)).Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  test('X-Ray tracing is off by default: no tracing config, no X-Ray grant, no tracer in the bundles', () => {
    for (const id of ALL_FUNCTIONS) {
      expect(resource(s, fnId(s, id)).Properties.TracingConfig).toBeUndefined();
      expect(roleStatements(s.template, roleId(s, id)).map((st) => st.Sid)).not.toContain('XRay');
      expect({ id, tracer: XRAY_SDK_MARKER.test(bundleOf(s, id).toString('utf8')) }).toEqual({ id, tracer: false });
    }
  });

  test('-c tracing=true: active tracing, the X-Ray grant, and Powertools Tracer in every bundle', () => {
    for (const id of Object.keys(custom.stack.functions) as FunctionId[]) {
      expect(resource(custom, fnId(custom, id)).Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const xray = roleStatements(custom.template, roleId(custom, id)).find((st) => st.Sid === 'XRay')!;
      expect(asArray(xray.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      // X-Ray has no resource-level permissions for these actions.
      expect(xray.Resource).toBe('*');
      expect({ id, tracer: XRAY_SDK_MARKER.test(bundleOf(custom, id).toString('utf8')) }).toEqual({ id, tracer: true });
    }
    // Tracing only adds: no other grant appears, and the functions keep their single inline policy.
    custom.template.resourceCountIs('AWS::IAM::Policy', 0);
  });
});

describe('HTTP API', () => {
  test('routes are exactly the route table, each integrated with its own function', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    s.template.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    const json = s.template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
    const routes = Object.values(json).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(ROUTES.map(routeKey).sort());
    for (const route of ROUTES) {
      const cfnRoute = routes.find((r) => r.Properties.RouteKey === routeKey(route))!;
      const integrationId = (cfnRoute.Properties.Target['Fn::Join'][1][1] as { Ref: string }).Ref;
      expect(json[integrationId]!.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [fnId(s, route.id), 'Arn'] },
      });
      // Every route is behind the token authorizer.
      expect(cfnRoute.Properties.AuthorizationType).toBe('CUSTOM');
      expect(cfnRoute.Properties.AuthorizerId).toEqual({ Ref: authorizerId(s) });
    }
  });

  test('the token authorizer: Lambda REQUEST authorizer, payload 2.0, simple responses, cached per Authorization header', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 300,
      AuthorizerUri: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [fnId(s, 'authorizer'), 'Arn'] }])],
      }),
    });
    // API Gateway may invoke the authorizer function, for this API's authorizers only.
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnId(s, 'authorizer'), 'Arn'] },
      SourceArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/authorizers/')])] },
    });
  });

  test('API Gateway may invoke each route function, from its own route only', () => {
    for (const route of ROUTES) {
      s.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fnId(s, route.id), 'Arn'] },
        // Any stage, any method (API Gateway's form), but only this route's path.
        SourceArn: { 'Fn::Join': ['', Match.arrayWith([`/*/*${route.path}`])] },
      });
    }
  });

  test('$default stage: auto-deployed, throttled, JSON access logs', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    const stage = Object.values(s.template.findResources('AWS::ApiGatewayV2::Stage'))[0] as { Properties: any };
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [s.logicalId(s.stack.httpApi!.accessLogs), 'Arn'] } },
    });
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
    // Who called and why a token was refused; never the Authorization header.
    expect(format).toMatchObject({ owner: '$context.authorizer.owner', tokenId: '$context.authorizer.token_id' });
    expect(JSON.stringify(format).toLowerCase()).not.toMatch(/header\.authorization|identity\.apikey/);
    const customStage = Object.values(custom.template.findResources('AWS::ApiGatewayV2::Stage'))[0] as { Properties: any };
    expect(customStage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });
  });

  test('CORS: no browser origin by default (the CLI needs none); the configured origins may read Retry-After', () => {
    expect(resource(s, s.logicalId(s.stack.httpApi!.api)).Properties.CorsConfiguration).toBeUndefined();
    const cors = resource(custom, custom.logicalId(custom.stack.httpApi!.api)).Properties.CorsConfiguration as Record<string, unknown[]>;
    expect(cors).toEqual({
      AllowOrigins: ['https://app.example.com', 'http://localhost:5173'],
      AllowMethods: expect.any(Array),
      AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      ExposeHeaders: ['retry-after'],
      MaxAge: 3600,
    });
    // Exactly the methods of the route table.
    expect([...cors.AllowMethods!].sort()).toEqual([...new Set(ROUTES.map((r) => r.method))].sort());
  });

  test('a JWT authorizer protects every route when configured', () => {
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['mpu'] },
    });
    const routes = Object.values(custom.template.findResources('AWS::ApiGatewayV2::Route')) as { Properties: any }[];
    expect(routes).toHaveLength(ROUTES.length);
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('JWT');
    // It replaces the token authorizer: no authorizer function, no tokens table.
    custom.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    expect(custom.stack.functions.authorizer).toBeUndefined();
    expect(custom.stack.tokens).toBeUndefined();
    custom.template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });
});

describe('DynamoDB table', () => {
  test('layout of lambdas/aws/table-definition.ts, on demand, TTL, PITR, encrypted', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', 2);
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
      GlobalSecondaryIndexes: [
        {
          IndexName: TABLE.openSessionsIndex.name,
          KeySchema: [
            { AttributeName: TABLE.openSessionsIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE.openSessionsIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: TABLE.openSessionsIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE.openSessionsIndex.sortKey, AttributeType: 'S' },
      ]),
    });
    expect(resource(s, ids.table).DeletionPolicy).toBe('Retain');
  });

  test('named and disposable when configured', () => {
    custom.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'acme-mpu-sessions', DeletionProtectionEnabled: false });
    expect(resource(custom, custom.logicalId(custom.stack.sessions.table)).DeletionPolicy).toBe('Delete');
  });

  test('tokens table: keyed by token id, on demand, TTL, PITR, encrypted, protected and retained', () => {
    expect(resource(s, ids.tokensTable).Properties).toEqual({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: TOKENS_TABLE.partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: TOKENS_TABLE.partitionKey, AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: TOKENS_TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(resource(s, ids.tokensTable).DeletionPolicy).toBe('Retain');
  });
});

describe('S3 buckets', () => {
  const publicAccessBlocked = {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  };

  test('upload bucket: private, encrypted, retained', () => {
    expect(resource(s, ids.bucket).Properties).toMatchObject({
      PublicAccessBlockConfiguration: publicAccessBlocked,
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(resource(s, ids.bucket).DeletionPolicy).toBe('Retain');
  });

  test('upload bucket: lifecycle aborts incomplete multipart uploads after 1 day', () => {
    expect(resource(s, ids.bucket).Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
  });

  test('the lifecycle backstop never cuts a session that may still be open', () => {
    expect(abortIncompleteUploadsAfterDays(60)).toBe(1);
    expect(abortIncompleteUploadsAfterDays(86_400)).toBe(1);
    expect(abortIncompleteUploadsAfterDays(86_401)).toBe(2);
    expect(abortIncompleteUploadsAfterDays(7 * 86_400)).toBe(7);
  });

  test('upload bucket: no CORS by default; the configured origins may PUT parts and read their ETag', () => {
    expect(resource(s, ids.bucket).Properties.CorsConfiguration).toBeUndefined();
    const customBucket = resource(custom, custom.logicalId(custom.stack.uploads.bucket)).Properties;
    expect(customBucket.BucketName).toBe('acme-mpu-uploads');
    expect(customBucket.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedMethods: ['PUT'],
          AllowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
          AllowedHeaders: ['*'],
          ExposedHeaders: ['ETag'],
          MaxAge: 3600,
        },
      ],
    });
  });

  test('upload bucket: server access logs go to the log bucket', () => {
    expect(resource(s, ids.bucket).Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: ids.logBucket },
      LogFilePrefix: 'uploads/',
    });
    // Delivered by the logging service through the log bucket's policy (ACLs are disabled).
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.logBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  test('log bucket: private, encrypted, logs expire', () => {
    expect(resource(s, ids.logBucket).Properties).toMatchObject({
      PublicAccessBlockConfiguration: publicAccessBlocked,
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })] },
    });
  });

  test.each(['bucket', 'logBucket'] as const)('%s: the policy refuses requests without TLS 1.2+', (which) => {
    const id = ids[which];
    const deny = (condition: object) =>
      Match.objectLike({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: condition,
        Resource: [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/*']] }],
      });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          deny({ Bool: { 'aws:SecureTransport': 'false' } }),
          deny({ NumericLessThan: { 's3:TlsVersion': 1.2 } }),
        ]),
      },
    });
  });

  test('disposable buckets when data is not retained', () => {
    expect(resource(custom, custom.logicalId(custom.stack.uploads.bucket)).DeletionPolicy).toBe('Delete');
  });
});

describe('sweeper', () => {
  test('an EventBridge rule runs the sweeper on a schedule', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(s, 'sweep'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
        }),
      ],
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnId(s, 'sweep'), 'Arn'] },
    });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });
});

describe('IAM: least privilege per function', () => {
  test('no managed policies and no role shared between functions', () => {
    const roles = Object.values(s.template.findResources('AWS::IAM::Role')) as { Properties: any }[];
    expect(roles).toHaveLength(ALL_FUNCTIONS.length);
    for (const r of roles) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
    s.template.resourceCountIs('AWS::IAM::Policy', 0);
    s.template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(new Set(ALL_FUNCTIONS.map((id) => roleId(s, id))).size).toBe(ALL_FUNCTIONS.length);
  });

  test.each(ALL_FUNCTIONS)('%s: exactly its actions, on exactly its resources', (id) => {
    const statements = roleStatements(s.template, roleId(s, id));
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    const want = EXPECTED_ACCESS[id]!;
    const expected: Record<string, { actions: string[]; resource: unknown }> = {
      Logs: {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resource: { 'Fn::GetAtt': [s.logicalId(s.stack.functions[id]!.logGroup!), 'Arn'] },
      },
    };
    if (want.table) expected.SessionsTable = { actions: want.table, resource: { 'Fn::GetAtt': [ids.table, 'Arn'] } };
    if (want.index)
      expected.OpenSessionsIndex = {
        actions: want.index,
        resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, `/index/${TABLE.openSessionsIndex.name}`]] },
      };
    if (want.objects)
      expected.UploadObjects = {
        actions: want.objects,
        resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, '/uploads/*']] },
      };
    if (want.bucket) expected.UploadBucket = { actions: want.bucket, resource: { 'Fn::GetAtt': [ids.bucket, 'Arn'] } };
    if (want.tokens) expected.TokensTable = { actions: want.tokens, resource: { 'Fn::GetAtt': [ids.tokensTable, 'Arn'] } };

    expect(Object.keys(bySid).sort()).toEqual(Object.keys(expected).sort());
    for (const [sid, { actions, resource: res }] of Object.entries(expected)) {
      const st = bySid[sid]!;
      expect(st.Effect).toBe('Allow');
      expect(asArray(st.Action).sort()).toEqual([...actions].sort());
      expect(st.Resource).toEqual(res);
      expect(st.Condition).toBeUndefined();
    }
  });

  test('no wildcard action anywhere; no wildcard S3 action; no Resource "*" except X-Ray\'s', () => {
    for (const x of [s, custom]) {
      for (const id of Object.keys(x.stack.functions) as FunctionId[]) {
        for (const st of roleStatements(x.template, roleId(x, id))) {
          for (const action of asArray(st.Action)) {
            expect(action).not.toContain('*');
            if (action.startsWith('s3:')) expect(action).toMatch(/^s3:[A-Za-z]+$/);
          }
          if (st.Sid !== 'XRay') expect(asArray(st.Resource)).not.toContain('*');
        }
      }
    }
  });

  test('object permissions follow a configured key prefix', () => {
    const st = roleStatements(custom.template, roleId(custom, 'parts')).find((x) => x.Sid === 'UploadObjects')!;
    expect(st.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [custom.logicalId(custom.stack.uploads.bucket), 'Arn'] }, '/incoming/*']],
    });
  });
});

describe('observability', () => {
  type AlarmProps = { Properties: any };
  const alarm = (x: Synthesized, name: string) => {
    const construct = x.stack.monitoring!.alarms.find((a) => a.node.id === name);
    if (!construct) throw new Error(`no alarm ${name}`);
    return x.template.toJSON().Resources[x.logicalId(construct)] as AlarmProps;
  };
  const alarms = (x: Synthesized) => Object.values(x.template.findResources('AWS::CloudWatch::Alarm')) as AlarmProps[];
  const topicId = (x: Synthesized) => Object.keys(x.template.findResources('AWS::SNS::Topic'))[0]!;
  /** The summed metrics of a math-expression alarm: [metric name, first dimension value]. */
  const summed = (a: AlarmProps) =>
    (a.Properties.Metrics as { MetricStat?: any }[])
      .filter((m) => m.MetricStat)
      .map((m) => [m.MetricStat.Metric.MetricName as string, m.MetricStat.Metric.Dimensions[0].Value.Ref as string] as const);

  test('alarms on API 5xx, API throttling, Lambda errors and Lambda throttles', () => {
    expect(alarm(s, 'Api5xx').Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Statistic: 'Sum',
      Threshold: 5,
      TreatMissingData: 'notBreaching',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm(s, 'ApiThrottled').Properties).toMatchObject({ Namespace: METRICS_NAMESPACE, MetricName: 'ApiThrottledRequests' });
    s.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.status = 429 }',
      LogGroupName: { Ref: s.logicalId(s.stack.httpApi!.accessLogs) },
      MetricTransformations: [{ MetricNamespace: METRICS_NAMESPACE, MetricName: 'ApiThrottledRequests', MetricValue: '1' }],
    });
    for (const [name, metric] of [
      ['LambdaErrors', 'Errors'],
      ['LambdaThrottles', 'Throttles'],
    ] as const) {
      const metrics = alarm(s, name).Properties.Metrics as { Id: string; Expression?: string; MetricStat?: any }[];
      // Every function, the sweeper included, counts.
      expect(summed(alarm(s, name)).map(([, fn]) => fn).sort()).toEqual(ALL_FUNCTIONS.map((id) => fnId(s, id)).sort());
      for (const [m] of summed(alarm(s, name))) expect(m).toBe(metric);
      // Missing data counts as 0: a function without invocations must not blank out the sum.
      expect(metrics.find((m) => m.Expression)!.Expression).toBe(
        metrics
          .filter((m) => m.MetricStat)
          .map((m) => `FILL(${m.Id}, 0)`)
          .join(' + '),
      );
    }
  });

  test('a failed abort by the sweeper alarms (SweepAbortFailures > 0)', () => {
    expect(alarm(s, 'SweepAbortFailures').Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.sweepAbortFailures.name,
      Dimensions: [{ Name: 'service', Value: 'mpu' }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('a sweeper that stops running alarms: no SweepRuns over twice its interval counts as breaching', () => {
    const props = {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.sweepRuns.name,
      Dimensions: [{ Name: 'service', Value: 'mpu' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // No data point means no run finished.
      TreatMissingData: 'breaching',
    };
    expect(alarm(s, 'SweeperNotRunning').Properties).toMatchObject({ ...props, Period: 2 * 15 * 60 });
    expect(alarm(custom, 'SweeperNotRunning').Properties).toMatchObject({ ...props, Period: 2 * 60 * 60 });
    // CloudWatch evaluates at most one day.
    const p = alarm(custom, 'SweeperNotRunning').Properties;
    expect(p.Period * p.EvaluationPeriods).toBeLessThanOrEqual(86_400);
  });

  test('DynamoDB throttling alarms for both tables (read and write throttle events)', () => {
    const check = (x: Synthesized, name: string, tableId: string) => {
      const a = alarm(x, name);
      expect([...summed(a)].sort()).toEqual([
        ['ReadThrottleEvents', tableId],
        ['WriteThrottleEvents', tableId],
      ]);
      expect(a.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      for (const m of a.Properties.Metrics as { MetricStat?: any }[]) {
        if (m.MetricStat) expect(m.MetricStat.Metric.Namespace).toBe('AWS/DynamoDB');
      }
    };
    check(s, 'SessionsTableThrottles', ids.table);
    check(s, 'TokensTableThrottles', ids.tokensTable);
    // With a JWT authorizer there is no tokens table.
    check(custom, 'SessionsTableThrottles', custom.logicalId(custom.stack.sessions.table));
    expect(() => alarm(custom, 'TokensTableThrottles')).toThrow(/no alarm/);
  });

  test.each(ALL_FUNCTIONS)('%s: an alarm when its longest invocation comes within 15 %% of its timeout', (id) => {
    const timeoutSeconds = resource(s, fnId(s, id)).Properties.Timeout as number;
    expect(alarm(s, `${id.charAt(0).toUpperCase()}${id.slice(1)}DurationNearTimeout`).Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(s, id) } }],
      Statistic: 'Maximum',
      Threshold: timeoutSeconds * 1000 * 0.85,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the alarms, and nothing else', () => {
    // 4 API and Lambda alarms, 2 sweeper alarms, 2 table alarms, one duration alarm per function.
    expect(alarms(s)).toHaveLength(4 + 2 + 2 + ALL_FUNCTIONS.length);
    expect(alarms(custom)).toHaveLength(4 + 2 + 1 + API_FUNCTIONS.length + 1);
  });

  test('every alarm notifies the stack\'s SNS topic (alarm and OK), on 2 of 3 data points', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const a of alarms(s)) {
      expect(a.Properties).toMatchObject({
        AlarmActions: [{ Ref: topicId(s) }],
        OKActions: [{ Ref: topicId(s) }],
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
      });
    }
  });

  test('the topic: TLS-only publishing, CloudWatch of this account may publish; nobody subscribed unless configured', () => {
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId(s) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('an existing topic instead, with an e-mail subscription (-c alarmTopicArn, -c alarmEmail)', () => {
    custom.template.resourceCountIs('AWS::SNS::Topic', 0);
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops';
    for (const a of alarms(custom)) {
      expect(a.Properties).toMatchObject({ AlarmActions: [arn], OKActions: [arn], EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    }
    custom.template.resourceCountIs('AWS::SNS::Subscription', 1);
    custom.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: arn });
  });

  test('the dashboard shows the metrics the handlers emit, under their namespace', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(s.template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const m of Object.values(METRICS).filter((x) => x.name !== 'PartUrlsIssued')) {
      expect(body).toContain(`\\"${METRICS_NAMESPACE}\\",\\"${m.name}\\",\\"service\\",\\"mpu\\"`);
    }
    custom.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});

describe('outputs', () => {
  test('ApiUrl, BucketName, TableName, TokensTableName, AlarmTopicArn, Region', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(['AlarmTopicArn', 'ApiUrl', 'BucketName', 'Region', 'TableName', 'TokensTableName']);
    expect(outputs.AlarmTopicArn!.Value).toEqual({ Ref: Object.keys(s.template.findResources('AWS::SNS::Topic'))[0] });
    expect(outputs.BucketName!.Value).toEqual({ Ref: ids.bucket });
    expect(outputs.TableName!.Value).toEqual({ Ref: ids.table });
    expect(outputs.TokensTableName!.Value).toEqual({ Ref: ids.tokensTable });
    // With a JWT authorizer there is no tokens table to name.
    const customOutputs = custom.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(customOutputs).sort()).toEqual(['AlarmTopicArn', 'ApiUrl', 'BucketName', 'Region', 'TableName']);
    expect(customOutputs.AlarmTopicArn!.Value).toBe('arn:aws:sns:eu-west-1:123456789012:ops');
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain('execute-api');
  });
});

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['defaults', () => s],
    ['custom settings', () => custom],
  ])('%s: zero unacknowledged findings', (_, get) => {
    const report = new AwsSolutionsChecks().validateScope(get().stack);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('with tracing, the one extra acknowledgement is X-Ray\'s Resource "*"', () => {
    const iam5 = new Set<string>();
    for (const c of custom.stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          if (id.includes('IAM5[Resource::*]')) {
            expect(reason).toBe(REASONS.xray);
            iam5.add(c.node.path);
          }
        }
      }
    }
    expect(iam5.size).toBe(Object.keys(custom.stack.functions).length);
  });

  test('every acknowledgement says why, and only the expected rules are acknowledged', () => {
    const acks = new Map<string, string>();
    for (const c of s.stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) acks.set(id.replace(/^annotation::/i, ''), reason);
      }
    }
    for (const reason of acks.values()) expect(Object.values(REASONS)).toContain(reason);
    const rules = new Set([...acks.keys()].map((id) => id.replace(/\[.*$/, '')));
    // No AwsSolutions-APIG4 (routes without authorization): every route has the token authorizer.
    // SNS2: the alarm topic is not KMS-encrypted (lib/nag.ts says why).
    expect([...rules].sort()).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SNS2']);
    // The only wildcard resources: object keys under the prefix; the log group's streams have none here.
    const iam5 = [...acks.keys()].filter((id) => id.startsWith('AwsSolutions-IAM5'));
    expect(new Set(iam5)).toEqual(new Set([`AwsSolutions-IAM5[Resource::<${ids.bucket}.Arn>/uploads/*]`]));
  });
});
