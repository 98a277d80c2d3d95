/**
 * local/iam/dynamo-front.ts with the real AWS SDK as the caller: signatures verified, calls mapped
 * to IAM actions (transactions item by item, indexes), refusals in DynamoDB's shape so the SDK
 * throws the right exception. The upstream is a recording stand-in for DynamoDB Local on
 * 127.0.0.1 (the e2e suite runs the front before the real one).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, QueryCommand, TransactWriteItemsCommand, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { requiredPermissions, UnmappedOperationError } from '../../local/iam/dynamo-actions.js';
import { startDynamoFront, type DynamoCallRecord, type DynamoFront } from '../../local/iam/dynamo-front.js';
import { makeIdentities, type FunctionIdentity } from '../../local/iam/identities.js';
import { parseAuthorization } from '../../local/iam/sigv4.js';
import type { PolicyStatement } from '../../local/template.js';

const REGION = 'us-east-1';
const T = (name: string) => `arn:aws:dynamodb:${REGION}:000000000000:table/${name}`;
const ADMIN = { accessKeyId: 'MPULOCALACCESSKEY001', secretAccessKey: 'admin-secret' };

let upstream: Server;
let forwarded: { target: string; body: string; authorization: string }[] = [];
let front: DynamoFront;
let calls: DynamoCallRecord[] = [];
let fns: Record<string, FunctionIdentity>;

const policy = (...s: PolicyStatement[]) => s;
const allow = (actions: string[], resources: string[]): PolicyStatement => ({ effect: 'Allow', actions, resources });

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      forwarded.push({ target: String(req.headers['x-amz-target']), body: Buffer.concat(chunks).toString(), authorization: String(req.headers.authorization) });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(String(req.headers['x-amz-target']).endsWith('ListTables') ? '{"TableNames":["x"]}' : '{}');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const identities = makeIdentities([
    { id: 'status', logicalId: 'StatusHandler', policy: policy(allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [T('sessions')])) },
    {
      id: 'sweep',
      logicalId: 'SweepHandler',
      policy: policy(allow(['dynamodb:UpdateItem'], [T('sessions')]), allow(['dynamodb:Query'], [`${T('sessions')}/index/open`]), {
        effect: 'Deny',
        actions: ['dynamodb:Update*'],
        resources: [T('tokens')],
      }),
    },
  ]);
  fns = Object.fromEntries(identities.map((i) => [i.functionId, i]));
  front = await startDynamoFront({
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    region: REGION,
    identities,
    adminAccessKeyIds: [ADMIN.accessKeyId],
    onCall: (r) => calls.push(r),
  });
});

afterAll(async () => {
  await front.stop();
  await new Promise<void>((r) => upstream.close(() => r()));
});

beforeEach(() => {
  forwarded = [];
  calls = [];
});

function client(credentials: { accessKeyId: string; secretAccessKey: string }): DynamoDBClient {
  return new DynamoDBClient({ endpoint: front.endpoint, region: REGION, credentials, maxAttempts: 1 });
}
const as = (fn: string) => client({ accessKeyId: fns[fn]!.accessKeyId, secretAccessKey: fns[fn]!.secretAccessKey });
const get = (table: string) => new GetItemCommand({ TableName: table, Key: { session_id: { S: 'a' } } });

test('an allowed call is forwarded unchanged and recorded', async () => {
  await as('status').send(get('sessions'));
  expect(forwarded).toHaveLength(1);
  expect(forwarded[0]!.target).toBe('DynamoDB_20120810.GetItem');
  expect(parseAuthorization(forwarded[0]!.authorization).accessKeyId).toBe(fns.status!.accessKeyId);
  expect(calls).toEqual([expect.objectContaining({ functionId: 'status', operation: 'GetItem', action: 'dynamodb:GetItem', resource: T('sessions'), decision: 'allow' })]);
});

test('a call the policy does not allow: AccessDeniedException in DynamoDB words, nothing forwarded', async () => {
  const err = (await as('sweep')
    .send(get('sessions'))
    .then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { $metadata: { httpStatusCode: number } };
  expect(err).toMatchObject({ name: 'AccessDeniedException' });
  expect(err.$metadata.httpStatusCode).toBe(400);
  expect(err.message).toBe(
    `User: arn:aws:sts::000000000000:assumed-role/SweepHandlerRole/SweepHandler is not authorized to perform: dynamodb:GetItem on resource: ${T('sessions')} because no identity-based policy allows the dynamodb:GetItem action`,
  );
  expect(forwarded).toHaveLength(0);
  expect(calls).toEqual([expect.objectContaining({ functionId: 'sweep', action: 'dynamodb:GetItem', decision: 'implicit-deny' })]);
});

test('an explicit Deny is named as one', async () => {
  const cmd = new TransactWriteItemsCommand({
    TransactItems: [{ Update: { TableName: 'tokens', Key: { token_id: { S: 't' } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } } }],
  });
  await expect(as('sweep').send(cmd)).rejects.toThrow(/because of an explicit deny in an identity-based policy/);
});

test('a transaction is checked item by item: one part not allowed refuses the whole call', async () => {
  const update = { TableName: 'sessions', Key: { session_id: { S: 'a' } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } };
  await as('status').send(new TransactWriteItemsCommand({ TransactItems: [{ Update: update }, { Update: { ...update, Key: { session_id: { S: 'b' } } } }] }));
  expect(forwarded).toHaveLength(1);
  const put = { Put: { TableName: 'sessions', Item: { session_id: { S: 'c' } } } };
  await expect(as('status').send(new TransactWriteItemsCommand({ TransactItems: [{ Update: update }, put] }))).rejects.toMatchObject({
    name: 'AccessDeniedException',
    message: expect.stringContaining('dynamodb:PutItem'),
  });
  expect(forwarded).toHaveLength(1);
  expect(calls.map((c) => `${c.action} ${c.decision}`)).toEqual([
    'dynamodb:UpdateItem allow',
    'dynamodb:UpdateItem allow',
    'dynamodb:UpdateItem allow',
    'dynamodb:PutItem implicit-deny',
  ]);
});

test('Query on an index is authorized on the index ARN', async () => {
  const q = (index?: string) =>
    new QueryCommand({ TableName: 'sessions', ...(index ? { IndexName: index } : {}), KeyConditionExpression: 'a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } });
  await as('sweep').send(q('open'));
  await expect(as('sweep').send(q())).rejects.toMatchObject({ name: 'AccessDeniedException' });
  await expect(as('sweep').send(q('other'))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(`${T('sessions')}/index/other`) });
  expect(forwarded).toHaveLength(1);
});

test('a forged or unknown key fails like AWS: UnrecognizedClientException / InvalidSignatureException', async () => {
  await expect(client({ accessKeyId: 'MPUFNNOTAKEYATALL000', secretAccessKey: 'x' }).send(get('sessions'))).rejects.toMatchObject({
    name: 'UnrecognizedClientException',
  });
  // status's key id with another secret: the signature cannot verify.
  await expect(client({ accessKeyId: fns.status!.accessKeyId, secretAccessKey: fns.sweep!.secretAccessKey }).send(get('sessions'))).rejects.toMatchObject({
    name: 'InvalidSignatureException',
  });
  expect(forwarded).toHaveLength(0);
  expect(calls).toHaveLength(0);
});

test('the administrator passes unchecked and unrecorded', async () => {
  await expect(client(ADMIN).send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: ['x'] });
  await client(ADMIN).send(new BatchWriteItemCommand({ RequestItems: { anything: [{ PutRequest: { Item: { a: { S: 'b' } } } }] } }));
  expect(forwarded).toHaveLength(2);
  expect(calls).toHaveLength(0);
});

describe('requiredPermissions', () => {
  test('every transaction part and batch table by its own action', () => {
    expect(
      requiredPermissions(
        'TransactWriteItems',
        { TransactItems: [{ Put: { TableName: 'a' } }, { Update: { TableName: 'b' } }, { Delete: { TableName: 'a' } }, { ConditionCheck: { TableName: 'c' } }] },
        REGION,
      ),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: T('a') },
      { action: 'dynamodb:UpdateItem', resource: T('b') },
      { action: 'dynamodb:DeleteItem', resource: T('a') },
      { action: 'dynamodb:ConditionCheckItem', resource: T('c') },
    ]);
    expect(requiredPermissions('TransactGetItems', { TransactItems: [{ Get: { TableName: 'a' } }] }, REGION)).toEqual([{ action: 'dynamodb:GetItem', resource: T('a') }]);
    expect(requiredPermissions('BatchWriteItem', { RequestItems: { a: [], b: [] } }, REGION)).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: T('a') },
      { action: 'dynamodb:BatchWriteItem', resource: T('b') },
    ]);
    expect(requiredPermissions('Scan', { TableName: 'a', IndexName: 'i' }, REGION)).toEqual([{ action: 'dynamodb:Scan', resource: `${T('a')}/index/i` }]);
    expect(requiredPermissions('GetItem', { TableName: T('x') }, REGION)).toEqual([{ action: 'dynamodb:GetItem', resource: T('x') }]);
  });

  test('what is not mapped is refused, not let through', () => {
    expect(() => requiredPermissions('ExecuteStatement', { Statement: 'SELECT * FROM a' }, REGION)).toThrow(UnmappedOperationError);
    expect(() => requiredPermissions('GetItem', {}, REGION)).toThrow(UnmappedOperationError);
    expect(() => requiredPermissions('TransactWriteItems', { TransactItems: [{ Put: { TableName: 'a' }, Update: { TableName: 'a' } }] }, REGION)).toThrow(
      UnmappedOperationError,
    );
  });
});
