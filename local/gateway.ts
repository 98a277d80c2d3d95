/**
 * The local stand-in for API Gateway (HTTP API, Lambda proxy integrations, payload 2.0).
 *
 * `startGatewayServer()` is the server itself (node:http on 127.0.0.1), calling the handlers
 * in-process through the router. `startGatewayProcess()` runs that server as a child process
 * (local/gateway-main.ts), so the local cloud can kill and restart "API Gateway + Lambda" on
 * the same port while S3 and DynamoDB keep running, as fault tests need.
 *
 * Quotas enforced like API Gateway: 10 MB request payload (413), 30 s integration timeout (503).
 * An `authorize` hook runs where API Gateway runs a Lambda authorizer (after route match, before
 * the integration). The gateway process (gateway-main.ts) installs the stack's own token
 * authorizer there (lambdas/handlers/authorizer.ts), wrapped like API Gateway wraps it
 * (lambdas/http/authorization.ts: 401/403, context, result cache).
 */
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { withAuthorizerContext, type AuthorizeDecision, type AuthorizeHook } from '../lambdas/http/authorization.js';
import { createRouter, type Router } from '../lambdas/http/router.js';
import { GATEWAY_DEFAULTS, GATEWAY_ERRORS, newRequestId, toEvent, toHttpResponse, type HttpResponse } from './gateway-event.js';
import { formatRequest } from './gateway-log.js';
import { corsResponseHeaders, preflightAnswer, type ApiCorsLike } from './cors.js';
import { answersHttp, assertRunning, startDaemon, waitFor, type Daemon } from './procs.js';

export type { AuthorizeDecision, AuthorizeHook };

export interface GatewayServerOptions {
  /** Default: a free port. */
  port?: number;
  host?: string;
  router?: Router;
  authorize?: AuthorizeHook;
  maxBodyBytes?: number;
  integrationTimeoutMs?: number;
  region?: string;
  /** The API's CorsConfiguration (local/cors.ts): preflights answered, CORS headers added. */
  cors?: ApiCorsLike;
  /** One line per request (gateway-log.ts formatRequest) and per handler failure. */
  log?: (line: string) => void;
}

export interface GatewayServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

class PayloadTooLarge extends Error {}

/** After a 413 we read and discard at most this much more before cutting the connection. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads the body, or rejects with PayloadTooLarge as soon as it passes `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new PayloadTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new PayloadTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => failed || resolve(Buffer.concat(chunks)));
    req.on('error', (e) => failed || reject(e));
  });
}

/** A Lambda context good enough for handlers and Powertools (names, request id, deadline). */
export function lambdaContext(routeId: string, region: string, deadline: number): Context {
  const functionName = `mpu-local-${routeId}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${GATEWAY_DEFAULTS.accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function send(res: ServerResponse, r: HttpResponse, requestId: string, extra: Array<[string, string]> = []): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of [...r.headers, ...extra]) {
    if (name === 'content-length' || name === 'transfer-encoding') continue; // we set the length
    const prev = headers[name];
    if (name === 'set-cookie') headers[name] = [...(Array.isArray(prev) ? prev : prev ? [prev] : []), value];
    else headers[name] = value;
  }
  headers['apigw-requestid'] = requestId;
  headers['content-length'] = String(r.body.length);
  res.writeHead(r.statusCode, headers);
  res.end(r.body);
}

/** The request listener, separate from the server so tests can mount it anywhere. */
export function gatewayListener(opts: GatewayServerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const router = opts.router ?? createRouter();
  const maxBody = opts.maxBodyBytes ?? GATEWAY_DEFAULTS.maxBodyBytes;
  const timeoutMs = opts.integrationTimeoutMs ?? GATEWAY_DEFAULTS.integrationTimeoutMs;
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const log = opts.log ?? (() => undefined);

  return (req, res) => {
    const started = Date.now();
    const done = (r: HttpResponse, requestId: string, extra?: Array<[string, string]>) => {
      send(res, r, requestId, [...(extra ?? []), ...corsResponseHeaders(opts.cors, req.headers.origin)]);
      log(formatRequest({ method: req.method ?? 'GET', url: req.url ?? '/', status: r.statusCode, ms: Date.now() - started, requestId }));
    };
    // API Gateway answers a preflight itself, before routes and authorizer.
    const preflight = preflightAnswer(opts.cors, req.method ?? 'GET', req.headers);
    if (preflight) {
      req.resume();
      return done({ ...preflight, body: Buffer.alloc(0) }, newRequestId());
    }
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req, maxBody);
      } catch (e) {
        if (e instanceof PayloadTooLarge) {
          // Answer now, then swallow the rest of the upload so the client can read the 413
          // instead of hitting a reset while it is still sending. (`Connection: close` would make
          // Node close the socket as soon as the response is out: EPIPE for a streaming client.)
          done(GATEWAY_ERRORS.tooLarge(), newRequestId());
          let drained = 0;
          req.on('data', (c: Buffer) => {
            drained += c.length;
            if (drained > DRAIN_LIMIT) req.socket.destroy();
          });
          req.resume();
          return;
        }
        res.destroy();
        return;
      }
      let event = toEvent({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        remoteAddress: req.socket.remoteAddress,
        localPort: req.socket.localPort,
        body,
      });
      const requestId = event.requestContext.requestId;
      const match = router.match(event.requestContext.http.method, event.rawPath);
      if (!match) return done(GATEWAY_ERRORS.notFound(), requestId);

      if (opts.authorize) {
        try {
          const decision = await opts.authorize(event, match);
          if (!decision.isAuthorized) {
            const refusal = decision.status === 401 ? GATEWAY_ERRORS.unauthorized() : GATEWAY_ERRORS.forbidden();
            // A JWT authorizer says why in `www-authenticate`, as API Gateway does.
            return done(refusal, requestId, decision.wwwAuthenticate ? [['www-authenticate', decision.wwwAuthenticate]] : []);
          }
          event = withAuthorizerContext(event, decision.context, decision.jwt);
        } catch (e) {
          log(`authorizer failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          return done(GATEWAY_ERRORS.internal(), requestId);
        }
      }

      const deadline = Date.now() + timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), timeoutMs);
      });
      try {
        // Like a real integration timeout, the handler keeps running; only the caller gives up.
        const result = await Promise.race([router.dispatch(event, match, lambdaContext(match.route.id, region, deadline)), timedOut]);
        if (result === 'timeout') {
          log(`${match.routeKey}: integration timed out after ${timeoutMs} ms`);
          return done(GATEWAY_ERRORS.unavailable(), requestId);
        }
        return done(toHttpResponse(result), requestId);
      } catch (e) {
        // A function's own stack (runtime.ts FunctionError) says where it failed; ours would not.
        const remote = (e as { remoteStack?: unknown }).remoteStack;
        log(`${match.routeKey}: handler failed: ${typeof remote === 'string' && remote ? remote : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return done(GATEWAY_ERRORS.internal(), requestId);
      } finally {
        clearTimeout(timer);
      }
    })();
  };
}

export async function startGatewayServer(opts: GatewayServerOptions = {}): Promise<GatewayServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer(gatewayListener(opts));
  // API Gateway keeps connections alive; so do we, but not forever.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The gateway as a child process

/** Environment names gateway-main.ts reads (besides the handlers' own configuration). */
export const GATEWAY_ENV = {
  port: 'MPU_GATEWAY_PORT',
  host: 'MPU_GATEWAY_HOST',
  timeoutMs: 'MPU_GATEWAY_TIMEOUT_MS',
  maxBodyBytes: 'MPU_GATEWAY_MAX_BODY_BYTES',
  /** From source only: authorizer result cache TTL in seconds (0: none); unset: API Gateway's default, 300. */
  authCacheTtlSeconds: 'MPU_GATEWAY_AUTH_CACHE_TTL_SECONDS',
  /** Artifacts: the GatewaySpec file (gateway-artifacts.ts); unset: run from source. */
  spec: 'MPU_GATEWAY_SPEC',
  /** Artifacts: port of the loopback control server (direct invocations). */
  controlPort: 'MPU_GATEWAY_CONTROL_PORT',
} as const;

export interface GatewayProcessOptions {
  port: number;
  /**
   * The process environment. From source it is the handlers' environment too (cloud.ts
   * handlerEnvironment()); with a spec the functions get theirs from the spec, not from here.
   */
  env: NodeJS.ProcessEnv;
  /** Artifacts: the GatewaySpec file; unset: run from source. */
  specFile?: string;
  /** Artifacts: port of the control server. */
  controlPort?: number;
  logFile: string;
  /** Dir for the `pids` file (stale reaping). */
  pidDir?: string;
  integrationTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Authorizer result cache TTL (seconds); default 300 like API Gateway, 0 turns caching off. */
  authCacheTtlSeconds?: number;
  startTimeoutMs?: number;
}

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly daemon: Daemon;
  /** SIGTERM by default; `SIGKILL` simulates a crash mid-request. */
  stop(opts?: { signal?: NodeJS.Signals }): Promise<void>;
}

const require = createRequire(import.meta.url);

/** `node --import tsx local/gateway-main.ts`: one process, so its pid is the one we signal. */
export function gatewayCommand(): { command: string; args: string[] } {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const main = join(fileURLToPath(new URL('.', import.meta.url)), 'gateway-main.ts');
  return { command: process.execPath, args: ['--import', tsx, main] };
}

export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  const url = `http://127.0.0.1:${o.port}`;
  const { command, args } = gatewayCommand();
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    [GATEWAY_ENV.port]: String(o.port),
    [GATEWAY_ENV.host]: '127.0.0.1',
    ...(o.integrationTimeoutMs ? { [GATEWAY_ENV.timeoutMs]: String(o.integrationTimeoutMs) } : {}),
    ...(o.maxBodyBytes ? { [GATEWAY_ENV.maxBodyBytes]: String(o.maxBodyBytes) } : {}),
    ...(o.authCacheTtlSeconds !== undefined ? { [GATEWAY_ENV.authCacheTtlSeconds]: String(o.authCacheTtlSeconds) } : {}),
    ...(o.specFile ? { [GATEWAY_ENV.spec]: o.specFile } : {}),
    ...(o.controlPort !== undefined ? { [GATEWAY_ENV.controlPort]: String(o.controlPort) } : {}),
  };
  const daemon = startDaemon({ name: 'gateway', command, args, env, logFile: o.logFile, ...(o.pidDir ? { pidDir: o.pidDir } : {}) });
  try {
    await waitFor('the gateway to answer', () => answersHttp(`${url}/`), {
      timeoutMs: o.startTimeoutMs ?? 30_000,
      intervalMs: 50,
      check: () => assertRunning(daemon),
    });
  } catch (e) {
    await daemon.stop({ graceMs: 500 });
    throw new Error(`gateway failed to start: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    url,
    port: o.port,
    daemon,
    stop: ({ signal = 'SIGTERM' } = {}) => daemon.stop({ signal, graceMs: 2000 }),
  };
}
