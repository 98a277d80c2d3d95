/**
 * Entry point of the gateway child process (see startGatewayProcess in gateway.ts):
 * `node --import tsx local/gateway-main.ts`, configured only through its environment, which also
 * carries the handlers' configuration (lambdas/config.ts ENV names, AWS_REGION, credentials).
 *
 * Every route is protected by the stack's token authorizer (the same handler module the HTTP
 * API invokes), behind API Gateway's behaviour: 401 without `Authorization`, 403 when refused,
 * the token's owner in `requestContext.authorizer.lambda`, answers cached for the TTL.
 */
import { DEFAULT_AUTH_CACHE_TTL_SECONDS, lambdaAuthorizer } from '../lambdas/http/authorization.js';
import { handler as tokenAuthorizer } from '../lambdas/handlers/authorizer.js';
import { GATEWAY_ENV, lambdaContext, startGatewayServer } from './gateway.js';
import { listeningLine, stampLine } from './gateway-log.js';

function intFromEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}

const log = (line: string) => process.stdout.write(stampLine(line));

const port = intFromEnv(GATEWAY_ENV.port);
const timeoutMs = intFromEnv(GATEWAY_ENV.timeoutMs);
const maxBodyBytes = intFromEnv(GATEWAY_ENV.maxBodyBytes);
const authCacheTtlSeconds = intFromEnv(GATEWAY_ENV.authCacheTtlSeconds) ?? DEFAULT_AUTH_CACHE_TTL_SECONDS;
const region = process.env.AWS_REGION ?? 'us-east-1';
const authorize = lambdaAuthorizer({
  authorizer: tokenAuthorizer,
  cacheTtlSeconds: authCacheTtlSeconds,
  region,
  // API Gateway gives a Lambda authorizer at most 10 s.
  context: () => lambdaContext('authorizer', region, Date.now() + 10_000),
});
const gw = await startGatewayServer({
  ...(port !== undefined ? { port } : {}),
  host: process.env[GATEWAY_ENV.host] || '127.0.0.1',
  ...(timeoutMs !== undefined ? { integrationTimeoutMs: timeoutMs } : {}),
  ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  authorize,
  region,
  log,
});
log(listeningLine(gw.url, `pid ${process.pid}; token authorizer, result cache ${authCacheTtlSeconds} s`));

let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  log(`gateway stopping (${signal})`);
  // In-flight requests are cut, as when API Gateway loses its integration.
  void gw.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
