/**
 * API Gateway's behaviour around a Lambda authorizer, as emulated for the local gateway and the
 * Function URL router (lambdas/http/authorization.ts): 404 before auth, 401 without identity,
 * 403 when refused, the context in requestContext.authorizer.lambda, result caching by identity
 * source, 500 on authorizer failure. Then the real Function URL entry (lambdas/handlers/router.ts)
 * with the real authorizer and handlers, DynamoDB and S3 mocked.
 */
import { request } from 'node:http';
import { mockClient } from 'aws-sdk-client-mock';
import { ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';

Object.assign(process.env, {
  TABLE_NAME: 'sessions',
  BUCKET_NAME: 'bucket',
  TOKENS_TABLE_NAME: 'tokens',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
delete process.env.AUTH_CACHE_TTL_SECONDS;

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const {
  AuthorizerCache,
  IDENTITY_SOURCE,
  authorizedRouter,
  authorizerEvent,
  identitySourceValues,
  lambdaAuthorizer,
  simpleDecision,
  withAuthorizerContext,
} = await import('../../lambdas/http/authorization.js');
const { createRouter, matchRoute } = await import('../../lambdas/http/router.js');
const { startGatewayServer } = await import('../../local/gateway.js');
const { toEvent } = await import('../../local/gateway-event.js');
const { newToken, tokenRecord } = await import('../../lambdas/core/tokens.js');
const { handler: routerEntry } = await import('../../lambdas/handlers/router.js');
const { handler: tokenAuthorizer } = await import('../../lambdas/handlers/authorizer.js');

type Router = ReturnType<typeof createRouter>;
type GatewayServer = Awaited<ReturnType<typeof startGatewayServer>>;

const SID = 'AbCdEfGhIjKlMnOpQrStUv';

function httpEvent(method: string, path: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const raw = Object.entries(headers).flat();
  return toEvent({ method, url: path, httpVersion: '1.1', rawHeaders: ['Host', 'api.example.com', ...raw], body: Buffer.alloc(0) });
}

/** A router whose routes answer with the event they got. */
function echoRouter(): Router {
  const echo = async (e: APIGatewayProxyEventV2) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(e) });
  const m = async () => ({ handler: echo });
  return createRouter({ init: m, parts: m, status: m, complete: m, abort: m });
}

/** A fake authorizer: `Bearer good-<owner>` is allowed, anything else refused; it records its events. */
function fakeAuthorizer() {
  const events: APIGatewayRequestAuthorizerEventV2[] = [];
  const fn = async (e: APIGatewayRequestAuthorizerEventV2) => {
    events.push(e);
    const m = /^Bearer good-(\w+)$/.exec(e.identitySource[0] ?? '');
    return m ? { isAuthorized: true, context: { owner: m[1], token_id: 'tid' } } : { isAuthorized: false };
  };
  return { fn, events };
}

describe('identity source and authorizer event', () => {
  test('the Authorization header, any case; missing or empty -> undefined (401)', () => {
    expect(IDENTITY_SOURCE).toEqual(['$request.header.Authorization']);
    expect(identitySourceValues(httpEvent('GET', '/', { AUTHORIZATION: 'Bearer x' }))).toEqual(['Bearer x']);
    expect(identitySourceValues(httpEvent('GET', '/'))).toBeUndefined();
    expect(identitySourceValues(httpEvent('GET', '/', { Authorization: '' }))).toBeUndefined();
    expect(identitySourceValues(httpEvent('GET', '/?k=v'), ['$request.querystring.k'])).toEqual(['v']);
    expect(() => identitySourceValues(httpEvent('GET', '/'), ['$context.x'])).toThrow(/unsupported/);
  });

  test('a payload 2.0 REQUEST event with the matched route, its ARN and the identity values', () => {
    const e = httpEvent('POST', `/upload/${SID}/parts?x=1`, { Authorization: 'Bearer t', 'Content-Type': 'application/json' });
    const a = authorizerEvent(e, matchRoute('POST', `/upload/${SID}/parts`)!, ['Bearer t'], 'eu-west-1');
    expect(a).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:eu-west-1:000000000000:mpulocal/$default/POST/upload/${SID}/parts`,
      identitySource: ['Bearer t'],
      routeKey: 'POST /upload/{session_id}/parts',
      rawPath: `/upload/${SID}/parts`,
      rawQueryString: 'x=1',
      queryStringParameters: { x: '1' },
      pathParameters: { session_id: SID },
      cookies: [],
    });
    expect(a.headers?.authorization).toBe('Bearer t');
    expect(a.requestContext.routeKey).toBe('POST /upload/{session_id}/parts');
  });

  test('simple responses: a boolean isAuthorized, an object context; anything else is a failure', () => {
    expect(simpleDecision({ isAuthorized: false, context: { owner: 'x' } })).toEqual({ isAuthorized: false, status: 403 });
    expect(simpleDecision({ isAuthorized: true })).toEqual({ isAuthorized: true, context: {} });
    expect(simpleDecision({ isAuthorized: true, context: { owner: 'a' } })).toEqual({ isAuthorized: true, context: { owner: 'a' } });
    for (const bad of [undefined, null, 'Allow', { isAuthorized: 'true' }, { principalId: 'x', policyDocument: {} }, { isAuthorized: true, context: 'x' }]) {
      expect(() => simpleDecision(bad)).toThrow();
    }
  });

  test('the route sees the authorizer context, replacing whatever the request carried', () => {
    const forged = { ...httpEvent('GET', '/'), requestContext: { ...httpEvent('GET', '/').requestContext, authorizer: { lambda: { owner: 'bob' }, iam: { userArn: 'x' } } } } as APIGatewayProxyEventV2;
    const e = withAuthorizerContext(forged, { owner: 'alice' }) as unknown as { requestContext: { authorizer: unknown } };
    expect(e.requestContext.authorizer).toEqual({ lambda: { owner: 'alice' } });
  });
});

describe('result cache', () => {
  test('entries live for the TTL; TTL 0 caches nothing; size is bounded, oldest out first', () => {
    let now = 0;
    const c = new AuthorizerCache(300, 2, () => now);
    c.set('a', { isAuthorized: true });
    now = 299_999;
    expect(c.get('a')).toEqual({ isAuthorized: true });
    now = 300_000;
    expect(c.get('a')).toBeUndefined();
    c.set('a', { isAuthorized: true });
    c.set('b', { isAuthorized: false });
    c.set('c', { isAuthorized: false });
    expect(c.size).toBe(2);
    expect(c.get('a')).toBeUndefined();
    const off = new AuthorizerCache(0);
    off.set('a', { isAuthorized: true });
    expect(off.get('a')).toBeUndefined();
    // Keys are digests: the header value itself is not kept.
    expect(AuthorizerCache.key(['Bearer secret-token'])).not.toContain('secret');
  });
});

describe('the local gateway with an authorizer (real HTTP)', () => {
  const servers: GatewayServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  async function gateway(authorize: NonNullable<Parameters<typeof startGatewayServer>[0]>['authorize']) {
    const gw = await startGatewayServer({ router: echoRouter(), authorize });
    servers.push(gw);
    return gw;
  }

  function send(gw: GatewayServer, method: string, path: string, authorization?: string): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: gw.port, method, path, headers: authorization === undefined ? {} : { authorization } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('404 for unknown routes before authorization; 401 without Authorization (authorizer not invoked)', async () => {
    const a = fakeAuthorizer();
    const gw = await gateway(lambdaAuthorizer({ authorizer: a.fn, cacheTtlSeconds: 300 }));
    expect(await send(gw, 'GET', '/nope', 'Bearer good-alice')).toEqual({ status: 404, body: { message: 'Not Found' } });
    expect(await send(gw, 'POST', '/upload/init')).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    expect(await send(gw, 'POST', '/upload/init', '')).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    expect(a.events).toHaveLength(0);
  });

  test('refused -> 403 {"message":"Forbidden"}; allowed -> the route with requestContext.authorizer.lambda', async () => {
    const a = fakeAuthorizer();
    const gw = await gateway(lambdaAuthorizer({ authorizer: a.fn, cacheTtlSeconds: 0 }));
    expect(await send(gw, 'GET', `/upload/${SID}/status`, 'Bearer bad')).toEqual({ status: 403, body: { message: 'Forbidden' } });
    const ok = await send(gw, 'GET', `/upload/${SID}/status`, 'Bearer good-alice');
    expect(ok.status).toBe(200);
    expect(ok.body.requestContext.authorizer).toEqual({ lambda: { owner: 'alice', token_id: 'tid' } });
    expect(ok.body.routeKey).toBe('GET /upload/{session_id}/status');
    // The authorizer got the real event: route, identity source, path parameters.
    expect(a.events[1]).toMatchObject({ type: 'REQUEST', routeKey: 'GET /upload/{session_id}/status', identitySource: ['Bearer good-alice'], pathParameters: { session_id: SID } });
  });

  test('answers are cached per Authorization value for the TTL, allow and deny alike', async () => {
    let now = 1_000_000;
    const a = fakeAuthorizer();
    const hook = lambdaAuthorizer({ authorizer: a.fn, cacheTtlSeconds: 300, now: () => now });
    const gw = await gateway(hook);
    for (let i = 0; i < 3; i++) expect((await send(gw, 'POST', '/upload/init', 'Bearer good-alice')).status).toBe(200);
    // Cached across routes too (API Gateway caches per authorizer and identity source).
    expect((await send(gw, 'DELETE', `/upload/${SID}`, 'Bearer good-alice')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(gw, 'POST', '/upload/init', 'Bearer bad')).status).toBe(403);
    expect((await send(gw, 'POST', '/upload/init', 'Bearer good-bob')).body.requestContext.authorizer.lambda.owner).toBe('bob');
    expect(a.events).toHaveLength(3);
    expect(hook.stats).toMatchObject({ invocations: 3, cacheHits: 4 });
    // After the TTL the authorizer is asked again.
    now += 300_000;
    await send(gw, 'POST', '/upload/init', 'Bearer good-alice');
    expect(a.events).toHaveLength(4);
  });

  test('TTL 0: every request asks the authorizer (a revoked token is refused at once)', async () => {
    let revoked = false;
    const calls: string[] = [];
    const hook = lambdaAuthorizer({
      authorizer: async (e) => {
        calls.push(e.identitySource[0]!);
        return { isAuthorized: !revoked, context: { owner: 'alice' } };
      },
      cacheTtlSeconds: 0,
    });
    const gw = await gateway(hook);
    expect((await send(gw, 'POST', '/upload/init', 'Bearer t')).status).toBe(200);
    revoked = true;
    expect((await send(gw, 'POST', '/upload/init', 'Bearer t')).status).toBe(403);
    expect(calls).toHaveLength(2);
  });

  test('an authorizer that throws or answers malformed -> 500, and nothing is cached', async () => {
    let fail = true;
    const hook = lambdaAuthorizer({
      authorizer: async () => {
        if (fail) throw new Error('table down');
        return { isAuthorized: true, context: { owner: 'alice' } };
      },
      cacheTtlSeconds: 300,
    });
    const gw = await gateway(hook);
    expect(await send(gw, 'POST', '/upload/init', 'Bearer t')).toEqual({ status: 500, body: { message: 'Internal Server Error' } });
    fail = false;
    expect((await send(gw, 'POST', '/upload/init', 'Bearer t')).status).toBe(200);
    const bad = await gateway(lambdaAuthorizer({ authorizer: async () => ({ principalId: 'x' }), cacheTtlSeconds: 0 }));
    expect((await send(bad, 'POST', '/upload/init', 'Bearer t')).status).toBe(500);
  });

  test('with the real token authorizer (DynamoDB mocked): the token owner reaches the route', async () => {
    ddb.reset();
    ddb.on(GetCommand, { TableName: 'tokens' }).resolves({});
    const t = newToken();
    ddb.on(GetCommand, { TableName: 'tokens', Key: { token_id: t.tokenId } }).resolves({ Item: tokenRecord(t, 'carol', new Date()) });
    const gw = await gateway(lambdaAuthorizer({ authorizer: tokenAuthorizer, cacheTtlSeconds: 0 }));
    const ok = await send(gw, 'POST', '/upload/init', `Bearer ${t.token}`);
    expect(ok.body.requestContext.authorizer.lambda).toEqual({ owner: 'carol', token_id: t.tokenId });
    expect((await send(gw, 'POST', '/upload/init', `Bearer ${newToken().token}`)).status).toBe(403);
  });
});

describe('authorizedRouter (what a Function URL entry does)', () => {
  test('404, 401, 403, 500 as API Gateway; allowed requests get the context', async () => {
    const a = fakeAuthorizer();
    const errors: unknown[] = [];
    const route = authorizedRouter(echoRouter(), lambdaAuthorizer({ authorizer: a.fn, cacheTtlSeconds: 0 }), (_m, e) => errors.push(e));
    const call = async (e: APIGatewayProxyEventV2) => (await route(e)) as APIGatewayProxyStructuredResultV2;
    expect((await call(httpEvent('GET', '/x', { Authorization: 'Bearer good-a' }))).statusCode).toBe(404);
    expect(await call(httpEvent('POST', '/upload/init'))).toMatchObject({ statusCode: 401, body: '{"message":"Unauthorized"}' });
    expect(await call(httpEvent('POST', '/upload/init', { Authorization: 'Bearer x' }))).toMatchObject({ statusCode: 403, body: '{"message":"Forbidden"}' });
    const ok = await call(httpEvent('POST', '/upload/init', { Authorization: 'Bearer good-alice' }));
    expect(JSON.parse(ok.body!).requestContext.authorizer).toEqual({ lambda: { owner: 'alice', token_id: 'tid' } });
    const failing = authorizedRouter(echoRouter(), async () => Promise.reject(new Error('x')), (_m, e) => errors.push(e));
    expect(await failing(httpEvent('POST', '/upload/init', { Authorization: 'Bearer good-alice' }))).toMatchObject({ statusCode: 500 });
    expect(errors).toHaveLength(1);
  });
});

describe('the Function URL entry (lambdas/handlers/router.ts): real authorizer, real handlers', () => {
  const session = (owner: string) => ({
    session_id: SID,
    owner,
    filename: 'a.bin',
    content_type: 'application/octet-stream',
    object_key: `uploads/${SID}/a.bin`,
    upload_id: 'u1',
    file_size: 10,
    chunk_size: 5 * 1024 * 1024,
    total_parts: 1,
    status: 'in_progress',
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    expires_at: new Date(Date.now() + 3600_000).toISOString(),
    ttl: 0,
  });

  function tokenFor(owner: string) {
    const t = newToken();
    ddb.on(GetCommand, { TableName: 'tokens', Key: { token_id: t.tokenId } }).resolves({ Item: tokenRecord(t, owner, new Date()) });
    return t.token;
  }

  const call = async (e: APIGatewayProxyEventV2) => (await routerEntry(e)) as APIGatewayProxyStructuredResultV2;

  beforeEach(() => {
    ddb.reset();
    s3.reset();
    ddb.on(GetCommand, { TableName: 'sessions' }).resolves({ Item: session('alice') });
    // Unknown token ids have no row.
    ddb.on(GetCommand, { TableName: 'tokens' }).resolves({});
    s3.on(ListPartsCommand).resolves({ Parts: [], IsTruncated: false });
  });

  test('no Authorization -> 401 and no database call; unknown route -> 404 first', async () => {
    expect(await call(httpEvent('GET', `/upload/${SID}/status`))).toMatchObject({ statusCode: 401 });
    expect(await call(httpEvent('GET', '/nope'))).toMatchObject({ statusCode: 404 });
    expect(ddb.calls()).toHaveLength(0);
  });

  test('a malformed token -> 403 without a database call; an unknown one -> 403 after one GetItem', async () => {
    expect(await call(httpEvent('GET', `/upload/${SID}/status`, { Authorization: 'Bearer mpu_nope' }))).toMatchObject({ statusCode: 403 });
    expect(ddb.calls()).toHaveLength(0);
    expect(await call(httpEvent('GET', `/upload/${SID}/status`, { Authorization: `Bearer ${newToken().token}` }))).toMatchObject({ statusCode: 403 });
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.TableName)).toEqual(['tokens']);
  });

  test("the owner's token reads the session; another owner's token gets the same 404 as a missing session", async () => {
    const own = await call(httpEvent('GET', `/upload/${SID}/status`, { Authorization: `Bearer ${tokenFor('alice')}` }));
    expect(own.statusCode).toBe(200);
    expect(JSON.parse(own.body!)).toMatchObject({ session_id: SID, status: 'in_progress' });
    const other = await call(httpEvent('GET', `/upload/${SID}/status`, { Authorization: `Bearer ${tokenFor('bob')}` }));
    expect(other.statusCode).toBe(404);
    expect(JSON.parse(other.body!).error).toBe('not_found');
  });

  test('a forged requestContext.authorizer is ignored: the identity is the token', async () => {
    const forged = httpEvent('GET', `/upload/${SID}/status`, { Authorization: `Bearer ${tokenFor('bob')}` });
    (forged.requestContext as unknown as Record<string, unknown>).authorizer = { lambda: { owner: 'alice' } };
    expect((await call(forged)).statusCode).toBe(404);
    const noToken = httpEvent('GET', `/upload/${SID}/status`);
    (noToken.requestContext as unknown as Record<string, unknown>).authorizer = { lambda: { owner: 'alice' } };
    expect((await call(noToken)).statusCode).toBe(401);
  });

  test('answers are cached in the container (default 300 s): one token lookup for repeated calls', async () => {
    const token = tokenFor('alice');
    for (let i = 0; i < 5; i++) {
      expect((await call(httpEvent('GET', `/upload/${SID}/status`, { Authorization: `Bearer ${token}` }))).statusCode).toBe(200);
    }
    expect(ddb.commandCalls(GetCommand).filter((c) => c.args[0].input.TableName === 'tokens')).toHaveLength(1);
  });

  test('a failing tokens table -> 500 {"message":"Internal Server Error"}, never the route', async () => {
    const t = newToken();
    ddb.on(GetCommand, { TableName: 'tokens', Key: { token_id: t.tokenId } }).rejects(new Error('down'));
    expect(await call(httpEvent('GET', `/upload/${SID}/status`, { Authorization: `Bearer ${t.token}` }))).toMatchObject({
      statusCode: 500,
      body: '{"message":"Internal Server Error"}',
    });
    expect(s3.calls()).toHaveLength(0);
  });
});
