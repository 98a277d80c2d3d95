/**
 * The free-plan variant of the API: a Lambda Function URL in front of one router function.
 * A Function URL delivers the same payload (version 2.0) as an HTTP API, so the router entry
 * (lambdas/handlers/router.ts) dispatches by the same route table to the same handler modules.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { apiCors } from './api-cors.js';

export interface FunctionUrlApiProps {
  readonly router: lambda.IFunction;
  readonly corsAllowedOrigins: readonly string[];
}

export class FunctionUrlApi extends Construct {
  readonly functionUrl: lambda.FunctionUrl;
  /** Base URL clients use, ending in `/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: FunctionUrlApiProps) {
    super(scope, id);
    const cors = apiCors(props.corsAllowedOrigins);
    this.functionUrl = new lambda.FunctionUrl(this, 'Url', {
      function: props.router,
      // The URL itself is open (IAM auth would need SigV4 from every client); the router function
      // refuses every request without a valid API token before any route runs (lambdas/handlers/router.ts),
      // and its reserved concurrency (settings functionUrlConcurrency) caps what strangers can run.
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
      ...(cors
        ? {
            cors: {
              allowedOrigins: cors.allowOrigins,
              allowedMethods: cors.allowMethods.map((m) => lambda.HttpMethod[m]),
              allowedHeaders: cors.allowHeaders,
              exposedHeaders: cors.exposeHeaders,
              maxAge: Duration.seconds(cors.maxAgeSeconds),
            },
          }
        : {}),
    });
    this.url = this.functionUrl.url;
  }
}
