/**
 * `-c localstack=true`: the same stack, deployable on LocalStack's free plan (no API Gateway v2):
 * a Function URL in front of one router function that dispatches to the same handler modules.
 * Also `-c api=function-url` on AWS, which keeps the CloudWatch side.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambdas/config.js';
import { HANDLER_MODULES } from '../../lambdas/http/router.js';
import { ROUTES } from '../../contract/routes.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { LOCALSTACK_FREE_PLAN_RESOURCE_TYPES } from '../../lib/localstack-free-plan.js';
import { LOCALSTACK_ASSETS_BUCKET, LOCALSTACK_S3_PUBLIC_ENDPOINT, settingsFromContext } from '../../lib/settings.js';
import { asArray, roleStatements, synthesize, type Synthesized } from './synth.js';

let local: Synthesized;
let awsUrl: Synthesized;

beforeAll(() => {
  // Exactly what `cdk synth -c localstack=true` feeds the stack.
  const context: Record<string, string> = { localstack: 'true' };
  local = synthesize(settingsFromContext((k) => context[k]), 'MpuLocal');
  awsUrl = synthesize(
    {
      api: 'function-url',
      authCacheTtlSeconds: 30,
      tokensTableName: 'acme-mpu-tokens',
      corsAllowedOrigins: ['https://app.example.com'],
      functionUrlConcurrency: 20,
    },
    'MpuUrl',
  );
});

afterAll(() => {
  local?.cleanup();
  awsUrl?.cleanup();
});

const resources = (x: Synthesized) => x.template.toJSON().Resources as Record<string, { Type: string; Properties: any; DeletionPolicy?: string }>;
const fnId = (x: Synthesized, id: 'router' | 'sweep') => x.logicalId(x.stack.functions[id]!.fn);

describe('LocalStack free plan (-c localstack=true)', () => {
  test('uses only resource types of the free plan', () => {
    const types = new Set(Object.values(resources(local)).map((r) => r.Type));
    expect([...types].filter((t) => !LOCALSTACK_FREE_PLAN_RESOURCE_TYPES.has(t))).toEqual([]);
    // In particular: no HTTP API, no custom resources, no CloudWatch, no CDK metadata resource.
    for (const t of types) expect(t).not.toMatch(/^(Custom::|AWS::CloudFormation::CustomResource|AWS::ApiGateway|AWS::CloudWatch|AWS::Logs|AWS::CDK)/);
  });

  test('one router function and the sweeper; Node 24, arm64', () => {
    local.template.resourceCountIs('AWS::Lambda::Function', 2);
    expect(Object.keys(local.stack.functions).sort()).toEqual(['router', 'sweep']);
    for (const id of ['router', 'sweep'] as const) {
      expect(resources(local)[fnId(local, id)]!.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        FunctionName: `MpuLocal-${id}`,
      });
    }
  });

  test('the router authorizes, then serves every route of the route table with the same handler modules', () => {
    const entry = readFileSync(path.join(PROJECT_ROOT, 'lambdas/handlers/router.ts'), 'utf8');
    // The same authorizer handler the HTTP API invokes, behind API Gateway's behaviour, then the router.
    expect(entry).toMatch(/import \{ handler as tokenAuthorizer \} from '\.\/authorizer\.js';/);
    expect(entry).toMatch(/export const handler: RouteHandler = authorizedRouter\(createRouter\(\), authorize/);
    expect(Object.keys(HANDLER_MODULES).sort()).toEqual(ROUTES.map((r) => r.id).sort());
    const code = resources(local)[fnId(local, 'router')]!.Properties.Code as { S3Key: string };
    const bundle = readFileSync(path.join(local.assetDir(code.S3Key), 'index.mjs'), 'utf8');
    // Code of the route handlers is inside the one bundle (esbuild follows the lazy imports).
    expect(bundle).toContain('session_id must be 22 base64url characters');
    // ... and the token check.
    expect(bundle).toContain('token refused');
    expect(bundle).not.toMatch(/import\(\s*["']\.\.\/handlers\//);
  });

  test('a public Function URL is the API; no CORS unless origins are configured', () => {
    local.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId(local, 'router'), 'Arn'] },
    });
    expect(Object.values(local.template.findResources('AWS::Lambda::Url'))[0]!.Properties.Cors).toBeUndefined();
    local.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
      FunctionName: { 'Fn::GetAtt': [fnId(local, 'router'), 'Arn'] },
    });
    const outputs = local.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(['ApiUrl', 'BucketName', 'Region', 'TableName', 'TokensTableName']);
    expect(outputs.TokensTableName!.Value).toEqual({ Ref: local.logicalId(local.stack.tokens!.table) });
    expect(outputs.ApiUrl!.Value).toEqual({ 'Fn::GetAtt': [local.logicalId(local.stack.functionUrlApi!.functionUrl), 'FunctionUrl'] });
  });

  test('part URLs are signed for the S3 endpoint the host reaches', () => {
    for (const id of ['router', 'sweep'] as const) {
      const env = resources(local)[fnId(local, id)]!.Properties.Environment.Variables as Record<string, unknown>;
      expect(env[ENV.s3PublicEndpoint]).toBe(LOCALSTACK_S3_PUBLIC_ENDPOINT);
      expect(env[ENV.s3PublicEndpoint]).toBe('http://s3.localhost.localstack.cloud:4566');
      expect(env[ENV.s3ForcePathStyle]).toBe('true');
      expect(Object.keys(env).filter((k) => !(Object.values(ENV) as string[]).includes(k) && k !== 'NODE_OPTIONS')).toEqual([]);
    }
  });

  test('the router knows the tokens table and its cache TTL; there is no separate authorizer function', () => {
    const env = resources(local)[fnId(local, 'router')]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(env[ENV.tokensTableName]).toEqual({ Ref: local.logicalId(local.stack.tokens!.table) });
    expect(env[ENV.authCacheTtlSeconds]).toBe('300');
    expect(local.stack.functions.authorizer).toBeUndefined();
    // The sweeper never sees tokens.
    const sweepEnv = resources(local)[fnId(local, 'sweep')]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(sweepEnv[ENV.tokensTableName]).toBeUndefined();
  });

  test('the router may do what every route does, and no more', () => {
    const statements = roleStatements(local.template, local.logicalId(local.stack.functions.router!.role));
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'CreateLogGroup',
      'Logs',
      'SessionsTable',
      'TokensTable',
      'UploadBucket',
      'UploadObjects',
    ]);
    // It authorizes requests itself: read one token row, nothing more.
    expect(asArray(bySid.TokensTable!.Action)).toEqual(['dynamodb:GetItem']);
    expect(bySid.TokensTable!.Resource).toEqual({ 'Fn::GetAtt': [local.logicalId(local.stack.tokens!.table), 'Arn'] });
    expect(asArray(bySid.SessionsTable!.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(asArray(bySid.UploadObjects!.Action).sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:ListMultipartUploadParts',
      's3:PutObject',
    ]);
    expect(asArray(bySid.UploadBucket!.Action)).toEqual(['s3:ListBucket']);
  });

  test('without log group resources, log permissions name the function\'s own group', () => {
    const statements = roleStatements(local.template, local.logicalId(local.stack.functions.router!.role));
    const logs = statements.find((s) => s.Sid === 'Logs')!;
    expect(JSON.stringify(logs.Resource)).toContain(':log-group:/aws/lambda/MpuLocal-router:*');
    const create = statements.find((s) => s.Sid === 'CreateLogGroup')!;
    expect(JSON.stringify(create.Resource)).toMatch(/:log-group:\/aws\/lambda\/MpuLocal-router"/);
  });

  test('throwaway data: buckets and table are deleted with the stack', () => {
    for (const r of Object.values(resources(local))) {
      if (r.Type === 'AWS::S3::Bucket' || r.Type === 'AWS::DynamoDB::Table') expect(r.DeletionPolicy).toBe('Delete');
    }
    local.template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });

  test('deploys without `cdk bootstrap`: bundles come from one plain bucket, no bootstrap version check', () => {
    const json = local.template.toJSON() as { Parameters?: Record<string, unknown>; Rules?: Record<string, unknown> };
    expect(json.Parameters?.BootstrapVersion).toBeUndefined();
    expect(json.Rules?.CheckBootstrapVersion).toBeUndefined();
    for (const id of ['router', 'sweep'] as const) {
      expect(resources(local)[fnId(local, id)]!.Properties.Code.S3Bucket).toBe(LOCALSTACK_ASSETS_BUCKET);
    }
    // The AWS variants keep the default (bootstrapped) synthesizer.
    expect(JSON.stringify(resources(awsUrl)[fnId(awsUrl, 'router')]!.Properties.Code.S3Bucket)).toContain('cdk-hnb659fds-assets');
  });

  test('on AWS the router is capped by reserved concurrency (anyone may call the URL); the sweeper runs one at a time', () => {
    expect(resources(awsUrl)[fnId(awsUrl, 'router')]!.Properties.ReservedConcurrentExecutions).toBe(20);
    expect(resources(awsUrl)[fnId(awsUrl, 'sweep')]!.Properties.ReservedConcurrentExecutions).toBe(1);
    // LocalStack's port is published on 127.0.0.1 only: no strangers to cap.
    expect(resources(local)[fnId(local, 'router')]!.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(resources(local)[fnId(local, 'sweep')]!.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  test.each(['router', 'sweep'] as const)('%s: bundle at most 650 KiB', (id) => {
    const code = resources(local)[fnId(local, id)]!.Properties.Code as { S3Key: string };
    expect(statSync(path.join(local.assetDir(code.S3Key), 'index.mjs')).size).toBeLessThanOrEqual(650 * 1024);
  });

  test('the sweeper schedule is an EventBridge rule (on the free plan)', () => {
    local.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });

  test.each([
    ['localstack', () => local],
    ['function-url on AWS', () => awsUrl],
  ])('%s: zero unacknowledged cdk-nag findings', (_, get) => {
    const report = new AwsSolutionsChecks().validateScope(get().stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('Function URL variant on AWS (-c api=function-url)', () => {
  test('keeps log groups, alarms (5xx from the URL metrics) and the dashboard', () => {
    awsUrl.template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    awsUrl.template.resourceCountIs('AWS::Lambda::Url', 1);
    awsUrl.template.resourceCountIs('AWS::Logs::LogGroup', 2);
    awsUrl.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    awsUrl.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Url5xxCount',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(awsUrl, 'router') } }],
    });
    // Retained data, no free-plan endpoint override.
    const env = resources(awsUrl)[fnId(awsUrl, 'router')]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(env[ENV.s3PublicEndpoint]).toBeUndefined();
  });

  test('CORS for configured origins: the HTTP API\'s definition (route table methods, Retry-After exposed)', () => {
    awsUrl.template.hasResourceProperties('AWS::Lambda::Url', {
      Cors: {
        AllowOrigins: ['https://app.example.com'],
        AllowMethods: Match.anyValue(),
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        ExposeHeaders: ['retry-after'],
        MaxAge: 3600,
      },
    });
    const cors = Object.values(awsUrl.template.findResources('AWS::Lambda::Url'))[0]!.Properties.Cors as { AllowMethods: string[] };
    expect([...cors.AllowMethods].sort()).toEqual([...new Set(ROUTES.map((r) => r.method))].sort());
  });

  test('every alarm notifies the stack\'s topic on 2 of 3 data points; its ARN is an output', () => {
    const topics = Object.keys(awsUrl.template.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    const alarms = Object.values(awsUrl.template.findResources('AWS::CloudWatch::Alarm')) as { Properties: any }[];
    // API 5xx, Lambda errors and throttles, 2 sweeper, 2 table, 2 duration alarms.
    expect(alarms).toHaveLength(3 + 2 + 2 + 2);
    for (const a of alarms) {
      expect(a.Properties).toMatchObject({ AlarmActions: [{ Ref: topics[0] }], OKActions: [{ Ref: topics[0] }], EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    }
    expect((awsUrl.template.toJSON().Outputs as Record<string, { Value: unknown }>).AlarmTopicArn!.Value).toEqual({ Ref: topics[0] });
  });

  test('API tokens: the configured cache TTL reaches the router; the tokens table is named, protected and retained', () => {
    const env = resources(awsUrl)[fnId(awsUrl, 'router')]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(env[ENV.authCacheTtlSeconds]).toBe('30');
    const tokens = resources(awsUrl)[awsUrl.logicalId(awsUrl.stack.tokens!.table)]!;
    expect(tokens.Properties).toMatchObject({
      TableName: 'acme-mpu-tokens',
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(tokens.DeletionPolicy).toBe('Retain');
  });
});
