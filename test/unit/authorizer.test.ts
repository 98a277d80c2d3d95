/**
 * The Lambda authorizer (lambdas/handlers/authorizer.ts) and the tokens table code
 * (lambdas/aws/token-store.ts), with DynamoDB mocked (aws-sdk-client-mock): decisions, which
 * calls happen (none for a malformed token), and that no token or secret ever reaches a log.
 */
import { inspect } from 'node:util';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';

Object.assign(process.env, {
  TOKENS_TABLE_NAME: 'tokens',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  // Everything the logger would write, so the "never logged" checks see it all.
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
delete process.env.POWERTOOLS_DEV;

const ddb = mockClient(DynamoDBDocumentClient);
const { handler } = await import('../../lambdas/handlers/authorizer.js');
const { authorizerHandler } = await import('../../lambdas/http/authorizer.js');
const { authConfig, resetDefaultAuthDeps } = await import('../../lambdas/service/authorize.js');
const { TokenStore } = await import('../../lambdas/aws/token-store.js');
const { documentClient } = await import('../../lambdas/aws/clients.js');
const { newToken, tokenRecord } = await import('../../lambdas/core/tokens.js');
const { logger } = await import('../../lambdas/observability.js');

const alice = newToken();
const aliceRow = tokenRecord(alice, 'alice', new Date('2026-01-01T00:00:00Z'));

function event(authorization: string | undefined, over: Partial<APIGatewayRequestAuthorizerEventV2> = {}): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:000000000000:api/$default/POST/upload/init',
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: 'POST /upload/init',
    rawPath: '/upload/init',
    rawQueryString: '',
    cookies: [],
    headers: authorization === undefined ? {} : { authorization },
    requestContext: { http: { method: 'POST', path: '/upload/init', sourceIp: '192.0.2.1' } } as never,
    ...over,
  };
}

/** Everything written to stdout/stderr and every argument given to the logger during `fn`. */
async function captureLogs(fn: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((c: unknown) => (chunks.push(String(c)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((c: unknown) => (chunks.push(String(c)), true)),
    ...(['debug', 'info', 'warn', 'error', 'critical'] as const).map((m) =>
      jest.spyOn(logger, m).mockImplementation((...args: unknown[]) => {
        chunks.push(inspect(args, { depth: 10 }));
      }),
    ),
  ];
  try {
    await fn().catch(() => undefined);
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return chunks.join('\n');
}

beforeEach(() => {
  ddb.reset();
  resetDefaultAuthDeps();
});

describe('authorizer decisions', () => {
  test('a valid token: authorized, the owner and token id in the context; one strongly consistent GetItem', async () => {
    ddb.on(GetCommand).resolves({ Item: aliceRow });
    await expect(handler(event(`Bearer ${alice.token}`))).resolves.toEqual({
      isAuthorized: true,
      context: { owner: 'alice', token_id: alice.tokenId },
    });
    const calls = ddb.commandCalls(GetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ TableName: 'tokens', Key: { token_id: alice.tokenId }, ConsistentRead: true });
  });

  test('the identity source is read first; the header is the fallback', async () => {
    ddb.on(GetCommand).resolves({ Item: aliceRow });
    const viaHeader = event(undefined, { headers: { Authorization: `bearer ${alice.token}` } });
    await expect(handler(viaHeader)).resolves.toMatchObject({ isAuthorized: true });
  });

  test.each([
    ['no header', undefined],
    ['empty', ''],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['no scheme', alice.token],
    ['garbage', 'Bearer nope'],
    ['a JWT', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig'],
    ['truncated token', `Bearer ${alice.token.slice(0, -1)}`],
    ['two tokens', `Bearer ${alice.token} ${alice.token}`],
  ])('%s: refused without any database call', async (_, authorization) => {
    await expect(handler(event(authorization))).resolves.toEqual({ isAuthorized: false });
    expect(ddb.calls()).toHaveLength(0);
  });

  test.each([
    ['unknown id', undefined],
    ['wrong secret', { ...aliceRow, secret_hash: newToken().secretHash }],
    ['revoked', { ...aliceRow, revoked_at: '2026-02-01T00:00:00Z' }],
    ['expired', { ...aliceRow, expires_at: '2026-02-01T00:00:00Z' }],
  ])('%s: refused after the lookup', async (_, item) => {
    ddb.on(GetCommand).resolves({ Item: item });
    await expect(handler(event(`Bearer ${alice.token}`))).resolves.toEqual({ isAuthorized: false });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  test('a table failure is an error (API Gateway: 500), never a pass, and says nothing of the cause', async () => {
    ddb.on(GetCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'InternalServerError' }));
    await expect(handler(event(`Bearer ${alice.token}`))).rejects.toThrow(/^authorizer failed$/);
  });

  test('without TOKENS_TABLE_NAME it fails closed', async () => {
    expect(() => authConfig({})).toThrow(/TOKENS_TABLE_NAME is not set/);
    const h = authorizerHandler(() => {
      throw new Error('invalid configuration: TOKENS_TABLE_NAME is not set');
    });
    await expect(h(event(`Bearer ${alice.token}`))).rejects.toThrow();
  });
});

describe('no token or secret in any log', () => {
  const scenarios: Array<[string, string, () => void]> = [
    ['valid', `Bearer ${alice.token}`, () => ddb.on(GetCommand).resolves({ Item: aliceRow })],
    ['malformed', `Bearer ${alice.token}x`, () => undefined],
    ['unknown', `Bearer ${alice.token}`, () => ddb.on(GetCommand).resolves({})],
    ['wrong secret', `Bearer ${alice.token}`, () => ddb.on(GetCommand).resolves({ Item: { ...aliceRow, secret_hash: '0'.repeat(64) } })],
    ['revoked', `Bearer ${alice.token}`, () => ddb.on(GetCommand).resolves({ Item: { ...aliceRow, revoked_at: '2026-02-01T00:00:00Z' } })],
    ['table down', `Bearer ${alice.token}`, () => ddb.on(GetCommand).rejects(new Error('connect ECONNREFUSED'))],
  ];

  test.each(scenarios)('%s', async (name, authorization, setup) => {
    setup();
    const logs = await captureLogs(() => handler(event(authorization)));
    expect(logs).not.toContain(alice.token);
    expect(logs).not.toContain(alice.secret);
    expect(logs).not.toContain(alice.secretHash);
    expect(logs).not.toContain(authorization);
    if (name !== 'valid') {
      // Refusals and failures are logged (non-vacuous check): with the reason and the public id only.
      expect(logs).toMatch(/token refused|authorizer failed/);
      if (name !== 'malformed' && name !== 'table down') expect(logs).toContain(alice.tokenId);
    }
  });

  test('the logged refusal names reason, route and source ip', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...aliceRow, revoked_at: '2026-02-01T00:00:00Z' } });
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    await handler(event(`Bearer ${alice.token}`));
    expect(info).toHaveBeenCalledWith('token refused', {
      route: 'POST /upload/init',
      source_ip: '192.0.2.1',
      reason: 'revoked',
      token_id: alice.tokenId,
    });
    info.mockRestore();
  });
});

describe('TokenStore', () => {
  const store = () => new TokenStore(documentClient(), 'tokens');

  test('create never overwrites a row', async () => {
    ddb.on(PutCommand).resolves({});
    await store().create(aliceRow);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toEqual({
      TableName: 'tokens',
      Item: aliceRow,
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'token_id' },
    });
  });

  test('revoke: sets revoked_at and a TTL once; again -> already_revoked; unknown -> not_found', async () => {
    const now = new Date('2026-03-01T00:00:00Z');
    ddb.on(UpdateCommand).resolvesOnce({ Attributes: { ...aliceRow, revoked_at: now.toISOString(), ttl: 1 } });
    await expect(store().revoke(alice.tokenId, now)).resolves.toEqual({
      outcome: 'revoked',
      token: { token_id: alice.tokenId, owner: 'alice', created_at: aliceRow.created_at, revoked_at: now.toISOString() },
    });
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_exists(#pk) AND attribute_not_exists(revoked_at)');
    expect(input.ExpressionAttributeValues).toEqual({ ':now': now.toISOString(), ':ttl': Math.floor(now.getTime() / 1000) + 90 * 86400 });

    const failed = new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    ddb.on(UpdateCommand).rejects(failed);
    ddb.on(GetCommand).resolvesOnce({ Item: { ...aliceRow, revoked_at: '2026-02-01T00:00:00Z' } }).resolvesOnce({});
    await expect(store().revoke(alice.tokenId, now)).resolves.toMatchObject({ outcome: 'already_revoked', token: { revoked_at: '2026-02-01T00:00:00Z' } });
    await expect(store().revoke(alice.tokenId, now)).resolves.toEqual({ outcome: 'not_found' });
  });

  test('list pages through a Scan that never reads the hash, optionally filtered by owner', async () => {
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [{ token_id: 'bbbbbbbbbbbb', owner: 'bob', created_at: '2026-02-01T00:00:00Z' }], LastEvaluatedKey: { token_id: 'b' } })
      .resolvesOnce({ Items: [{ token_id: 'aaaaaaaaaaaa', owner: 'bob', created_at: '2026-01-01T00:00:00Z', secret_hash: 'x' }] });
    const list = await store().list({ owner: 'bob' });
    expect(list.map((t) => t.token_id)).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    // Even a hash the table returned is never passed on.
    expect(JSON.stringify(list)).not.toContain('secret_hash');
    const [first, second] = ddb.commandCalls(ScanCommand).map((c) => c.args[0].input);
    expect(Object.values(first!.ExpressionAttributeNames!)).not.toContain('secret_hash');
    expect(first!.FilterExpression).toBe('#a1 = :owner');
    expect(first!.ExpressionAttributeNames!['#a1']).toBe('owner');
    expect(first!.ExpressionAttributeValues).toEqual({ ':owner': 'bob' });
    expect(second!.ExclusiveStartKey).toEqual({ token_id: 'b' });
  });
});
