/**
 * Lambda entry of the Function URL variant (`-c api=function-url`, LocalStack's free plan): one
 * function serves every route of the route table, dispatching to the same handler modules the
 * HTTP API variant deploys one by one. A Function URL delivers HTTP API payload 2.0 events but
 * has no authorizer, so this entry first does what API Gateway does with the HTTP API's Lambda
 * authorizer, calling the same authorizer handler (lambdas/http/authorization.ts):
 * unknown route 404, no `Authorization` 401, refused 403, else the route with the token's owner.
 */
import { ENV } from '../config.js';
import { DEFAULT_AUTH_CACHE_TTL_SECONDS, authorizedRouter, lambdaAuthorizer } from '../http/authorization.js';
import { createRouter, type RouteHandler } from '../http/router.js';
import { logger } from '../observability.js';
import { handler as tokenAuthorizer } from './authorizer.js';

function cacheTtlSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env[ENV.authCacheTtlSeconds];
  if (raw === undefined || raw === '') return DEFAULT_AUTH_CACHE_TTL_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 3600) throw new Error(`invalid configuration: ${ENV.authCacheTtlSeconds} must be 0..3600`);
  return n;
}

const authorize = lambdaAuthorizer({
  authorizer: tokenAuthorizer,
  // One cache per container (API Gateway's is per API): a revocation counts within the TTL.
  cacheTtlSeconds: cacheTtlSeconds(process.env),
});

export const handler: RouteHandler = authorizedRouter(createRouter(), authorize, (message, error) =>
  logger.error(message, { error: error as Error }),
);
