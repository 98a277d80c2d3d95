/**
 * What the local cloud runs, read from the CloudFormation template `cdk synth` produced
 * (local/synth.ts): the functions with their bundles, environment, sizing and role policy; the
 * HTTP API's routes, authorizer and CORS; the bucket's CORS; the sweeper's schedule.
 *
 * The interface (PolicyStatement, DeployedFunction) is shared with local/iam/ and local/jwt/
 * (notes: issue 11 plan). The reader itself is in template-reader.ts (pure); intrinsic functions
 * are resolved by template-resolve.ts.
 */
import type { FunctionId } from '../lib/access.js';

/** One IAM policy statement of a function's role, with Refs/GetAtts/Joins resolved to local names and ARNs. */
export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}

/** A Lambda function of the synthesized template, ready to run locally. */
export interface DeployedFunction {
  /** CloudFormation logical id. */
  logicalId: string;
  /** FunctionId of lib/access.ts. */
  id: FunctionId;
  /** e.g. 'index.handler' */
  handler: string;
  /** The bundle directory in cdk.out. */
  assetDir: string;
  /** The template's variables, resolved. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** The role's statements (all inline + managed policies attached to the role). */
  policy: PolicyStatement[];
}

/** One route of the HTTP API (`GET /upload/{session_id}`) and the function its integration invokes. */
export interface DeployedRoute {
  routeKey: string;
  functionId: FunctionId;
  /** Payload format of the Lambda proxy integration ('2.0'). */
  payloadFormatVersion: string;
  /** The route's authorization type as deployed: 'CUSTOM' (Lambda), 'JWT' or 'NONE'. */
  authorizationType: 'CUSTOM' | 'JWT' | 'NONE';
}

/** The HTTP API's authorizer, as API Gateway runs it. */
export type DeployedAuthorizer =
  | {
      kind: 'lambda';
      functionId: FunctionId;
      /** e.g. ['$request.header.Authorization'] */
      identitySource: string[];
      resultTtlSeconds: number;
      /** Simple responses (`isAuthorized`), payload 2.0. */
      enableSimpleResponses: boolean;
    }
  | { kind: 'jwt'; issuer: string; audience: string[]; identitySource: string[] };

/** CorsConfiguration of an HTTP API (AWS::ApiGatewayV2::Api), names in camelCase. */
export interface DeployedApiCors {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number;
  allowCredentials: boolean;
}

/** One CORS rule of the upload bucket (AWS::S3::Bucket CorsConfiguration.CorsRules). */
export interface DeployedBucketCorsRule {
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAgeSeconds?: number;
}

/** The sweeper's EventBridge rule. */
export interface DeployedSchedule {
  functionId: FunctionId;
  /** e.g. 'rate(15 minutes)' */
  expression: string;
  /** The rate in milliseconds. */
  intervalMs: number;
}

/** Everything the local cloud needs from one synthesized stack. */
export interface DeployedStack {
  /** By FunctionId (lib/access.ts). */
  functions: Partial<Record<FunctionId, DeployedFunction>>;
  routes: DeployedRoute[];
  authorizer?: DeployedAuthorizer;
  apiCors?: DeployedApiCors;
  bucketCors?: DeployedBucketCorsRule[];
  schedule?: DeployedSchedule;
}

/** The local names a template's references resolve to. */
export interface LocalResources {
  region: string;
  /** Always '000000000000' locally. */
  accountId: string;
  bucket: string;
  table: string;
  tokensTable: string;
  /** The API's base URL (Ref of the stage, the API's endpoint). */
  apiUrl: string;
  stackName: string;
}

export const LOCAL_ACCOUNT_ID = '000000000000';

/** Local ARNs, as H2's policy checks compare them (notes: issue 11 plan). */
export const localArn = {
  table: (region: string, name: string) => `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${name}`,
  bucket: (name: string) => `arn:aws:s3:::${name}`,
  function: (region: string, name: string) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`,
} as const;
