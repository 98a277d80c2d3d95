/**
 * Reads a synthesized template into what the local cloud runs (DeployedStack, template.ts). Pure:
 * the template JSON, the assembly directory and the local resource names in; no I/O.
 */
import { join } from 'node:path';
import { ACCESS, type FunctionId } from '../lib/access.js';
import {
  constructPath,
  functionIdOfPath,
  resolver,
  TemplateError,
  type CfnResource,
  type CfnTemplate,
  type Resolver,
} from './template-resolve.js';
import type {
  DeployedApiCors,
  DeployedAuthorizer,
  DeployedBucketCorsRule,
  DeployedFunction,
  DeployedRoute,
  DeployedSchedule,
  DeployedStack,
  LocalResources,
  PolicyStatement,
} from './template.js';

export { TemplateError, type CfnTemplate };

const FUNCTION_IDS = new Set(Object.keys(ACCESS));

type Props = Record<string, unknown>;

function props(r: CfnResource): Props {
  return r.Properties ?? {};
}

function ofType(t: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function strings(rs: Resolver, v: unknown, at: string): string[] {
  return asList(v).map((x, i) => rs.str(x, `${at}[${i}]`));
}

/** A role's statements: its inline policies, plus AWS::IAM::Policy resources attached to it. */
function roleStatements(t: CfnTemplate, rs: Resolver, roleId: string): PolicyStatement[] {
  const role = t.Resources[roleId];
  if (!role || role.Type !== 'AWS::IAM::Role') throw new TemplateError(`${roleId}: not an AWS::IAM::Role`);
  if (asList(props(role).ManagedPolicyArns).length > 0) {
    // An AWS managed policy's statements are not in the template; guessing them would defeat the check.
    throw new TemplateError(`${roleId}: managed policies are not supported locally (their statements are not in the template)`);
  }
  const docs: [string, unknown][] = asList(props(role).Policies).map((p, i) => [`${roleId}/Policies[${i}]`, (p as Props).PolicyDocument]);
  for (const [pid, p] of ofType(t, 'AWS::IAM::Policy')) {
    const roles = asList(props(p).Roles).map((r) => (r as { Ref?: unknown }).Ref);
    if (roles.includes(roleId)) docs.push([pid, props(p).PolicyDocument]);
  }
  return docs.flatMap(([at, doc]) =>
    asList((doc as Props | undefined)?.Statement).map((s, i) => statement(rs, s as Props, `${at}/Statement[${i}]`)),
  );
}

function statement(rs: Resolver, s: Props, at: string): PolicyStatement {
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new TemplateError(`${at}: Effect must be Allow or Deny`);
  for (const unsupported of ['NotAction', 'NotResource', 'Condition', 'Principal']) {
    if (s[unsupported] !== undefined) throw new TemplateError(`${at}: ${unsupported} is not supported locally`);
  }
  return { effect: s.Effect, actions: strings(rs, s.Action, `${at}/Action`), resources: strings(rs, s.Resource, `${at}/Resource`) };
}

function readFunction(t: CfnTemplate, rs: Resolver, logicalId: string, r: CfnResource, assemblyDir: string): DeployedFunction {
  const id = functionIdOfPath(constructPath(r));
  if (!id || !FUNCTION_IDS.has(id)) throw new TemplateError(`${logicalId}: not a function of lib/access.ts (path ${constructPath(r) ?? 'none'})`);
  const p = props(r);
  const assetPath = r.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new TemplateError(`${logicalId}: no aws:asset:path metadata (synthesize with asset metadata on)`);
  const vars = ((p.Environment as Props | undefined)?.Variables ?? {}) as Props;
  const environment = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, rs.str(v, `${logicalId}/Environment/${k}`)]));
  const roleArn = p.Role as { 'Fn::GetAtt'?: unknown } | undefined;
  const roleId = Array.isArray(roleArn?.['Fn::GetAtt']) ? String(roleArn['Fn::GetAtt'][0]) : undefined;
  if (!roleId) throw new TemplateError(`${logicalId}: Role is not a GetAtt of a role in this template`);
  if (typeof p.Handler !== 'string') throw new TemplateError(`${logicalId}: no Handler`);
  return {
    logicalId,
    id: id as FunctionId,
    handler: p.Handler,
    // Relative in a cloud assembly (to the assembly directory), absolute in a legacy one.
    assetDir: assetPath.startsWith('/') ? assetPath : join(assemblyDir, assetPath),
    environment,
    // CloudFormation's defaults when the properties are absent.
    timeoutSeconds: typeof p.Timeout === 'number' ? p.Timeout : 3,
    memoryMb: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
    policy: roleStatements(t, rs, roleId),
  };
}

/** The function an ARN (or an API Gateway invocation URI containing it) names. */
function functionByArn(fns: DeployedFunction[], arns: Map<FunctionId, string>, text: string, at: string): FunctionId {
  const hit = fns.filter((f) => text === arns.get(f.id) || text.includes(`/functions/${arns.get(f.id)}/invocations`));
  if (hit.length !== 1) throw new TemplateError(`${at}: ${text} names ${hit.length} functions of the template`);
  return hit[0]!.id;
}

function readApiCors(rs: Resolver, c: unknown): DeployedApiCors | undefined {
  if (!c) return undefined;
  const v = rs.deep(c, 'Api/CorsConfiguration') as Props;
  const list = (k: string) => asList(v[k]).map(String);
  return {
    allowOrigins: list('AllowOrigins'),
    allowMethods: list('AllowMethods'),
    allowHeaders: list('AllowHeaders'),
    exposeHeaders: list('ExposeHeaders'),
    maxAgeSeconds: typeof v.MaxAge === 'number' ? v.MaxAge : 0,
    allowCredentials: v.AllowCredentials === true,
  };
}

function readBucketCors(rs: Resolver, c: unknown): DeployedBucketCorsRule[] | undefined {
  if (!c) return undefined;
  const v = rs.deep(c, 'Bucket/CorsConfiguration') as Props;
  return asList(v.CorsRules).map((rule) => {
    const r = rule as Props;
    const list = (k: string) => asList(r[k]).map(String);
    return {
      allowedMethods: list('AllowedMethods'),
      allowedOrigins: list('AllowedOrigins'),
      allowedHeaders: list('AllowedHeaders'),
      exposedHeaders: list('ExposedHeaders'),
      ...(typeof r.MaxAge === 'number' ? { maxAgeSeconds: r.MaxAge } : {}),
    };
  });
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** `rate(15 minutes)` -> ms; cron expressions are not needed by this stack. */
export function rateMs(expression: string): number {
  const m = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (!m) throw new TemplateError(`schedule ${expression}: only rate(...) expressions are supported locally`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * The stack as the local cloud runs it. `assemblyDir` is the cdk.out directory the template came
 * from (asset paths are relative to it).
 */
export function readDeployedStack(t: CfnTemplate, assemblyDir: string, res: LocalResources): DeployedStack {
  const rs = resolver(t, res);
  const functions: Partial<Record<FunctionId, DeployedFunction>> = {};
  const arns = new Map<FunctionId, string>();
  for (const [id, r] of ofType(t, 'AWS::Lambda::Function')) {
    if (!functionIdOfPath(constructPath(r))) continue; // CDK's own helpers (e.g. custom resources) are not ours to run
    const f = readFunction(t, rs, id, r, assemblyDir);
    if (functions[f.id]) throw new TemplateError(`${id}: a second function for ${f.id}`);
    functions[f.id] = f;
    arns.set(f.id, rs.str({ 'Fn::GetAtt': [id, 'Arn'] }, id));
  }
  const fns = Object.values(functions);

  const integrations = new Map<string, { functionId: FunctionId; payloadFormatVersion: string }>();
  for (const [id, r] of ofType(t, 'AWS::ApiGatewayV2::Integration')) {
    const p = props(r);
    if (p.IntegrationType !== 'AWS_PROXY') throw new TemplateError(`${id}: integration type ${String(p.IntegrationType)} is not supported locally`);
    integrations.set(id, {
      functionId: functionByArn(fns, arns, rs.str(p.IntegrationUri, `${id}/IntegrationUri`), `${id}/IntegrationUri`),
      payloadFormatVersion: String(p.PayloadFormatVersion ?? '1.0'),
    });
  }

  const routes: DeployedRoute[] = ofType(t, 'AWS::ApiGatewayV2::Route').map(([id, r]) => {
    const p = props(r);
    const target = rs.str(p.Target, `${id}/Target`);
    const integration = integrations.get(target.replace(/^integrations\//, ''));
    if (!integration) throw new TemplateError(`${id}: target ${target} is not an integration of the template`);
    const auth = String(p.AuthorizationType ?? 'NONE');
    if (auth !== 'CUSTOM' && auth !== 'JWT' && auth !== 'NONE') throw new TemplateError(`${id}: authorization ${auth} is not supported locally`);
    return { routeKey: rs.str(p.RouteKey, `${id}/RouteKey`), ...integration, authorizationType: auth };
  });

  const authorizers = ofType(t, 'AWS::ApiGatewayV2::Authorizer');
  if (authorizers.length > 1) throw new TemplateError(`${authorizers.length} authorizers: the local gateway runs one`);
  let authorizer: DeployedAuthorizer | undefined;
  if (authorizers[0]) {
    const [id, r] = authorizers[0];
    const p = props(r);
    const identitySource = strings(rs, p.IdentitySource, `${id}/IdentitySource`);
    if (p.AuthorizerType === 'REQUEST') {
      authorizer = {
        kind: 'lambda',
        functionId: functionByArn(fns, arns, rs.str(p.AuthorizerUri, `${id}/AuthorizerUri`), `${id}/AuthorizerUri`),
        identitySource,
        // API Gateway's default when the property is absent.
        resultTtlSeconds: typeof p.AuthorizerResultTtlInSeconds === 'number' ? p.AuthorizerResultTtlInSeconds : 300,
        enableSimpleResponses: p.EnableSimpleResponses === true,
      };
    } else if (p.AuthorizerType === 'JWT') {
      const jwt = (p.JwtConfiguration ?? {}) as Props;
      authorizer = {
        kind: 'jwt',
        issuer: rs.str(jwt.Issuer, `${id}/JwtConfiguration/Issuer`),
        audience: strings(rs, jwt.Audience, `${id}/JwtConfiguration/Audience`),
        identitySource,
      };
    } else {
      throw new TemplateError(`${id}: authorizer type ${String(p.AuthorizerType)} is not supported locally`);
    }
  }

  const apis = ofType(t, 'AWS::ApiGatewayV2::Api');
  const apiCors = apis.length === 1 ? readApiCors(rs, props(apis[0]![1]).CorsConfiguration) : undefined;

  const uploads = ofType(t, 'AWS::S3::Bucket').filter(([, r]) => /\/Storage\/Uploads\/Resource$/.test(constructPath(r) ?? ''));
  if (uploads.length !== 1) throw new TemplateError(`expected one upload bucket (Storage/Uploads), found ${uploads.length}`);
  const bucketCors = readBucketCors(rs, props(uploads[0]![1]).CorsConfiguration);

  let schedule: DeployedSchedule | undefined;
  for (const [id, r] of ofType(t, 'AWS::Events::Rule')) {
    const p = props(r);
    const targets = asList(p.Targets) as Props[];
    if (typeof p.ScheduleExpression !== 'string' || targets.length !== 1) throw new TemplateError(`${id}: expected a schedule with one target`);
    if (schedule) throw new TemplateError(`${id}: a second schedule`);
    const expression = p.ScheduleExpression;
    schedule = { functionId: functionByArn(fns, arns, rs.str(targets[0]!.Arn, `${id}/Targets[0]/Arn`), `${id}/Targets[0]`), expression, intervalMs: rateMs(expression) };
  }

  return {
    functions,
    routes,
    ...(authorizer ? { authorizer } : {}),
    ...(apiCors ? { apiCors } : {}),
    ...(bucketCors ? { bucketCors } : {}),
    ...(schedule ? { schedule } : {}),
  };
}
