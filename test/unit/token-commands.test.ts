/**
 * `mpu-admin token create|revoke|list` (ops/admin/token-commands.ts) through runAdmin, with DynamoDB
 * mocked: which table is used, what is stored (the hash, never the token), what is printed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { parseDuration, resolveTokensTable } from '../../ops/admin/token-commands.js';
import { EXIT } from '../../client/errors.js';
import { parseToken } from '../../contract/tokens.js';
import { runAdminCaptured } from './helpers/run-cli.js';

const ddb = mockClient(DynamoDBDocumentClient);

let dir: string;
let endpointsFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-token-cli-'));
  endpointsFile = join(dir, 'endpoints.json');
  writeFileSync(
    endpointsFile,
    JSON.stringify({
      api_url: 'http://127.0.0.1:9',
      region: 'us-east-1',
      tokens_table: 'local-tokens',
      dynamodb_endpoint: 'http://127.0.0.1:8000',
      access_key_id: 'LOCALKEY',
      secret_access_key: 'localsecret',
      token: 'mpu_aaaaaaaaaaaa_' + 'a'.repeat(43),
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => ddb.reset());

function cli(args: string[], env: Record<string, string> = {}) {
  return runAdminCaptured(args, { HOME: dir, MPU_ENDPOINTS_FILE: endpointsFile, ...env }, dir);
}

describe('which tokens table', () => {
  const outputs = (content: unknown) => {
    const f = join(dir, `outputs-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify(content));
    return f;
  };

  test('--table (+ --region or AWS_REGION): AWS with the default credential chain', () => {
    expect(resolveTokensTable({ table: 't', region: 'eu-west-1' }, { MPU_ENDPOINTS_FILE: endpointsFile }, dir)).toEqual({
      tableName: 't',
      region: 'eu-west-1',
      source: '--table',
    });
    expect(resolveTokensTable({ table: 't' }, { AWS_REGION: 'eu-central-1' }, dir).region).toBe('eu-central-1');
    expect(() => resolveTokensTable({ table: 't' }, {}, dir)).toThrow(/no AWS region/);
  });

  test('--outputs: TokensTableName and Region of the one stack that has it (or --stack)', () => {
    const one = outputs({ Mpu: { ApiUrl: 'https://x', TokensTableName: 'Mpu-Tokens', Region: 'eu-west-1' }, Other: { Foo: 'x' } });
    expect(resolveTokensTable({ outputs: one }, {}, dir)).toMatchObject({ tableName: 'Mpu-Tokens', region: 'eu-west-1' });
    expect(resolveTokensTable({ outputs: one, region: 'us-west-2' }, {}, dir).region).toBe('us-west-2');
    const two = outputs({ A: { TokensTableName: 'a', Region: 'r' }, B: { TokensTableName: 'b', Region: 'r' } });
    expect(() => resolveTokensTable({ outputs: two }, {}, dir)).toThrow(/pass --stack/);
    expect(resolveTokensTable({ outputs: two, stack: 'B' }, {}, dir).tableName).toBe('b');
    const jwt = outputs({ Mpu: { ApiUrl: 'https://x', Region: 'r' } });
    expect(() => resolveTokensTable({ outputs: jwt, stack: 'Mpu' }, {}, dir)).toThrow(/no TokensTableName/);
    expect(() => resolveTokensTable({ outputs: join(dir, 'missing.json') }, {}, dir)).toThrow(/cannot read CDK outputs/);
  });

  test('the endpoints file: local DynamoDB endpoint and keys; explicit flags win over it', () => {
    expect(resolveTokensTable({}, { MPU_ENDPOINTS_FILE: endpointsFile }, dir)).toEqual({
      tableName: 'local-tokens',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:8000',
      credentials: { accessKeyId: 'LOCALKEY', secretAccessKey: 'localsecret' },
      source: endpointsFile,
    });
    expect(resolveTokensTable({ endpointsFile }, {}, '/').tableName).toBe('local-tokens');
    expect(resolveTokensTable({ table: 'aws-tokens', region: 'r' }, { MPU_ENDPOINTS_FILE: endpointsFile }, dir).tableName).toBe('aws-tokens');
  });

  test('found upwards from the working directory as .local/endpoints.json', () => {
    const project = join(dir, 'project');
    mkdirSync(join(project, '.local'), { recursive: true });
    mkdirSync(join(project, 'sub', 'dir'), { recursive: true });
    writeFileSync(join(project, '.local', 'endpoints.json'), JSON.stringify({ region: 'r', tokens_table: 'found' }));
    expect(resolveTokensTable({}, {}, join(project, 'sub', 'dir'))).toMatchObject({ tableName: 'found', region: 'r' });
  });

  test('nothing configured: a usage error that says what to pass', async () => {
    expect(() => resolveTokensTable({}, {}, '/')).toThrow(/--table NAME.*--outputs.*npm run local/);
    const r = await cli(['token', 'list'], { MPU_ENDPOINTS_FILE: '' });
    // cwd has no .local/endpoints.json above it (tmpdir).
    expect(r.code).toBe(EXIT.usage);
  });

  test('durations', () => {
    expect(parseDuration('90d')).toBe(90 * 86400);
    expect(parseDuration('12h')).toBe(43200);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('3600')).toBe(3600);
    for (const bad of ['0', '1w', '-1d', 'soon', '']) expect(() => parseDuration(bad)).toThrow();
  });
});

describe('mpu-admin token create', () => {
  test('prints the token alone on stdout; stores only the SHA-256 of its secret', async () => {
    ddb.on(PutCommand).resolves({});
    const r = await cli(['token', 'create', '--owner', 'alice', '--description', 'laptop']);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    const parsed = parseToken(token)!;
    expect(parsed).toBeDefined();
    expect(r.stderr).toContain(`created token ${parsed.tokenId} for owner alice in local-tokens`);
    expect(r.stderr).toMatch(/only time the token is shown/);
    expect(r.stderr).not.toContain(parsed.secret);

    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input.TableName).toBe('local-tokens');
    expect(input.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(input.Item).toEqual({
      token_id: parsed.tokenId,
      owner: 'alice',
      secret_hash: createHash('sha256').update(parsed.secret).digest('hex'),
      created_at: expect.any(String),
      description: 'laptop',
    });
    expect(JSON.stringify(input)).not.toContain(parsed.secret);
  });

  test('--json: one object with the token, id, owner, dates; no hash', async () => {
    ddb.on(PutCommand).resolves({});
    const r = await cli(['token', 'create', '--owner', 'ci@example.com', '--expires-in', '1h', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(out).sort()).toEqual(['created_at', 'expires_at', 'ok', 'owner', 'token', 'token_id']);
    expect(parseToken(out.token!)?.tokenId).toBe(out.token_id);
    expect(Date.parse(out.expires_at!) - Date.parse(out.created_at!)).toBe(3600_000);
  });

  test('an invalid or missing owner is a usage error before any table call', async () => {
    for (const args of [['--owner', 'a b'], ['--owner', ''], []]) {
      const r = await cli(['token', 'create', ...args]);
      expect(r.code).toBe(EXIT.usage);
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  test('AWS failures are clear messages with exit codes', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }));
    const missing = await cli(['token', 'create', '--owner', 'alice']);
    expect(missing.code).toBe(EXIT.failure);
    expect(missing.stderr).toMatch(/tokens table not found/);
    expect(missing.stdout).toBe('');
    ddb.on(PutCommand).rejects(Object.assign(new Error('not authorized to perform: dynamodb:PutItem'), { name: 'AccessDeniedException' }));
    expect((await cli(['token', 'create', '--owner', 'alice'])).code).toBe(EXIT.unauthorized);
  });
});

describe('mpu-admin token revoke', () => {
  test('by id, or by the whole token (its id is used)', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { token_id: 'abcdefgh2345', owner: 'alice', created_at: 'c', revoked_at: 'r' } });
    const r = await cli(['token', 'revoke', 'abcdefgh2345']);
    expect([r.code, r.stdout]).toEqual([0, 'revoked token abcdefgh2345 (owner alice)\n']);
    const byToken = await cli(['token', 'revoke', `mpu_abcdefgh2345_${'x'.repeat(43)}`, '--json']);
    expect(byToken.code).toBe(0);
    expect(JSON.parse(byToken.stdout)).toMatchObject({ ok: true, outcome: 'revoked', token_id: 'abcdefgh2345' });
    expect(byToken.stdout).not.toContain('x'.repeat(43));
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key)).toEqual([{ token_id: 'abcdefgh2345' }, { token_id: 'abcdefgh2345' }]);
  });

  test('already revoked: exit 0 with the first time; unknown: exit 1; not an id: exit 2', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    ddb.on(GetCommand).resolvesOnce({ Item: { token_id: 'abcdefgh2345', owner: 'alice', created_at: 'c', revoked_at: '2026-01-01T00:00:00Z' } }).resolvesOnce({});
    const again = await cli(['token', 'revoke', 'abcdefgh2345']);
    expect([again.code, again.stdout]).toEqual([0, 'token abcdefgh2345 (owner alice) was already revoked at 2026-01-01T00:00:00Z\n']);
    const unknown = await cli(['token', 'revoke', 'abcdefgh2345']);
    expect(unknown.code).toBe(EXIT.failure);
    expect(unknown.stderr).toMatch(/no token abcdefgh2345/);
    expect((await cli(['token', 'revoke', 'ABC'])).code).toBe(EXIT.usage);
  });
});

describe('mpu-admin token list', () => {
  test('ids, owners, state and dates; never a hash; --owner filters', async () => {
    ddb.on(ScanCommand).resolves({
      Items: [
        { token_id: 'bbbbbbbbbbbb', owner: 'bob', created_at: '2026-02-01T00:00:00Z', revoked_at: '2026-03-01T00:00:00Z', secret_hash: 'f'.repeat(64) },
        { token_id: 'aaaaaaaaaaaa', owner: 'alice', created_at: '2026-01-01T00:00:00Z', description: 'ci' },
      ],
    });
    const r = await cli(['token', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'aaaaaaaaaaaa  alice  active  created 2026-01-01T00:00:00Z  "ci"\n' +
        'bbbbbbbbbbbb  bob  revoked  created 2026-02-01T00:00:00Z  revoked 2026-03-01T00:00:00Z\n',
    );
    const json = await cli(['token', 'list', '--owner', 'bob', '--json']);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ token_id: 'aaaaaaaaaaaa', owner: 'alice', created_at: '2026-01-01T00:00:00Z', description: 'ci', state: 'active' });
    expect(json.stdout).not.toContain('secret_hash');
    expect(json.stdout).not.toContain('f'.repeat(64));
    expect(ddb.commandCalls(ScanCommand)[1]!.args[0].input.ExpressionAttributeValues).toEqual({ ':owner': 'bob' });
  });

  test('an empty table says so', async () => {
    ddb.on(ScanCommand).resolves({ Items: [] });
    expect((await cli(['token', 'list', '--owner', 'nobody'])).stdout).toBe('no tokens of owner nobody\n');
  });
});

describe('mpu-admin', () => {
  test('holds the operator commands, not the uploader ones', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^\s+token\b/m);
    const upload = await cli(['upload', 'x.bin']);
    expect(upload.code).toBe(EXIT.usage);
    expect(upload.stderr).toMatch(/unknown command 'upload'/);
  });
});
