/**
 * The template reader (local/template-reader.ts) on a hand-written template in the shape `cdk
 * synth` writes: functions with their environment, asset and role policy; routes, integrations
 * and the authorizer; both CORS configurations; the schedule. Every reference it cannot resolve
 * must fail loudly, never yield undefined.
 */
import { readDeployedStack, rateMs, TemplateError, type CfnTemplate } from '../../local/template-reader.js';
import type { LocalResources } from '../../local/template.js';

const RES: LocalResources = {
  region: 'eu-central-1',
  accountId: '000000000000',
  bucket: 'local-uploads',
  table: 'local-sessions',
  tokensTable: 'local-tokens',
  apiUrl: 'http://127.0.0.1:4000',
  stackName: 'MpuLocal',
};

const path = (p: string) => ({ 'aws:cdk:path': `MpuLocal/${p}` });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

function fnResource(pascal: string, env: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::Function',
    Metadata: { ...path(`${pascal}Handler/Function/Resource`), 'aws:asset:path': `asset.${pascal.toLowerCase()}` },
    Properties: { Handler: 'index.handler', Role: arn(`${pascal}Role`), Environment: { Variables: env }, Timeout: 10, MemorySize: 512, ...extra },
  };
}

function role(statements: unknown[]) {
  return { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyName: 'access', PolicyDocument: { Statement: statements } }] } };
}

function template(): CfnTemplate {
  return {
    Resources: {
      Uploads: {
        Type: 'AWS::S3::Bucket',
        Metadata: path('Storage/Uploads/Resource'),
        Properties: {
          CorsConfiguration: {
            CorsRules: [{ AllowedHeaders: ['*'], AllowedMethods: ['PUT'], AllowedOrigins: ['https://app.example'], ExposedHeaders: ['ETag'], MaxAge: 3600 }],
          },
          LoggingConfiguration: { DestinationBucketName: { Ref: 'Logs' } },
        },
      },
      Logs: { Type: 'AWS::S3::Bucket', Metadata: path('Storage/AccessLogs/Resource') },
      Sessions: { Type: 'AWS::DynamoDB::Table', Metadata: path('Sessions/Table/Resource') },
      Tokens: { Type: 'AWS::DynamoDB::Table', Metadata: path('Tokens/Table/Resource') },
      InitRole: role([
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: arn('Sessions') },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [arn('Uploads'), '/uploads/*']] } },
        {
          Effect: 'Allow',
          Action: 'logs:CreateLogGroup',
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-init' },
        },
      ]),
      InitExtraPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'InitRole' }], PolicyDocument: { Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: { 'Fn::Sub': '${Uploads.Arn}/private/*' } }] } },
      },
      InitFn: fnResource('Init', { TABLE_NAME: { Ref: 'Sessions' }, BUCKET_NAME: { Ref: 'Uploads' }, URL_EXPIRY_SECONDS: '900' }),
      AuthorizerRole: role([{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: arn('Tokens') }]),
      AuthorizerFn: fnResource('Authorizer', { TOKENS_TABLE_NAME: { Ref: 'Tokens' } }, { Timeout: 5 }),
      SweepRole: role([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [arn('Sessions'), '/index/open_sessions_by_expiry']] } }]),
      SweepFn: fnResource('Sweep', { TABLE_NAME: { Ref: 'Sessions' } }, { Timeout: 300 }),
      Api: {
        Type: 'AWS::ApiGatewayV2::Api',
        Properties: { CorsConfiguration: { AllowOrigins: ['https://app.example'], AllowMethods: ['POST'], AllowHeaders: ['authorization'], ExposeHeaders: ['retry-after'], MaxAge: 3600 } },
      },
      InitIntegration: { Type: 'AWS::ApiGatewayV2::Integration', Properties: { ApiId: { Ref: 'Api' }, IntegrationType: 'AWS_PROXY', IntegrationUri: arn('InitFn'), PayloadFormatVersion: '2.0' } },
      InitRoute: {
        Type: 'AWS::ApiGatewayV2::Route',
        Properties: {
          ApiId: { Ref: 'Api' },
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: 'Tokens1' },
          RouteKey: 'POST /upload/init',
          Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'InitIntegration' }]] },
        },
      },
      Tokens1: {
        Type: 'AWS::ApiGatewayV2::Authorizer',
        Properties: {
          AuthorizerType: 'REQUEST',
          AuthorizerResultTtlInSeconds: 0,
          EnableSimpleResponses: true,
          IdentitySource: ['$request.header.Authorization'],
          AuthorizerUri: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', arn('AuthorizerFn'), '/invocations']],
          },
        },
      },
      Schedule: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(15 minutes)', Targets: [{ Arn: arn('SweepFn'), Id: 'Target0' }] } },
      Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmActions: [{ Ref: 'Topic' }] } },
    },
  };
}

test('functions: handler, bundle dir, resolved environment, sizing, every statement of the role', () => {
  const s = readDeployedStack(template(), '/cdk.out', RES);
  expect(Object.keys(s.functions).sort()).toEqual(['authorizer', 'init', 'sweep']);
  const init = s.functions.init!;
  expect(init).toMatchObject({
    logicalId: 'InitFn',
    handler: 'index.handler',
    assetDir: '/cdk.out/asset.init',
    environment: { TABLE_NAME: 'local-sessions', BUCKET_NAME: 'local-uploads', URL_EXPIRY_SECONDS: '900' },
    timeoutSeconds: 10,
    memoryMb: 512,
  });
  expect(init.policy).toEqual([
    { effect: 'Allow', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: ['arn:aws:dynamodb:eu-central-1:000000000000:table/local-sessions'] },
    { effect: 'Allow', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::local-uploads/uploads/*'] },
    { effect: 'Allow', actions: ['logs:CreateLogGroup'], resources: ['arn:aws:logs:eu-central-1:000000000000:log-group:/aws/lambda/MpuLocal-init'] },
    { effect: 'Deny', actions: ['s3:*'], resources: ['arn:aws:s3:::local-uploads/private/*'] },
  ]);
  expect(s.functions.authorizer!.environment).toEqual({ TOKENS_TABLE_NAME: 'local-tokens' });
  expect(s.functions.sweep!.policy[0]!.resources).toEqual(['arn:aws:dynamodb:eu-central-1:000000000000:table/local-sessions/index/open_sessions_by_expiry']);
});

test('routes, authorizer, CORS of the API and the bucket, schedule', () => {
  const s = readDeployedStack(template(), '/cdk.out', RES);
  expect(s.routes).toEqual([{ routeKey: 'POST /upload/init', functionId: 'init', payloadFormatVersion: '2.0', authorizationType: 'CUSTOM' }]);
  expect(s.authorizer).toEqual({ kind: 'lambda', functionId: 'authorizer', identitySource: ['$request.header.Authorization'], resultTtlSeconds: 0, enableSimpleResponses: true });
  expect(s.apiCors).toEqual({
    allowOrigins: ['https://app.example'],
    allowMethods: ['POST'],
    allowHeaders: ['authorization'],
    exposeHeaders: ['retry-after'],
    maxAgeSeconds: 3600,
    allowCredentials: false,
  });
  expect(s.bucketCors).toEqual([{ allowedMethods: ['PUT'], allowedOrigins: ['https://app.example'], allowedHeaders: ['*'], exposedHeaders: ['ETag'], maxAgeSeconds: 3600 }]);
  expect(s.schedule).toEqual({ functionId: 'sweep', expression: 'rate(15 minutes)', intervalMs: 900_000 });
});

test('a JWT authorizer is read with its issuer and audience', () => {
  const t = template();
  t.Resources.Tokens1 = {
    Type: 'AWS::ApiGatewayV2::Authorizer',
    Properties: { AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'], JwtConfiguration: { Issuer: 'http://127.0.0.1:9/iss', Audience: ['mpu'] } },
  };
  expect(readDeployedStack(t, '/cdk.out', RES).authorizer).toEqual({
    kind: 'jwt',
    issuer: 'http://127.0.0.1:9/iss',
    audience: ['mpu'],
    identitySource: ['$request.header.Authorization'],
  });
});

describe('what cannot be resolved fails loudly, naming where', () => {
  const withInitEnv = (value: unknown): CfnTemplate => {
    const t = template();
    (t.Resources.InitFn!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.X = value;
    return t;
  };
  test.each([
    ['a Ref to a missing resource', { Ref: 'Nope' }, /InitFn\/Environment\/X: reference to Nope, which is not in the template/],
    ['a Ref to a resource without a local counterpart', { Ref: 'Logs' }, /Logs \(AWS::S3::Bucket\) has no local counterpart/],
    ['an unknown attribute', { 'Fn::GetAtt': ['Sessions', 'StreamArn'] }, /attribute StreamArn of Sessions is not known locally/],
    ['an unsupported intrinsic', { 'Fn::ImportValue': 'x' }, /intrinsic Fn::ImportValue is not supported/],
    ['an unknown pseudo parameter in Fn::Sub', { 'Fn::Sub': '${AWS::NotificationARNs}' }, /reference to AWS::NotificationARNs/],
    ['a malformed Fn::Join', { 'Fn::Join': [''] }, /malformed Fn::Join/],
  ])('%s', (_name, value, message) => {
    expect(() => readDeployedStack(withInitEnv(value), '/cdk.out', RES)).toThrow(TemplateError);
    expect(() => readDeployedStack(withInitEnv(value), '/cdk.out', RES)).toThrow(message);
  });

  test('a managed policy on a role (its statements are not in the template)', () => {
    const t = template();
    t.Resources.InitRole!.Properties!.ManagedPolicyArns = ['arn:aws:iam::aws:policy/AdministratorAccess'];
    expect(() => readDeployedStack(t, '/cdk.out', RES)).toThrow(/managed policies are not supported/);
  });

  test('a route whose target is no integration of the template', () => {
    const t = template();
    t.Resources.InitRoute!.Properties!.Target = 'integrations/Elsewhere';
    expect(() => readDeployedStack(t, '/cdk.out', RES)).toThrow(/target integrations\/Elsewhere is not an integration/);
  });

  test('a function without asset metadata', () => {
    const t = template();
    delete t.Resources.InitFn!.Metadata!['aws:asset:path'];
    expect(() => readDeployedStack(t, '/cdk.out', RES)).toThrow(/no aws:asset:path metadata/);
  });
});

test('rate expressions', () => {
  expect(rateMs('rate(1 minute)')).toBe(60_000);
  expect(rateMs('rate(2 hours)')).toBe(7_200_000);
  expect(() => rateMs('cron(0 12 * * ? *)')).toThrow(TemplateError);
});
