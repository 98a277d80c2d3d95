/**
 * The AWS variant of the API: an API Gateway HTTP API with one route per entry of the route
 * table (contract/routes.ts), each integrated with its own handler function.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer, HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IDENTITY_SOURCE } from '../../lambdas/http/authorization.js';
import { ROUTES, type RouteId } from '../../contract/routes.js';
import type { JwtAuthSettings } from '../settings.js';
import { apiCors } from './api-cors.js';

/**
 * How every route is authorized. `token` (the default): the stack's Lambda authorizer checks
 * `Authorization: Bearer mpu_...` API tokens (lambdas/handlers/authorizer.ts), simple responses,
 * answers cached per header value. `jwt`: an OIDC provider's JWTs instead (owner = `sub`).
 */
export type HttpApiAuth =
  | { readonly kind: 'token'; readonly authorizer: IFunction; readonly resultsCacheTtl: Duration }
  | { readonly kind: 'jwt'; readonly jwt: JwtAuthSettings };

export interface UploadHttpApiProps {
  readonly handlers: Record<RouteId, IFunction>;
  readonly corsAllowedOrigins: readonly string[];
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly auth: HttpApiAuth;
}

/** One JSON object per request: what operators search for when a client reports a failure. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
  // Who called (token authorizer context), and why an authorizer refused; never a credential.
  owner: '$context.authorizer.owner',
  tokenId: '$context.authorizer.token_id',
  authorizerError: '$context.authorizer.error',
} as const;

const HTTP_METHOD: Record<(typeof ROUTES)[number]['method'], apigw.HttpMethod> = {
  GET: apigw.HttpMethod.GET,
  POST: apigw.HttpMethod.POST,
  DELETE: apigw.HttpMethod.DELETE,
};

export class UploadHttpApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** Base URL clients use, ending in `/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: UploadHttpApiProps) {
    super(scope, id);

    const cors = apiCors(props.corsAllowedOrigins);
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Resumable multipart uploads into S3',
      // The stage below replaces the default one: it carries throttling and access logs.
      createDefaultStage: false,
      ...(cors
        ? {
            corsPreflight: {
              allowOrigins: cors.allowOrigins,
              allowMethods: cors.allowMethods.map((m) => apigw.CorsHttpMethod[m]),
              allowHeaders: cors.allowHeaders,
              exposeHeaders: cors.exposeHeaders,
              maxAge: Duration.seconds(cors.maxAgeSeconds),
            },
          }
        : {}),
      // Every route, no exception: the authorizer is the API's default.
      defaultAuthorizer:
        props.auth.kind === 'jwt'
          ? new HttpJwtAuthorizer('Jwt', props.auth.jwt.issuer, { jwtAudience: [...props.auth.jwt.audience] })
          : new HttpLambdaAuthorizer('Tokens', props.auth.authorizer, {
              authorizerName: 'mpu-api-tokens',
              responseTypes: [HttpLambdaResponseType.SIMPLE],
              identitySource: [...IDENTITY_SOURCE],
              // A revoked token keeps working for at most this long (per cached Authorization value).
              resultsCacheTtl: props.auth.resultsCacheTtl,
            }),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Stage-wide cap (every route): no caller, not even one with a valid token, scales costs without bound.
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.url = this.stage.url;

    for (const route of ROUTES) {
      this.api.addRoutes({
        path: route.path,
        methods: [HTTP_METHOD[route.method]],
        integration: new HttpLambdaIntegration(`${pascal(route.id)}Integration`, props.handlers[route.id], {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        }),
      });
    }
  }
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
