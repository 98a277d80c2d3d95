/**
 * The token check behind every API route: `Authorization: Bearer mpu_<id>_<secret>` -> the owner
 * the token acts for, or the reason it is refused. One implementation, used by the Lambda
 * authorizer (HTTP API), the Function URL router and the local gateway.
 */
import { documentClient } from '../aws/clients.js';
import { TokenStore } from '../aws/token-store.js';
import { ENV } from '../env.js';
import { bearerToken, parseToken } from '../../contract/tokens.js';
import { checkToken, type TokenCheck } from '../core/tokens.js';

export interface AuthDeps {
  tokens: Pick<TokenStore, 'get'>;
  now: () => Date;
}

/**
 * Format first: a value that is not `Bearer mpu_<12>_<43>` is refused without a database call.
 * Throws only when the table cannot be read (the caller answers 500, and nothing is cached).
 */
export async function authorizeBearer(authorization: string | undefined, deps: AuthDeps): Promise<TokenCheck> {
  if (authorization === undefined || authorization.trim() === '') return { ok: false, reason: 'missing' };
  const token = bearerToken(authorization);
  const parsed = token === undefined ? undefined : parseToken(token);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const record = await deps.tokens.get(parsed.tokenId);
  return checkToken(parsed, record, deps.now());
}

/** The authorizer's configuration: only the tokens table (and a local DynamoDB endpoint). */
export function authConfig(env: NodeJS.ProcessEnv = process.env): { tokensTableName: string; dynamodbEndpoint?: string } {
  const tokensTableName = env[ENV.tokensTableName];
  if (!tokensTableName) throw new Error(`invalid configuration: ${ENV.tokensTableName} is not set`);
  const endpoint = env[ENV.dynamodbEndpoint];
  return { tokensTableName, ...(endpoint ? { dynamodbEndpoint: endpoint } : {}) };
}

let cached: AuthDeps | undefined;

/** Built on first use and kept for the container's life (one DynamoDB client, warm connections). */
export function defaultAuthDeps(): AuthDeps {
  if (!cached) {
    const config = authConfig();
    cached = { tokens: new TokenStore(documentClient(config.dynamodbEndpoint), config.tokensTableName), now: () => new Date() };
  }
  return cached;
}

/** Tests: forget the cached dependencies. */
export function resetDefaultAuthDeps(): void {
  cached = undefined;
}
