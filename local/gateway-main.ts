/**
 * Entry point of the gateway child process (see startGatewayProcess in gateway.ts):
 * `node --import tsx local/gateway-main.ts`, configured only through its environment.
 *
 * Two modes:
 * - artifacts (MPU_GATEWAY_SPEC names a GatewaySpec file, written by cloud.ts): routes, authorizer
 *   and functions from the synthesized template; each function runs from its bundle in its own
 *   worker (runtime.ts) with its own environment. A loopback-only control server
 *   (MPU_GATEWAY_CONTROL_PORT) invokes a function directly, as EventBridge invokes the sweeper.
 * - from source (no spec; `--from-source`): the route table and the handler modules in this
 *   process, configured by this process's environment (lambdas/config.ts ENV names).
 *
 * Either way every route is behind the stack's authorizer with API Gateway's behaviour: 401
 * without `Authorization`, 403 when refused, the owner in `requestContext.authorizer.lambda`.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_AUTH_CACHE_TTL_SECONDS, lambdaAuthorizer, type AuthorizeHook } from '../lambdas/http/authorization.js';
import type { Router } from '../lambdas/http/router.js';
import { startControlServer } from './gateway-control.js';
import { templateAuthorizer, templateRouter, type GatewaySpec } from './gateway-artifacts.js';
import { GATEWAY_ENV, lambdaContext, startGatewayServer } from './gateway.js';
import { GATEWAY_CORS_ENV, parseGatewayCors } from './cors.js';
import { listeningLine, stampLine } from './gateway-log.js';
import { startRuntime, type LambdaRuntime } from './runtime.js';
import { localFunctionName } from './template-resolve.js';
import { jwtAuthorizer } from './jwt/authorizer.js';
import { jwtAuthFromEnv, jwtAuthorizerFromEnv } from './jwt/gateway-env.js';

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
const region = process.env.AWS_REGION ?? 'us-east-1';
const specFile = process.env[GATEWAY_ENV.spec];

let router: Router | undefined;
let authorize: AuthorizeHook | undefined;
let runtime: LambdaRuntime | undefined;
let mode: string;
// The template's CorsConfiguration, or from source the one cloud.ts derives from the settings.
let cors = parseGatewayCors(process.env[GATEWAY_CORS_ENV]);
if (specFile) {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as GatewaySpec;
  cors = spec.stack.apiCors ?? cors;
  runtime = startRuntime(
    {
      region: spec.region,
      functions: Object.values(spec.stack.functions).map((fn) => ({ fn, serviceEnv: spec.serviceEnv[fn.id] ?? {} })),
      log,
    },
    (id) => localFunctionName({ stackName: spec.stackName } as Parameters<typeof localFunctionName>[0], id),
  );
  router = templateRouter(spec.stack.routes, runtime);
  // A JWT authorizer's issuer, audience and identity source come from the template; only the key
  // cache time (tests of key rotation shorten it) may come from the environment (local/jwt/).
  const jwksCacheSeconds = jwtAuthFromEnv(process.env)?.jwksCacheSeconds;
  authorize = templateAuthorizer(spec.stack.authorizer, runtime, spec.region, (a) =>
    jwtAuthorizer({ issuer: a.issuer, audience: a.audience, identitySource: a.identitySource, ...(jwksCacheSeconds !== undefined ? { jwksCacheSeconds } : {}) }),
  );
  const a = spec.stack.authorizer;
  mode = `artifacts of ${spec.stackName} (${Object.keys(spec.stack.functions).length} functions, ${spec.stack.routes.length} routes); ${
    a ? (a.kind === 'lambda' ? `Lambda authorizer ${a.functionId}, result cache ${a.resultTtlSeconds} s` : `JWT authorizer ${a.issuer}`) : 'no authorizer'
  }`;
} else {
  const authCacheTtlSeconds = intFromEnv(GATEWAY_ENV.authCacheTtlSeconds) ?? DEFAULT_AUTH_CACHE_TTL_SECONDS;
  const jwt = jwtAuthorizerFromEnv(process.env);
  if (jwt) {
    authorize = jwt;
    mode = `from source; JWT authorizer ${jwtAuthFromEnv(process.env)?.issuer}`;
  } else {
    // Loaded only here: in artifact mode no handler source is imported into this process.
    const { handler: tokenAuthorizer } = await import('../lambdas/handlers/authorizer.js');
    authorize = lambdaAuthorizer({
      authorizer: tokenAuthorizer,
      cacheTtlSeconds: authCacheTtlSeconds,
      region,
      // API Gateway gives a Lambda authorizer at most 10 s.
      context: () => lambdaContext('authorizer', region, Date.now() + 10_000),
    });
    mode = `from source; token authorizer, result cache ${authCacheTtlSeconds} s`;
  }
}
const gw = await startGatewayServer({
  ...(port !== undefined ? { port } : {}),
  host: process.env[GATEWAY_ENV.host] || '127.0.0.1',
  ...(timeoutMs !== undefined ? { integrationTimeoutMs: timeoutMs } : {}),
  ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  ...(router ? { router } : {}),
  ...(authorize ? { authorize } : {}),
  ...(cors ? { cors } : {}),
  region,
  log,
});
log(listeningLine(gw.url, `pid ${process.pid}; ${mode}`));
const controlPort = intFromEnv(GATEWAY_ENV.controlPort);
const control = runtime && controlPort !== undefined ? await startControlServer({ port: controlPort, runtime, log }) : undefined;
if (control) log(`control: invoke functions at ${control.url}/invoke/<function id> (loopback only)`);

let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  log(`gateway stopping (${signal})`);
  // In-flight requests are cut, as when API Gateway loses its integration.
  void Promise.all([gw.close(), control?.close(), runtime?.close()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
