/**
 * `mpu-admin token create|revoke|list`: the operator's commands for API tokens. They talk to the
 * tokens table directly (never to the API), with the same code the authorizer uses
 * (contract/tokens.ts for the format, lambdas/core/tokens.ts for hashing and records,
 * lambdas/aws/token-store.ts for the table). They need AWS credentials, so they are not part of
 * the uploader `mpu`.
 *
 * Which table, first found wins (explicit flags beat discovered files):
 * 1. `--table NAME` (+ `--region`, else AWS_REGION): AWS, default credential chain
 * 2. `--outputs FILE` (`cdk deploy --outputs-file`; `--stack NAME` if it holds several stacks):
 *    its TokensTableName and Region; default credential chain
 * 3. the endpoints file (`--endpoints-file`, MPU_ENDPOINTS_FILE, or `.local/endpoints.json`
 *    found upwards from the working directory): `tokens_table`, `region` and, for the local
 *    cloud, `dynamodb_endpoint` and its keys
 *
 * A token is printed once, by `create`, on stdout (so `TOKEN=$(mpu-admin token create ...)` works).
 * Nothing else ever prints or stores it; the table holds the secret's SHA-256 only.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { OUTPUT_KEYS } from '../../contract/outputs.js';
import { TOKEN_ID_PATTERN, parseToken } from '../../contract/tokens.js';
import { isValidOwner, newToken, tokenRecord, tokenState } from '../../lambdas/core/tokens.js';
import { TokenStore, type TokenInfo } from '../../lambdas/aws/token-store.js';
import { documentClient } from '../../lambdas/aws/clients.js';
import { EXIT, MpuError, UsageError, findEndpointsFile, toMpuError, type Env } from '../../client/index.js';

export interface TokenIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Env;
  cwd: string;
}

export interface TableFlags {
  table?: string;
  region?: string;
  outputs?: string;
  stack?: string;
  endpointsFile?: string;
}

export interface TokensTableTarget {
  tableName: string;
  region: string;
  /** Local cloud only. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Where the table name came from, for messages. */
  source: string;
}

/** The CDK output holding the tokens table name. */
const TOKENS_TABLE_OUTPUT = OUTPUT_KEYS.tokensTableName;

function readJson(file: string, what: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${what} ${file} is not a JSON object`);
  return raw as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function resolveTokensTable(flags: TableFlags, env: Env, cwd: string): TokensTableTarget {
  const envRegion = str(env.AWS_REGION) ?? str(env.AWS_DEFAULT_REGION);
  const needRegion = (region: string | undefined, source: string): string => {
    if (!region) throw new UsageError(`no AWS region for the tokens table from ${source}: pass --region or set AWS_REGION`);
    return region;
  };

  if (flags.table) {
    return { tableName: flags.table, region: needRegion(flags.region ?? envRegion, '--table'), source: '--table' };
  }

  if (flags.outputs) {
    const file = resolve(cwd, flags.outputs);
    const all = readJson(file, 'CDK outputs file');
    const stacks = Object.entries(all).filter(
      ([name, o]) => typeof o === 'object' && o !== null && (flags.stack ? name === flags.stack : TOKENS_TABLE_OUTPUT in o),
    );
    if (stacks.length !== 1) {
      throw new UsageError(
        `${file}: expected one stack with ${TOKENS_TABLE_OUTPUT}${flags.stack ? ` named ${flags.stack}` : ''}, ` +
          `found ${stacks.map(([n]) => n).join(', ') || 'none'}${stacks.length > 1 ? ' (pass --stack NAME)' : ''}`,
      );
    }
    const [stackName, o] = stacks[0]! as [string, Record<string, unknown>];
    const tableName = str(o[TOKENS_TABLE_OUTPUT]);
    if (!tableName) throw new UsageError(`${file}: stack ${stackName} has no ${TOKENS_TABLE_OUTPUT} output (token auth off, e.g. a JWT deployment?)`);
    const source = `${file} (${stackName})`;
    return { tableName, region: needRegion(flags.region ?? str(o.Region) ?? envRegion, source), source };
  }

  const endpointsFile = flags.endpointsFile ? resolve(cwd, flags.endpointsFile) : str(env.MPU_ENDPOINTS_FILE) ?? findEndpointsFile(cwd);
  if (endpointsFile) {
    const e = readJson(endpointsFile, 'endpoints file');
    const tableName = str(e.tokens_table);
    if (!tableName) throw new UsageError(`endpoints file ${endpointsFile} names no tokens_table`);
    const endpoint = str(e.dynamodb_endpoint);
    const accessKeyId = str(e.access_key_id);
    const secretAccessKey = str(e.secret_access_key);
    return {
      tableName,
      region: needRegion(flags.region ?? str(e.region) ?? envRegion, endpointsFile),
      ...(endpoint ? { endpoint } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
      source: endpointsFile,
    };
  }

  throw new UsageError(
    'no tokens table: pass --table NAME (AWS credentials from the usual chain), --outputs cdk-outputs.json, ' +
      'or start the local cloud (npm run local)',
  );
}

/** A TokenStore on the target table; `close` releases its sockets so the tool exits promptly. */
export function openTokenStore(t: TokensTableTarget): { store: TokenStore; close: () => void } {
  const db = documentClient(t.endpoint, { region: t.region, ...(t.credentials ? { credentials: t.credentials } : {}) });
  return { store: new TokenStore(db, t.tableName), close: () => db.destroy() };
}

/** `30d`, `12h`, `90m`, `3600s` (or plain seconds) -> seconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected a duration like 30d, 12h, 90m or 3600s');
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd'];
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('the duration must be positive');
  return n;
}

function ownerArg(v: string): string {
  if (!isValidOwner(v)) throw new InvalidArgumentError('letters, digits and . _ @ + - only, starting with a letter or digit, at most 128 characters');
  return v;
}

/** A token id, or a whole token (whose id is then used: revoking a leaked token by pasting it). */
function tokenIdArg(v: string): string {
  const id = parseToken(v.trim())?.tokenId ?? v.trim();
  if (!TOKEN_ID_PATTERN.test(id)) throw new InvalidArgumentError('expected a token id (12 characters a-z, 2-7), as `mpu-admin token list` shows');
  return id;
}

function withTableOptions(c: Command): Command {
  return c
    .option('--table <name>', 'tokens table on AWS (credentials from the usual chain)')
    .option('--region <region>', 'AWS region of the table (default: $AWS_REGION, or the outputs/endpoints file)')
    .option('--outputs <file>', 'CDK outputs file of the deployment (cdk deploy --outputs-file), for TokensTableName and Region')
    .option('--stack <name>', 'stack in the outputs file, if it holds several')
    .option('--endpoints-file <file>', 'local cloud endpoints file (default: $MPU_ENDPOINTS_FILE, then .local/endpoints.json)')
    .option('--json', 'print JSON');
}

function formatInfo(t: TokenInfo, now: Date): string {
  return [
    t.token_id,
    t.owner,
    tokenState(t, now),
    `created ${t.created_at}`,
    ...(t.revoked_at ? [`revoked ${t.revoked_at}`] : []),
    ...(t.expires_at ? [`expires ${t.expires_at}`] : []),
    ...(t.description ? [JSON.stringify(t.description)] : []),
  ].join('  ');
}

/** Adds `token ...` to the program; `setExit` receives each command's exit code. */
export function registerTokenCommands(program: Command, io: TokenIo, setExit: (code: number) => void): void {
  const token = program
    .command('token')
    .description('create, revoke and list API tokens (operator command: writes the tokens table with AWS or local-cloud credentials)');

  const run = async (flags: TableFlags & { json?: boolean }, fn: (store: TokenStore, target: TokensTableTarget) => Promise<void>) => {
    let close = () => undefined as void;
    try {
      const target = resolveTokensTable(flags, io.env, io.cwd);
      const opened = openTokenStore(target);
      close = opened.close;
      await fn(opened.store, target);
      setExit(EXIT.ok);
    } catch (err) {
      const e = describe(err);
      io.stderr.write(`mpu-admin: ${e.message}\n`);
      if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, error: e.code, message: e.message, exit_code: e.exitCode })}\n`);
      setExit(e.exitCode);
    } finally {
      close();
    }
  };

  withTableOptions(
    token
      .command('create')
      .description('create a token for an owner; it is printed once, on stdout, and cannot be shown again')
      .requiredOption('--owner <name>', 'who the token acts for: owns the sessions it creates', ownerArg)
      .option('--description <text>', 'note for operators, shown by `mpu-admin token list`')
      .option('--expires-in <duration>', 'end of validity, e.g. 90d or 12h (default: until revoked)', parseDuration),
  ).action(async (flags: TableFlags & { owner: string; description?: string; expiresIn?: number; json?: boolean }) => {
    await run(flags, async (store, target) => {
      const now = new Date();
      const created = newToken();
      const record = tokenRecord(created, flags.owner, now, {
        ...(flags.expiresIn ? { expiresAt: new Date(now.getTime() + flags.expiresIn * 1000) } : {}),
        ...(flags.description ? { description: flags.description } : {}),
      });
      await store.create(record);
      if (flags.json) {
        const { secret_hash: _hash, ttl: _ttl, ...shown } = record;
        io.stdout.write(`${JSON.stringify({ ok: true, token: created.token, ...shown })}\n`);
      } else {
        io.stdout.write(`${created.token}\n`);
      }
      io.stderr.write(
        `mpu-admin: created token ${record.token_id} for owner ${record.owner} in ${target.tableName}` +
          `${record.expires_at ? `, valid until ${record.expires_at}` : ''}.\n` +
          'mpu-admin: this is the only time the token is shown: store it now (e.g. MPU_TOKEN, or "token" in the config file).\n',
      );
    });
  });

  withTableOptions(
    token
      .command('revoke')
      .description('revoke a token for good (takes effect within the authorizer cache TTL, 5 minutes by default)')
      .argument('<token_id>', 'the token id `mpu-admin token list` shows (or the whole token)', tokenIdArg),
  ).action(async (tokenId: string, flags: TableFlags & { json?: boolean }) => {
    await run(flags, async (store) => {
      const r = await store.revoke(tokenId, new Date());
      if (r.outcome === 'not_found') throw new MpuError('token_not_found', `no token ${tokenId} in the tokens table`, EXIT.failure);
      if (flags.json) io.stdout.write(`${JSON.stringify({ ok: true, outcome: r.outcome, ...r.token })}\n`);
      else if (r.outcome === 'revoked') io.stdout.write(`revoked token ${r.token.token_id} (owner ${r.token.owner})\n`);
      else io.stdout.write(`token ${r.token.token_id} (owner ${r.token.owner}) was already revoked at ${r.token.revoked_at}\n`);
    });
  });

  withTableOptions(
    token
      .command('list')
      .description('list tokens: ids, owners, state and dates (never secrets)')
      .option('--owner <name>', 'only the tokens of this owner', ownerArg),
  ).action(async (flags: TableFlags & { owner?: string; json?: boolean }) => {
    await run(flags, async (store) => {
      const now = new Date();
      const tokens = await store.list(flags.owner !== undefined ? { owner: flags.owner } : {});
      if (flags.json) {
        for (const t of tokens) io.stdout.write(`${JSON.stringify({ ...t, state: tokenState(t, now) })}\n`);
      } else if (tokens.length === 0) {
        io.stdout.write(`no tokens${flags.owner ? ` of owner ${flags.owner}` : ''}\n`);
      } else {
        for (const t of tokens) io.stdout.write(`${formatInfo(t, now)}\n`);
      }
    });
  });
}

/** AWS SDK failures as messages an operator can act on. */
function describe(err: unknown): MpuError {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'ResourceNotFoundException') return new MpuError('table_not_found', `tokens table not found: ${e.message}`, EXIT.failure);
  if (e?.name === 'CredentialsProviderError') {
    return new MpuError('no_credentials', `no AWS credentials (${e.message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`, EXIT.unauthorized);
  }
  if (e?.name === 'AccessDeniedException' || e?.name === 'UnrecognizedClientException') {
    return new MpuError('access_denied', `the tokens table refused these AWS credentials: ${e.message}`, EXIT.unauthorized);
  }
  return toMpuError(err);
}
