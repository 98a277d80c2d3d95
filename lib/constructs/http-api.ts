/**
 * The AWS variant of the API: an API Gateway HTTP API with one route per entry of the route
 * table (lambdas/http/routes.ts), each integrated with its own handler function.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES, type RouteId } from '../../lambdas/http/routes.js';
import type { JwtAuthSettings } from '../settings.js';

export interface UploadHttpApiProps {
  readonly handlers: Record<RouteId, IFunction>;
  readonly corsAllowedOrigins: readonly string[];
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly jwtAuth?: JwtAuthSettings;
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

    const cors = props.corsAllowedOrigins.length > 0;
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Resumable multipart uploads into S3',
      // The stage below replaces the default one: it carries throttling and access logs.
      createDefaultStage: false,
      ...(cors
        ? {
            corsPreflight: {
              allowOrigins: [...props.corsAllowedOrigins],
              allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.DELETE],
              allowHeaders: ['content-type', 'authorization'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
      ...(props.jwtAuth
        ? {
            defaultAuthorizer: new HttpJwtAuthorizer('Jwt', props.jwtAuth.issuer, {
              jwtAudience: [...props.jwtAuth.audience],
            }),
          }
        : {}),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Stage-wide cap (every route): an unauthenticated upload API must not scale costs with an attacker.
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
